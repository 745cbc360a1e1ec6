"""Follow-up questions rewritten by a trained model so that they stand on their own: "When did he
leave the station?" -> "When did Hamish Rourke leave the station?".

A MiniLM reads ``[CLS] question [SEP] item [SEP] item [SEP] ...`` (the history's items, oldest
first), once, and its heads say
- for each question word (its first word piece), and for the [SEP] after the question (the end of
  the question), a tag: keep it, replace it, replace it with the span and "'s", put the span in
  before it, or put the span and "'s" in before it (``TAGS``);
- for each history word (its first word piece), how likely the span that goes in starts and ends
  there, against [CLS], which stands for "nothing in the history fits" (as an extractive reader);
- on [CLS], ``needs_history``: the probability that the question cannot be understood without the
  conversation.
The rewrite puts the best history span (within one item, at most ``MAX_SPAN_WORDS`` words, with the
history's casing) in place of the run of replaced question words, or at the insertion point. When
no question word is tagged for an edit, or "nothing fits" scores above every span, the question
stays as typed. No word list or grammar is involved: what goes where is what the model learnt from
people's rewrites (CANARD). The model, run by onnxruntime, and its training record ship in
``qa/models/`` (``training/train_resolver.py`` makes them); no torch at query time.

``history`` is CANARD's format: optionally a document title and a section title, then the
earlier questions and answers, alternating, oldest first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.models import MODELS_DIR, file_sha256, read_record

MODEL_PATH = MODELS_DIR / "resolver.onnx"
RECORD_PATH = MODELS_DIR / "resolver.json"
#: Word pieces read per question + history; older turns are dropped first.
MAX_TOKENS = 256
#: The longest question and the longest history item read, in word pieces (a long answer is cut).
MAX_QUESTION_TOKENS = 48
MAX_ITEM_TOKENS = 96
#: History items always kept, whatever the length of the conversation (the titles, when given).
KEPT_FIRST_ITEMS = 2
#: The question-side tags, in the order of the model's tag outputs.
TAGS = ("keep", "replace", "replace_possessive", "insert", "insert_possessive")
#: The longest span put into a question, in words.
MAX_SPAN_WORDS = 8


@dataclass(frozen=True)
class Resolution:
    """A question as typed and as it should be asked on its own."""

    question: str  # as typed
    resolved: str  # the question as it should be asked on its own (== question when no history is needed)
    added: list[str]  # the words put in (the history span's words, and "'s" when it went in with one)
    needs_history: float  # probability that the question cannot be understood without history

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "resolved": self.resolved,
            "added": list(self.added),
            "needs_history": round(self.needs_history, 4),
        }


@dataclass(frozen=True)
class Word:
    """One word as the model reads it: ``text[start:end]`` (the question, or history item
    ``item``), whose first word piece is at ``token`` in the model's input."""

    item: int  # -1: the question
    start: int
    end: int
    token: int


@dataclass(frozen=True)
class EncodedTurn:
    ids: list[int]
    type_ids: list[int]
    question: list[Word]  # the question's words
    end_token: int  # the [SEP] after the question: "at the end of the question"
    words: list[Word]  # the history's words


@dataclass(frozen=True)
class Edit:
    """What the rewrite does: question words ``[first, last]`` replaced by ``span`` (``last <
    first``: ``span`` put in before question word ``first``; ``first == len(question words)``: at the
    end), followed by "'s" when ``possessive``."""

    first: int
    last: int
    possessive: bool
    span: tuple[int, int]  # the history words (indices into ``EncodedTurn.words``), first and last


def load_tokenizer():
    """The bundled MiniLM's word-piece tokenizer (the reader's), without padding or truncation."""
    from tokenizers import Tokenizer

    from embeddings.model import model_dir

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def split_words(tokenizer, text: str) -> list[tuple[str, int, int]]:
    """The words of ``text`` as the tokenizer splits them (whitespace and punctuation), those
    with a letter or digit: ``(word, start, end)``."""
    return [(w, s, e) for w, (s, e) in tokenizer.pre_tokenizer.pre_tokenize_str(text) if any(c.isalnum() for c in w)]


def _words(text: str, word_ids: list, offsets: list, base: int, item: int) -> list[Word]:
    """The words (with a letter or digit) of ``text`` from its encoding, the first at ``base``."""
    spans: dict[int, list[int]] = {}
    for t, (w, (s, end)) in enumerate(zip(word_ids, offsets, strict=True)):
        if w is None:
            continue
        if w not in spans:
            spans[w] = [base + t, s, end]
        else:
            spans[w][2] = end
    return [Word(item, s, end, token) for token, s, end in spans.values() if any(c.isalnum() for c in text[s:end])]


def _whole_words(e, limit: int) -> int:
    """How many of encoding ``e``'s word pieces to read, at most ``limit``, without cutting a word."""
    n = min(len(e.ids), limit)
    if n < len(e.ids) and n and e.word_ids[n] == e.word_ids[n - 1]:
        last = e.word_ids[n - 1]  # a word cut in two is not read
        while n and e.word_ids[n - 1] == last:
            n -= 1
    return n


def encode_turn(tokenizer, question: str, history: list[str]) -> EncodedTurn:
    """The model's input for one turn and where each question and history word is in it.

    The first ``KEPT_FIRST_ITEMS`` items are always read; the others from the newest back while
    they fit in ``MAX_TOKENS``. Each item is cut to ``MAX_ITEM_TOKENS`` word pieces."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    q = tokenizer.encode(question, add_special_tokens=False)
    nq = _whole_words(q, MAX_QUESTION_TOKENS)
    question_words = _words(question, q.word_ids[:nq], q.offsets[:nq], 1, -1)
    ids = [cls, *q.ids[:nq], sep]
    end_token = len(ids) - 1
    budget = MAX_TOKENS - len(ids)
    encoded = [tokenizer.encode(item, add_special_tokens=False) for item in history]
    sizes = [min(len(e.ids), MAX_ITEM_TOKENS) + 1 for e in encoded]
    kept: list[int] = []
    for i in list(range(min(KEPT_FIRST_ITEMS, len(history)))) + list(range(len(history) - 1, KEPT_FIRST_ITEMS - 1, -1)):
        if sizes[i] <= budget:
            kept.append(i)
            budget -= sizes[i]
        elif i >= KEPT_FIRST_ITEMS:
            break
    type_ids = [0] * len(ids)
    words: list[Word] = []
    for i in sorted(kept):
        e = encoded[i]
        n = _whole_words(e, MAX_ITEM_TOKENS)
        words.extend(_words(history[i], e.word_ids[:n], e.offsets[:n], len(ids), i))
        ids.extend(e.ids[:n])
        ids.append(sep)
        type_ids.extend([1] * (n + 1))
    return EncodedTurn(ids, type_ids, question_words, end_token, words)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def best_span(words: list[Word], start: np.ndarray, end: np.ndarray) -> tuple[tuple[int, int], float] | None:
    """The history span (first and last word, within one item, at most ``MAX_SPAN_WORDS``) with the
    highest start + end score, and that score; None without history words."""
    best = None
    for a, wa in enumerate(words):
        for b in range(a, min(a + MAX_SPAN_WORDS, len(words))):
            if words[b].item != wa.item:
                break
            score = float(start[a] + end[b])
            if best is None or score > best[1]:
                best = ((a, b), score)
    return best


def decode(tags: np.ndarray, start: np.ndarray, end: np.ndarray, null: float, words: list[Word]) -> Edit | None:
    """The edit the model's outputs say, or None (the question stays as typed).

    ``tags``: tag probabilities per question word and a last row for the end of the question;
    ``start``/``end``: the history words' span scores; ``null``: the score of "nothing fits"."""
    span = best_span(words, start, end)
    if span is None or span[1] <= null or len(tags) == 0:
        return None
    edit = 1.0 - tags[:, 0]
    where = int(np.argmax(edit))
    if edit[where] <= 0.5:
        return None
    replace = tags[:, 1] + tags[:, 2]
    insert = tags[:, 3] + tags[:, 4]
    if replace[where] >= insert[where] and where < len(tags) - 1:
        first = last = where
        while first > 0 and replace[first - 1] > 0.5:
            first -= 1
        while last + 1 < len(tags) - 1 and replace[last + 1] > 0.5:
            last += 1
        possessive = tags[first : last + 1, 2].sum() > tags[first : last + 1, 1].sum()
        return Edit(first, last, bool(possessive), span[0])
    return Edit(where, where - 1, bool(tags[where, 4] > tags[where, 3]), span[0])


def rewrite(question: str, question_words: list[Word], history: list[str], words: list[Word], edit: Edit) -> str:
    """``question`` with the edit made: the span's text as the history has it."""
    a, b = (words[i] for i in edit.span)
    span = history[a.item][a.start : b.end] + ("'s" if edit.possessive else "")
    if edit.last >= edit.first:
        s, e = question_words[edit.first].start, question_words[edit.last].end
        return question[:s] + span + question[e:]
    if edit.first < len(question_words):
        s = question_words[edit.first].start
        return question[:s] + span + " " + question[s:]
    e = question_words[-1].end
    return question[:e] + " " + span + question[e:]


class Resolver:
    """The resolver model, run by onnxruntime (``threads``: its thread count, default all cores)."""

    def __init__(self, path: Path | str = MODEL_PATH, threads: int | None = None) -> None:
        import onnxruntime as ort

        self._tokenizer = load_tokenizer()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def outputs(self, question: str, history: list[str]) -> tuple[EncodedTurn, dict[str, np.ndarray]]:
        """The encoded turn and the model's outputs for it: ``tags`` (a row of tag probabilities per
        question word, and one for the end of the question), ``start`` and ``end`` (a score per
        history word), ``null`` (the score of "nothing in the history fits") and ``needs_history``."""
        turn = encode_turn(self._tokenizer, question, history)
        feeds = {
            "input_ids": np.array([turn.ids], dtype=np.int64),
            "attention_mask": np.ones((1, len(turn.ids)), dtype=np.int64),
            "token_type_ids": np.array([turn.type_ids], dtype=np.int64),
        }
        tag_logits, start_logits, end_logits, history_logit = (x[0] for x in self._session.run(None, feeds))
        q_tokens = [w.token for w in turn.question]
        tags = softmax(tag_logits[[*q_tokens, turn.end_token]]) if q_tokens else np.zeros((0, len(TAGS)))
        h_tokens = [w.token for w in turn.words]
        return turn, {
            "tags": tags,
            "start": start_logits[h_tokens],
            "end": end_logits[h_tokens],
            "null": float(start_logits[0] + end_logits[0]),
            "needs_history": float(sigmoid(history_logit)),
        }

    def resolve_turn(self, question: str, history: list[str]) -> Resolution:
        history = [h for h in (history or []) if isinstance(h, str)]
        turn, out = self.outputs(question, history)
        edit = decode(out["tags"], out["start"], out["end"], out["null"], turn.words) if turn.question else None
        if edit is None:
            return Resolution(question, question, [], out["needs_history"])
        resolved = rewrite(question, turn.question, history, turn.words, edit)
        a, b = (turn.words[i] for i in edit.span)
        added = [w for w, _, _ in split_words(self._tokenizer, history[a.item][a.start : b.end])]
        if edit.possessive:
            added.append("'s")
        return Resolution(question, resolved, added, out["needs_history"])


_resolver: Resolver | None = None
_lock = threading.Lock()


def default_resolver() -> Resolver:
    """The shipped model, loaded once (on first use) and shared."""
    global _resolver
    if _resolver is None:
        with _lock:
            if _resolver is None:
                _resolver = Resolver()
    return _resolver


def resolve_turn(question: str, history: list[str]) -> Resolution:
    """``question`` as it should be asked on its own, given the conversation ``history``
    (optionally a title and a section title, then earlier questions and answers, oldest first)."""
    return default_resolver().resolve_turn(question, history)


def resolve(question: str, history: list[str]) -> str:
    """The question as it should be asked on its own (unchanged when it needs no history)."""
    return resolve_turn(question, history).resolved


def model_sha256(path: Path = MODEL_PATH) -> str:
    return file_sha256(path)


def training_record() -> dict:
    return read_record(RECORD_PATH)

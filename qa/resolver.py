"""Follow-up questions rewritten by a trained model so that they stand on their own: "When did he
leave the station?" -> "When did Hamish Rourke leave the station?".

A MiniLM reads ``[CLS] question [SEP] item [SEP] item [SEP] ...`` (the history's items, oldest
first), once, and its heads say
- for each question word (its first word piece), and for the [SEP] after the question (the end of
  the question), a tag: keep it, replace it, replace it with a span and "'s", put a span in before
  it, or put a span and "'s" in before it (``TAGS``);
- for each of those places and each history word (its first word piece), how likely the span that
  goes in there starts and ends at that word, against [CLS], which stands for "nothing in the
  history fits" (an extractive reader whose question is the place in the question);
- on [CLS], ``needs_history``: the probability that the question cannot be understood without the
  conversation.

The rewrite (``decode``, ``rewrite``): when the probability that some question word is edited (one
minus the product of the words' "keep" probabilities) is above one half, the most likely place is
edited, and any other place whose own probability of an edit is above one half, at most
``MAX_EDITS``; a run of replaced words is one place. Each place gets its best history span (within
one item, at most ``MAX_SPAN_WORDS`` words, with the history's casing), unless "nothing fits" scores
higher, or the question has all the span's words already. Otherwise the question stays as typed.
No word list or grammar is involved: what goes where is what the model learnt from people's
rewrites (CANARD). The model, run by onnxruntime, and its training record ship in ``qa/models/``
(``training/train_resolver.py`` makes them); no torch at query time.

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
#: The most places of a question edited (the training labels have at most two).
MAX_EDITS = 2
#: The question is edited when the probability that some word is edited is above this; a second place
#: is edited when its own probability is above ``PLACE_EDITED``.
QUESTION_EDITED = 0.5
PLACE_EDITED = 0.5


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
    """One edit of the question: words ``[first, last]`` replaced by ``span`` (``last < first``:
    ``span`` put in before question word ``first``; ``first == len(question words)``: at the end),
    followed by "'s" when ``possessive``."""

    first: int
    last: int
    possessive: bool
    span: tuple[int, int]  # the history words (indices into ``EncodedTurn.words``), first and last


def load_tokenizer(path: Path | str | None = None):
    """The bundled MiniLM's word-piece tokenizer (the reader's), or the one in ``path`` (a model trained
    on another base), without padding or truncation."""
    from tokenizers import Tokenizer

    from embeddings.model import model_dir

    tokenizer = Tokenizer.from_file(str(path or model_dir() / "tokenizer.json"))
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
    if cls is None:  # MPNet's: <s> and </s>
        cls, sep = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
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
    if not words:
        return None
    items = np.array([w.item for w in words])
    best = None
    for length in range(min(MAX_SPAN_WORDS, len(words))):
        n = len(words) - length
        scores = np.where(items[:n] == items[length:], start[:n] + end[length:], -np.inf)
        a = int(np.argmax(scores))
        if best is None or scores[a] > best[1]:
            best = ((a, a + length), float(scores[a]))
    return best


def decode(tags: np.ndarray, start: np.ndarray, end: np.ndarray, words: list[Word]) -> list[Edit]:
    """The edits the model's outputs say, in question order (none: the question stays as typed).

    ``tags``: tag probabilities per question word and a last row for the end of the question;
    ``start``/``end``: for each of those places (rows), [CLS] ("nothing fits") and then each history
    word's span score."""
    n = len(tags) - 1  # question words; the last row is the end of the question
    edited = 1.0 - tags[:, 0]
    if not words or 1.0 - np.prod(tags[:, 0]) <= QUESTION_EDITED:
        return []
    replace = tags[:, 1] + tags[:, 2]
    insert = tags[:, 3] + tags[:, 4]
    taken: set[int] = set()
    edits: list[Edit] = []
    texts: set[tuple[int, int]] = set()
    for k, place in enumerate(np.argsort(-edited, kind="stable")):
        place = int(place)
        if (k and edited[place] <= PLACE_EDITED) or len(edits) == MAX_EDITS:
            break
        if place in taken:
            continue
        if place < n and replace[place] >= insert[place]:
            first = last = place
            while first > 0 and first - 1 not in taken and replace[first - 1] > 0.5:
                first -= 1
            while last + 1 < n and last + 1 not in taken and replace[last + 1] > 0.5:
                last += 1
            possessive = tags[first : last + 1, 2].sum() > tags[first : last + 1, 1].sum()
        else:
            first, last = place, place - 1
            possessive = tags[place, 4] > tags[place, 3]
        taken.update(range(first, max(first, last) + 1))
        span = best_span(words, start[first, 1:], end[first, 1:])
        if span is None or span[1] <= start[first, 0] + end[first, 0] or span[0] in texts:
            continue
        texts.add(span[0])
        edits.append(Edit(first, last, bool(possessive), span[0]))
    return sorted(edits, key=lambda e: e.first)


def rewrite(question: str, question_words: list[Word], history: list[str], words: list[Word], edits: list[Edit]) -> str:
    """``question`` with the edits made: each span's text as the history has it. Where the question has
    no place for the words, the rewrite marks them as context: before its first word they open it as
    its topic, after a colon ("Dorothy Day: Are there any other interesting aspects?"), where CANARD's
    people wrote "Besides …, "; after its last word they go in brackets ("What happened next (Hamish
    Rourke)?"), where the people wrote "with …" or "after …" (words the history lacks)."""
    for edit in sorted(edits, key=lambda e: e.first, reverse=True):
        a, b = (words[i] for i in edit.span)
        span = history[a.item][a.start : b.end] + ("'s" if edit.possessive else "")
        if edit.last >= edit.first:
            s, e = question_words[edit.first].start, question_words[edit.last].end
            question = question[:s] + span + question[e:]
        elif edit.first < len(question_words):
            s = question_words[edit.first].start
            question = question[:s] + span + (": " if edit.first == 0 else " ") + question[s:]
        else:
            e = question_words[-1].end
            question = question[:e] + " (" + span + ")" + question[e:]
    return question


class Resolver:
    """The resolver model, run by onnxruntime (``threads``: its thread count, default all cores). Its
    tokenizer is the reader's, or the ``tokenizer.json`` beside the model (one trained on another base)."""

    def __init__(self, path: Path | str = MODEL_PATH, threads: int | None = None, tokenizer=None) -> None:
        import onnxruntime as ort

        beside = Path(path).with_name("tokenizer.json")  # a model trained on another base has its own
        self._tokenizer = tokenizer or load_tokenizer(beside if beside.exists() else None)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}  # MPNet takes no token_type_ids

    def outputs(self, question: str, history: list[str]) -> tuple[EncodedTurn, dict[str, np.ndarray]]:
        """The encoded turn and the model's outputs for it: ``tags`` (a row of tag probabilities per
        question word, and one for the end of the question); ``start`` and ``end`` (a row for each of
        those places: the score of [CLS], "nothing fits", then of each history word); ``needs_history``."""
        turn = encode_turn(self._tokenizer, question, history)
        feeds = {
            "input_ids": np.array([turn.ids], dtype=np.int64),
            "attention_mask": np.ones((1, len(turn.ids)), dtype=np.int64),
        }
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([turn.type_ids], dtype=np.int64)
        tag_logits, start_logits, end_logits, history_logit = (x[0] for x in self._session.run(None, feeds))
        places = [w.token for w in turn.question] + [turn.end_token]
        columns = [0] + [w.token for w in turn.words]
        rows = np.array(places)[:, None]
        return turn, {
            "tags": softmax(tag_logits[places]),
            "start": start_logits[rows, columns],
            "end": end_logits[rows, columns],
            "needs_history": float(sigmoid(history_logit)),
        }

    def resolve_turn(self, question: str, history: list[str]) -> Resolution:
        history = [h for h in (history or []) if isinstance(h, str)]
        turn, out = self.outputs(question, history)
        edits = decode(out["tags"], out["start"], out["end"], turn.words) if turn.question else []
        typed = {question[w.start : w.end].lower() for w in turn.question}
        added, kept = [], []
        for edit in edits:
            a, b = (turn.words[i] for i in edit.span)
            span = [w for w, _, _ in split_words(self._tokenizer, history[a.item][a.start : b.end])]
            if all(w.lower() in typed for w in span):
                continue  # the question has these words already: the span adds nothing
            kept.append(edit)
            added += span + (["'s"] if edit.possessive else [])
        if not kept:
            return Resolution(question, question, [], out["needs_history"])
        edits = kept
        resolved = rewrite(question, turn.question, history, turn.words, edits)
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

"""Follow-up questions resolved by a trained model: which words of the conversation so far a
question needs to stand on its own (QuReTeC-style term classification, Voskarides et al. 2020).

A MiniLM reads ``[CLS] question [SEP] item [SEP] item [SEP] ...`` (the history's items, oldest
first) and scores each history word: add it to the question or not (its first word piece's
logit). A second head on [CLS] gives ``needs_history``: the probability that the question
cannot be understood without the conversation. The resolved question is the question followed
by the added words, in the order they first occur in the history, each once, with the
history's casing. The model, run by onnxruntime, and its training record ship in
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
#: A word is added when the model's probability for it is above this.
ADD_THRESHOLD = 0.5


@dataclass(frozen=True)
class Resolution:
    """A question as typed and as it should be asked on its own."""

    question: str  # as typed
    resolved: str  # the question as it should be asked on its own (== question when no history is needed)
    added: list[str]  # the history terms added, in the order they were added
    needs_history: float  # probability that the question cannot be understood without history

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "resolved": self.resolved,
            "added": list(self.added),
            "needs_history": round(self.needs_history, 4),
        }


@dataclass(frozen=True)
class HistoryWord:
    """One word of the history as the model reads it: ``history[item][start:end]``, whose first
    word piece is at ``token`` in the model's input."""

    item: int
    start: int
    end: int
    token: int


@dataclass(frozen=True)
class EncodedTurn:
    ids: list[int]
    type_ids: list[int]
    words: list[HistoryWord]


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


def encode_turn(tokenizer, question: str, history: list[str]) -> EncodedTurn:
    """The model's input for one turn and where each history word is in it.

    The first ``KEPT_FIRST_ITEMS`` items are always read; the others from the newest back while
    they fit in ``MAX_TOKENS``. Each item is cut to ``MAX_ITEM_TOKENS`` word pieces."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    q = tokenizer.encode(question, add_special_tokens=False)
    ids = [cls, *q.ids[:MAX_QUESTION_TOKENS], sep]
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
    words: list[HistoryWord] = []
    for i in sorted(kept):
        e = encoded[i]
        n = min(len(e.ids), MAX_ITEM_TOKENS)
        word_ids = e.word_ids[:n]
        offsets = e.offsets[:n]
        if n < len(e.ids) and n and e.word_ids[n] == word_ids[-1]:
            n_last = word_ids[-1]  # a word cut in two is not read
            while n and word_ids[n - 1] == n_last:
                n -= 1
            word_ids, offsets = word_ids[:n], offsets[:n]
        base = len(ids)
        spans: dict[int, list[int]] = {}
        for t, (w, (s, end)) in enumerate(zip(word_ids, offsets, strict=True)):
            if w is None:
                continue
            if w not in spans:
                spans[w] = [base + t, s, end]
            else:
                spans[w][2] = end
        for token, s, end in spans.values():
            if any(c.isalnum() for c in history[i][s:end]):
                words.append(HistoryWord(i, s, end, token))
        ids.extend(e.ids[:n])
        ids.append(sep)
        type_ids.extend([1] * (n + 1))
    return EncodedTurn(ids, type_ids, words)


def added_terms(
    question_words: set[str], history: list[str], words: list[HistoryWord], probabilities: np.ndarray, threshold: float
) -> list[str]:
    """The history words scored above ``threshold``, each once (lower-cased), in the order they
    first occur in the history, with that occurrence's casing; words already in the question
    are not added."""
    best: dict[str, float] = {}
    first: dict[str, tuple[int, int, str]] = {}
    for w, p in zip(words, probabilities, strict=True):
        text = history[w.item][w.start : w.end]
        key = text.lower()
        if key in question_words:
            continue
        best[key] = max(best.get(key, 0.0), float(p))
        if key not in first:
            first[key] = (w.item, w.start, text)
    chosen = [k for k in best if best[k] > threshold]
    chosen.sort(key=lambda k: first[k][:2])
    return [first[k][2] for k in chosen]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


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

    def scores(self, question: str, history: list[str]) -> tuple[EncodedTurn, np.ndarray, float]:
        """The encoded turn, each history word's probability of being added, and ``needs_history``."""
        turn = encode_turn(self._tokenizer, question, history)
        feeds = {
            "input_ids": np.array([turn.ids], dtype=np.int64),
            "attention_mask": np.ones((1, len(turn.ids)), dtype=np.int64),
            "token_type_ids": np.array([turn.type_ids], dtype=np.int64),
        }
        term_logits, history_logit = self._session.run(None, feeds)
        tokens = np.array([w.token for w in turn.words], dtype=np.int64)
        probabilities = sigmoid(term_logits[0][tokens]) if len(tokens) else np.zeros(0)
        return turn, probabilities, float(sigmoid(history_logit[0]))

    def resolve_turn(self, question: str, history: list[str], threshold: float = ADD_THRESHOLD) -> Resolution:
        history = [h for h in (history or []) if isinstance(h, str)]
        turn, probabilities, needs = self.scores(question, history)
        question_words = {w.lower() for w, _, _ in split_words(self._tokenizer, question)}
        added = added_terms(question_words, history, turn.words, probabilities, threshold)
        resolved = f"{question.rstrip()} {' '.join(added)}" if added else question
        return Resolution(question=question, resolved=resolved, added=added, needs_history=needs)


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

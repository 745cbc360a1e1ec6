"""Stage 2 of answering, the extractive reader: a MiniLM fine-tuned on SQuAD 1.1, run by onnxruntime.

A reader trained with context (the record's ``"context": true``) reads the candidate
sentence between its neighbours, ``[CLS] question [SEP] before [SEP] sentence [SEP] after [SEP]``;
an older one reads ``[CLS] question [SEP] sentence [SEP]``. Either way it scores every span of
the sentence alone (start logit + end logit), so the answer and its citation stay inside the
sentence; the [CLS] position's score is its "no answer" score. The model and its training
record ship in ``qa/models/`` (``training/train_reader.py`` makes them).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.models import MODELS_DIR, file_sha256, read_record

MODEL_PATH = MODELS_DIR / "reader.onnx"
RECORD_PATH = MODELS_DIR / "reader.json"
#: Word pieces read per question + sentence (p99 of SQuAD is 127); longer sentences are cut.
MAX_TOKENS = 192
#: The same for a context reader, which reads the sentence's neighbours too (cut from the end).
MAX_CONTEXT_TOKENS = 256
#: At most this many characters of each neighbour are read as context (cut at a space).
CONTEXT_CHARS = 200
#: Put between the context and the candidate sentence (the tokenizer reads it as the [SEP] token).
MARK = " [SEP] "
#: The longest span the reader may return, in word pieces.
MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class ReadSpan:
    """The reader's best span of one sentence: ``sentence[start:end]``.

    ``score`` is its start + end logit and ``null`` the [CLS] (no answer) score, so
    ``score - null`` says how much more the reader believes the span than no answer."""

    start: int
    end: int
    score: float
    null: float

    @property
    def margin(self) -> float:
        return self.score - self.null


def reading_text(sentence: str, before: str = "", after: str = "") -> tuple[str, int]:
    """The second segment a context reader reads: ``before [SEP] sentence [SEP] after``, each
    neighbour cut to ``CONTEXT_CHARS`` at a space; and where ``sentence`` starts in it."""
    before, after = " ".join(before.split()), " ".join(after.split())
    if len(before) > CONTEXT_CHARS:
        cut = before[-CONTEXT_CHARS:]
        before = cut[cut.find(" ") + 1 :] if " " in cut else cut
    if len(after) > CONTEXT_CHARS:
        cut = after[:CONTEXT_CHARS]
        after = cut[: cut.rfind(" ")] if " " in cut else cut
    head = (before + MARK).lstrip()
    return f"{head}{sentence}{MARK.rstrip()} {after}".rstrip(), len(head)


def model_sha256(path: Path = MODEL_PATH) -> str:
    return file_sha256(path)


def training_record() -> dict:
    return read_record(RECORD_PATH)


def tokenizer_path(record: dict) -> Path:
    """The reader's tokenizer: the file its record names, shipped beside it, or (for the MiniLM
    reader) the bundled sentence encoder's."""
    if record.get("tokenizer"):
        return MODELS_DIR / record["tokenizer"]
    from embeddings.model import model_dir

    return model_dir() / "tokenizer.json"


class Reader:
    """Reads question/sentence pairs and returns each sentence's best answer span.

    ``threads`` is onnxruntime's thread count for one model run (default: all cores);
    ``workers`` runs that many pairs at once (onnxruntime runs a session from several threads).
    For a few short sentences, one thread a run and a run per core is the fastest."""

    def __init__(
        self,
        path: Path | str = MODEL_PATH,
        threads: int | None = None,
        workers: int = 1,
        context: bool | None = None,
        tokenizer: Path | str | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        record = training_record() if Path(path) == MODEL_PATH else {}
        #: Whether the model was trained to read each sentence between its neighbours.
        self.context = bool(record.get("context")) if context is None else context
        self._tokenizer = Tokenizer.from_file(str(tokenizer or tokenizer_path(record)))
        self._tokenizer.enable_truncation(MAX_CONTEXT_TOKENS if self.context else MAX_TOKENS, strategy="longest_first")
        self._tokenizer.no_padding()  # the packaged tokenizer.json pads to 128
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}  # MPNet takes no token_type_ids
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="reader") if workers > 1 else None

    def read(
        self, question: str, sentences: list[str], context: list[tuple[str, str]] | None = None
    ) -> list[ReadSpan]:
        """The best span of each sentence for ``question``. ``context`` gives each sentence's
        neighbours (the text before it, the text after it), read by a context reader and ignored
        by one without; the span stays inside the sentence, and its offsets are the sentence's own."""
        return self.read_pairs([question] * len(sentences), sentences, context)

    def read_pairs(
        self, questions: list[str], sentences: list[str], context: list[tuple[str, str]] | None = None
    ) -> list[ReadSpan]:
        """One model run per pair, never a padded batch: the int8 model quantises its
        activations over the whole input, so in a batch a sentence's span would depend on the
        other sentences read with it (and on their padding)."""
        if self.context:
            around = context or [("", "")] * len(sentences)
            segments = [reading_text(s, b, a) for s, (b, a) in zip(sentences, around, strict=True)]
        else:
            segments = [(s, 0) for s in sentences]
        encodings = [self._tokenizer.encode(q, text) for q, (text, _) in zip(questions, segments, strict=True)]
        if self._pool is not None and len(encodings) > 1:
            logits = list(self._pool.map(self._run, encodings))
        else:
            logits = [self._run(e) for e in encodings]
        return [
            best_span(start, end, e.sequence_ids, e.offsets, skip, len(sentence))
            for (start, end), e, (_, skip), sentence in zip(logits, encodings, segments, sentences, strict=True)
        ]

    def _run(self, encoding) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of one encoded pair."""
        feeds = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
        }
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([encoding.type_ids], dtype=np.int64)
        start_logits, end_logits = self._session.run(None, feeds)
        return start_logits[0], end_logits[0]


def best_span(start: np.ndarray, end: np.ndarray, sequence_ids, offsets, skip: int, length: int) -> ReadSpan:
    """The highest start + end score over spans of the sentence's word pieces (those of the
    second segment between characters ``skip`` and ``skip + length``); offsets relative to the
    sentence."""
    null = float(start[0] + end[0])
    positions = [
        t for t, sid in enumerate(sequence_ids) if sid == 1 and offsets[t][0] >= skip and offsets[t][1] <= skip + length
    ]
    if not positions:
        return ReadSpan(0, length, -1e4, null)
    first, last = positions[0], positions[-1] + 1
    s = start[first:last]
    e = end[first:last]
    n = last - first
    # scores[i, j] = s[i] + e[j] for i <= j < i + MAX_ANSWER_TOKENS
    scores = s[:, None] + e[None, :]
    i, j = np.indices((n, n))
    scores = np.where((j >= i) & (j < i + MAX_ANSWER_TOKENS), scores, -np.inf)
    flat = int(np.argmax(scores))
    bi, bj = divmod(flat, n)
    char_start = offsets[first + bi][0] - skip
    char_end = offsets[first + bj][1] - skip
    return ReadSpan(int(char_start), int(char_end), float(scores[bi, bj]), null)

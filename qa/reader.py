"""Stage 2 of answering, the extractive reader: a MiniLM fine-tuned on SQuAD 1.1, run by onnxruntime.

It reads ``[CLS] question [SEP] sentence [SEP]`` and scores every span of the sentence
(start logit + end logit); the [CLS] position's score is its "no answer" score. The model
and its training record ship in ``qa/models/`` (``training/train_reader.py`` makes them).
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


def model_sha256(path: Path = MODEL_PATH) -> str:
    return file_sha256(path)


def training_record() -> dict:
    return read_record(RECORD_PATH)


class Reader:
    """Reads question/sentence pairs and returns each sentence's best answer span.

    ``threads`` is onnxruntime's thread count for one model run (default: all cores);
    ``workers`` runs that many pairs at once (onnxruntime runs a session from several threads).
    For a few short sentences, one thread a run and a run per core is the fastest."""

    def __init__(self, path: Path | str = MODEL_PATH, threads: int | None = None, workers: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from embeddings.model import model_dir

        self._tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
        self._tokenizer.no_padding()  # the packaged tokenizer.json pads to 128
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="reader") if workers > 1 else None

    def read(self, question: str, sentences: list[str], before: list[str] | None = None) -> list[ReadSpan]:
        """The best span of each sentence for ``question``. ``before`` gives each
        sentence text read in front of it as context (its previous sentence); the span stays
        inside the sentence, and its offsets are the sentence's own."""
        return self.read_pairs([question] * len(sentences), sentences, before)

    def read_pairs(self, questions: list[str], sentences: list[str], before: list[str] | None = None) -> list[ReadSpan]:
        """One model run per pair, never a padded batch: the int8 model quantises its
        activations over the whole input, so in a batch a sentence's span would depend on the
        other sentences read with it (and on their padding)."""
        prefixes = [f"{b} " if b else "" for b in (before or [""] * len(sentences))]
        encodings = [
            self._tokenizer.encode(question, prefix + sentence)
            for question, prefix, sentence in zip(questions, prefixes, sentences, strict=True)
        ]
        if self._pool is not None and len(encodings) > 1:
            logits = list(self._pool.map(self._run, encodings))
        else:
            logits = [self._run(e) for e in encodings]
        return [
            best_span(start, end, e.sequence_ids, e.offsets, len(prefix), len(sentence))
            for (start, end), e, prefix, sentence in zip(logits, encodings, prefixes, sentences, strict=True)
        ]

    def _run(self, encoding) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of one encoded pair."""
        feeds = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        start_logits, end_logits = self._session.run(None, feeds)
        return start_logits[0], end_logits[0]


def best_span(start: np.ndarray, end: np.ndarray, sequence_ids, offsets, skip: int, length: int) -> ReadSpan:
    """The highest start + end score over spans of the sentence's word pieces (those of the
    second segment from character ``skip`` on); offsets relative to the sentence."""
    null = float(start[0] + end[0])
    positions = [t for t, sid in enumerate(sequence_ids) if sid == 1 and offsets[t][0] >= skip]
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

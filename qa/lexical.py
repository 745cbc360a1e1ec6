"""BM25 over the index's sentences (bm25s, English stemming with PyStemmer, stopwords).

Each sentence is indexed with its document's title in front when it has a real
one (``qa.store.embedding_text``), as for the dense vectors.

The BM25 index is built once when the index is written and saved beside it in
bm25s's own format (JSON vocabulary and parameters, ``.npy`` score arrays, no
pickle), plus ``ids.npy`` mapping bm25s rows to sentence ids. Indexes written
without one get it built in memory on first use, once per process.

``import bm25s`` pulls in numba and scipy when they are installed (~0.8 s);
the query path only needs bm25s's numpy backend, so :func:`bm25s_module`
imports it with those two hidden when they are not loaded yet.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

IDS_FILE = "ids.npy"


@functools.lru_cache(maxsize=1)
def bm25s_module():
    hidden = [m for m in ("numba", "scipy", "scipy.sparse") if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]  # makes "import m" raise ImportError
    try:
        import bm25s
    finally:
        for m in hidden:
            if sys.modules.get(m) is None:
                del sys.modules[m]
    return bm25s


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stemmed, stopword-free terms of each text (bm25s's tokenizer)."""
    if len(texts) <= 8:  # the query path: a few short texts, often the same ones again
        return [list(_tokenize_one(t)) for t in texts]
    return _tokenize_many(texts)


def _tokenize_many(texts: Sequence[str]) -> list[list[str]]:
    bm25s = bm25s_module()
    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


@functools.lru_cache(maxsize=4096)
def _tokenize_one(text: str) -> tuple[str, ...]:
    return tuple(_tokenize_many([text])[0])


class BM25Index:
    """BM25 scores for sentences, keyed by sentence id."""

    def __init__(self, model, ids: np.ndarray) -> None:
        self.model = model
        self.ids = np.asarray(ids, dtype=np.int64)
        self._sorted = bool(np.all(self.ids[1:] > self.ids[:-1])) if len(self.ids) > 1 else True

    @classmethod
    def build(cls, texts: Sequence[str], ids: Sequence[int]) -> BM25Index:
        bm25s = bm25s_module()
        model = bm25s.BM25(backend="numpy")
        tokens = tokenize(texts) if len(texts) else []
        if any(tokens):  # (sentences of symbols only have no terms at all: bm25s cannot index that)
            model.index(tokens, show_progress=False)
        return cls(model if any(tokens) else None, np.asarray(ids, dtype=np.int64))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            self.model.save(str(folder), allow_pickle=False)
        np.save(folder / IDS_FILE, self.ids, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        ids = np.load(folder / IDS_FILE, allow_pickle=False)
        if not len(ids):
            return cls(None, ids)
        bm25s = bm25s_module()
        model = bm25s.BM25.load(str(folder), mmap=True, load_corpus=False, allow_pickle=False)
        model.backend = "numpy"
        return cls(model, ids)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every sentence (aligned with ``self.ids``)."""
        if self.model is None:
            return np.zeros(len(self.ids), np.float32)
        terms = tokenize([question])[0]
        token_ids = self.model.get_tokens_ids(terms)
        if not token_ids:
            return np.zeros(len(self.ids), np.float32)
        return np.asarray(self.model.get_scores_from_ids(token_ids), dtype=np.float32)

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of a (stemmed) term; unknown terms count as rarest."""
        n = len(self.ids)
        tid = self.model.vocab_dict.get(term) if self.model is not None else None
        if tid is None:
            df = 0
        else:
            indptr = self.model.scores["indptr"]
            df = int(indptr[tid + 1] - indptr[tid])
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    def rows(self, sentence_ids: Sequence[int]) -> np.ndarray:
        """Row of each sentence id in ``scores()`` (-1 when unknown)."""
        sentence_ids = np.asarray(sentence_ids, dtype=np.int64)
        if not self._sorted or not len(self.ids):
            lookup = {int(s): i for i, s in enumerate(self.ids)}
            return np.array([lookup.get(int(s), -1) for s in sentence_ids], dtype=np.int64)
        pos = np.searchsorted(self.ids, sentence_ids)
        pos = np.minimum(pos, len(self.ids) - 1)
        return np.where(self.ids[pos] == sentence_ids, pos, -1)

    def top(self, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best ``(sentence_ids, scores)`` from ``scores()``, best first."""
        if not len(scores) or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        k = min(k, len(scores))
        part = np.argpartition(-scores, k - 1)[:k]
        order = part[np.argsort(-scores[part], kind="stable")]
        return self.ids[order], scores[order]

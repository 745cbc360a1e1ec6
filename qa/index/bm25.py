"""BM25 over the index's sentences (bm25s, English stemming with PyStemmer, stopwords).

Each sentence is indexed with its document's title in front when it has a real
one (``qa.store.embedding_text``), as for the dense vectors.

The BM25 index is built once when the index is written and saved beside it in
bm25s's own format (JSON vocabulary and parameters, ``.npy`` score arrays, no
pickle), plus ``ids.npy`` mapping bm25s rows to sentence ids. Indexes written
without one get it built in memory on first use, once per process.

An index generation with changes since its base (``qa.store``) reads a
``LayeredBM25``: the base's BM25 index, untouched since it was written, with
the rows of removed sentences masked out, plus a small BM25 index over the
sentences added since. Its scores are those of one BM25 index over the live
sentences: per query term, the IDF is recomputed over the live sentences
(N = live sentences, df = live base rows holding the term + delta rows holding
it), and each stored score is taken apart into its term frequency (bm25s
stores ``idf * tf / (tf + k1 * (1 - b + b * len / avg_len))``; every index also
saves its sentences' term counts, ``lengths.npy``) and scored again with the
average length of the live sentences. Up to float rounding this equals a fresh
build (``tests/test_layers.py`` checks it). A layer whose own average length is
within 0.1% of the live one (a large base under a small delta) skips that step:
its scores then differ from a fresh build's by less than 0.1% (and it saves a
few milliseconds a question at 1M sentences). Indexes saved without
``lengths.npy`` only get the IDF recomputed: their scores drift slightly from
a fresh build until the next compaction (retrieval fuses z-normalised scores
per question, which absorbs a small drift).

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
LENGTHS_FILE = "lengths.npy"


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


@functools.lru_cache(maxsize=4096)
def query_terms(question: str) -> tuple[str, ...]:
    """The question's terms, plus those of the other forms of its countries and country
    adjectives ("Ukraine's" also searches "Ukrainian")."""
    from qa.demonyms import other_forms

    forms = other_forms(question)
    return _tokenize_one(" ".join([question, *forms]) if forms else question)


def _tokenize_many(texts: Sequence[str]) -> list[list[str]]:
    bm25s = bm25s_module()
    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


@functools.lru_cache(maxsize=4096)
def _tokenize_one(text: str) -> tuple[str, ...]:
    return tuple(_tokenize_many([text])[0])


class BM25Index:
    """BM25 scores for sentences, keyed by sentence id."""

    def __init__(self, model, ids: np.ndarray, lengths: np.ndarray | None = None) -> None:
        self.model = model
        self.ids = np.asarray(ids, dtype=np.int64)
        #: terms in each sentence (what bm25s's length normalisation counts), when saved
        self.lengths = lengths
        self._sorted = bool(np.all(self.ids[1:] > self.ids[:-1])) if len(self.ids) > 1 else True

    @classmethod
    def build(cls, texts: Sequence[str], ids: Sequence[int]) -> BM25Index:
        bm25s = bm25s_module()
        model = bm25s.BM25(backend="numpy")
        tokens = tokenize(texts) if len(texts) else []
        if any(tokens):  # (sentences of symbols only have no terms at all: bm25s cannot index that)
            model.index(tokens, show_progress=False)
        lengths = np.array([len(t) for t in tokens], dtype=np.int32)
        return cls(model if any(tokens) else None, np.asarray(ids, dtype=np.int64), lengths)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            self.model.save(str(folder), allow_pickle=False)
        if self.lengths is not None:
            np.save(folder / LENGTHS_FILE, self.lengths, allow_pickle=False)
        np.save(folder / IDS_FILE, self.ids, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        ids = np.load(folder / IDS_FILE, allow_pickle=False)
        lengths = None
        if (folder / LENGTHS_FILE).exists():
            lengths = np.load(folder / LENGTHS_FILE, allow_pickle=False)
            if lengths.shape != ids.shape:
                raise ValueError(f"{folder}: {len(lengths)} sentence lengths for {len(ids)} sentences")
        if not len(ids) or (lengths is not None and not lengths.any()):  # no terms at all: nothing for bm25s
            return cls(None, ids, lengths)
        bm25s = bm25s_module()
        model = bm25s.BM25.load(str(folder), mmap=True, load_corpus=False, allow_pickle=False)
        model.backend = "numpy"
        return cls(model, ids, lengths)

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every sentence (aligned with ``self.ids``)."""
        if self.model is None:
            return np.zeros(len(self.ids), np.float32)
        token_ids = self.model.get_tokens_ids(list(query_terms(question)))
        if not token_ids:
            return np.zeros(len(self.ids), np.float32)
        return np.asarray(self.model.get_scores_from_ids(token_ids), dtype=np.float32)

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of a (stemmed) term; unknown terms count as rarest."""
        return _idf(len(self.ids), len(self.postings(term)[0]))

    def term_counts(self, terms: Sequence[str]) -> dict[str, int]:
        """The number of sentences holding each of ``terms`` (stemmed) that some sentence holds."""
        vocab = self.model.vocab_dict if self.model is not None else {}
        counts = {t: len(self.postings(t)[0]) for t in terms if t in vocab}
        return {t: n for t, n in counts.items() if n}

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, stored scores) of the sentences holding ``term`` (bm25s's score matrix column)."""
        tid = self.model.vocab_dict.get(term) if self.model is not None else None
        if tid is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        sc = self.model.scores
        if tid + 1 >= len(sc["indptr"]):  # bm25s's empty token: in the vocabulary, not in the matrix
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        start, end = int(sc["indptr"][tid]), int(sc["indptr"][tid + 1])
        return sc["indices"][start:end], sc["data"][start:end]

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


#: Relative difference of average sentence lengths under which a layer's scores keep their own
#: length normalisation (see ``LayeredBM25``).
AVG_TOLERANCE = 1e-3


def _idf(n: int, df: int) -> float:
    """bm25s's (Lucene) IDF."""
    return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))


class LayeredBM25(BM25Index):
    """A base BM25 index with some sentences removed, plus a delta index of those added since
    (see the module docstring). ``ids``, ``scores``, ``rows`` and ``top`` cover the live
    sentences: the base's live rows in order, then the delta's."""

    def __init__(self, base: BM25Index, delta: BM25Index, removed: np.ndarray) -> None:
        self.base, self.delta = base, delta
        self.live = ~np.isin(base.ids, np.asarray(removed, dtype=np.int64))
        #: bm25s parameters (k1, b) for callers that read them; None when neither layer has terms
        model = base.model if base.model is not None else delta.model
        super().__init__(model, np.concatenate([base.ids[self.live], delta.ids]))
        self._dfs: dict[str, int] = {}
        self._all_live = bool(self.live.all())
        self._keep = None if self._all_live else np.concatenate([self.live, np.ones(len(delta.ids), bool)])
        self._rescore = base.lengths is not None and delta.lengths is not None and model is not None
        if self._rescore:
            n = max(len(self.ids), 1)
            self._avg = (float(base.lengths[self.live].sum()) + float(delta.lengths.sum())) / n
            self._avg_of = {id(layer): float(layer.lengths.mean()) if len(layer.lengths) else 1.0
                            for layer in (base, delta)}
            # a layer whose average length is within AVG_TOLERANCE of the live one (a big base under a
            # small delta) only gets its IDF swapped: the length part moves by less than that share
            self._exact = {k: abs(v / self._avg - 1) > AVG_TOLERANCE for k, v in self._avg_of.items()}

    def _df(self, term: str) -> int:
        """Live sentences holding ``term`` (cached: the confidence features ask for the same terms)."""
        df = self._dfs.get(term)
        if df is None:
            rows, _ = self.base.postings(term)
            df = int(self.live[rows].sum()) + len(self.delta.postings(term)[0])
            if len(self._dfs) > 65_536:
                self._dfs.clear()
            self._dfs[term] = df
        return df

    def idf(self, term: str) -> float:
        return _idf(len(self.ids), self._df(term))

    def term_counts(self, terms: Sequence[str]) -> dict[str, int]:
        counts = {t: self._df(t) for t in terms}
        return {t: n for t, n in counts.items() if n}

    def _term_scores(self, layer: BM25Index, rows: np.ndarray, data: np.ndarray, idf: float) -> np.ndarray:
        """The layer's stored scores of one term, as one index over the live sentences scores them."""
        own_idf = _idf(len(layer.ids), len(rows))
        if not self._rescore or not self._exact[id(layer)]:  # only the IDF is swapped
            return data * np.float32(idf / own_idf)
        k1, b = np.float32(self.model.k1), np.float32(self.model.b)
        dl = layer.lengths[rows].astype(np.float32)
        x = np.asarray(data, dtype=np.float32) / np.float32(own_idf)  # tf / (tf + k1 * (1 - b + b * dl / avg))
        norm = k1 * (1 - b + b * dl / np.float32(self._avg_of[id(layer)]))
        tf = np.rint(x * norm / np.maximum(1 - x, np.float32(1e-6)))
        return np.float32(idf) * tf / (tf + k1 * (1 - b + b * dl / np.float32(self._avg)))

    def scores(self, question: str) -> np.ndarray:
        nb = len(self.base.ids)
        out = np.zeros(nb + len(self.delta.ids), np.float32)
        base, delta = out[:nb], out[nb:]
        n = len(self.ids)
        for term in query_terms(question):  # repeated terms count again, as in bm25s
            b_rows, b_data = self.base.postings(term)
            d_rows, d_data = self.delta.postings(term)
            if not len(b_rows) and not len(d_rows):
                continue
            idf = _idf(n, self._df(term))
            if len(b_rows):
                base[b_rows] += self._term_scores(self.base, b_rows, b_data, idf)
            if len(d_rows):
                delta[d_rows] += self._term_scores(self.delta, d_rows, d_data, idf)
        if self._all_live:
            return out
        return out[self._keep]

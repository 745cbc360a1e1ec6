"""Retrievers: rank the index's sentences for a question.

A retriever takes the question text and its query vector (and, for MaxSim,
the question's token vectors) and returns ``Hit``\\ s, best first. Every step
stays selectable by name so the evaluation can show what each one adds:

* ``dense``: plain cosine search over FAISS, the baseline;
* ``bm25``: bm25s over stemmed words (``qa.index.bm25``);
* ``hybrid``: z-score fusion of cosine and BM25 over the union of both top-50
  lists (score fusion beat reciprocal-rank fusion at R@1 on paraphrased questions);
* ``rerank`` (the default): ``hybrid``, then its top 30 reranked by MaxSim over
  the embedder's token vectors (of the sentence, and of windows one and two
  sentences wide) mixed with the fused score. Indexes stored without token
  vectors (very large ones) fall back to ``hybrid``.

The fusion weights were chosen on half of the NarrativeQA stories
(``benchmarks/tune_retrieval.py``) and checked on the other half.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.index import IndexBackend

#: Weight of the dense z-score in the hybrid fusion (BM25 gets the rest).
DENSE_WEIGHT = 0.4
#: Candidates taken from each of the dense and BM25 lists before fusing.
POOL = 50
#: Fused candidates reranked by MaxSim.
RERANK_DEPTH = 30
#: The rerank mix: weights of z-scored MaxSims and of the fused first-stage score. The
#: question's tokens are weighed per word (``qa.rerank.TokenRoles``) and split in two:
#: names (capitalised words) and the other words. ``maxsim*`` match the other words in the
#: sentence, in its one-sentence window and in its two-sentence window
#: (``qa.rerank.context_best``); ``name_window``/``name_wide`` match the names in the two
#: windows only: the sentence that answers a question about Mariupol often calls it "the
#: city" or "it", while its neighbours name it. A listwise fit on half of the NarrativeQA
#: stories (``benchmarks/tune_retrieval.py --content-tokens --fit-mix``, weights kept
#: non-negative), rounded; on the other half R@1 .673 -> .70.
RERANK_MIX = {
    "maxsim": 0.5,
    "maxsim_window": 0.27,
    "maxsim_wide": 0.3,
    "name_window": 0.37,
    "name_wide": 1.07,
    "fused": 0.14,
}
#: Passage prior: a sentence of a short document also gains from how close the whole
#: document (the mean of its sentence vectors) is to the question, with weight
#: ``PASSAGE_PRIOR / sentences in the document``: a short passage is one unit of meaning,
#: a long document's mean is diffuse. Documents longer than ``PASSAGE_MAX`` get none.
PASSAGE_PRIOR = 0.5
PASSAGE_MAX = 50
#: Share of the context-window score (sentence plus neighbours) in the first stage.
WINDOW_WEIGHT = 0.2


@dataclass(frozen=True)
class Hit:
    sentence_id: int
    score: float
    #: The plain cosine between question and sentence (for confidence features).
    cosine: float
    #: BM25 score (0 when not computed) and MaxSim score (0 when not computed).
    bm25: float = 0.0
    maxsim: float = 0.0


def _zscore(x: np.ndarray) -> np.ndarray:
    if len(x) < 2:
        return np.zeros_like(x, dtype=np.float32)
    sd = float(x.std())
    return ((x - x.mean()) / sd).astype(np.float32) if sd > 1e-9 else np.zeros_like(x, dtype=np.float32)


class DenseRetriever:
    name = "dense"

    def __init__(self, store: IndexBackend) -> None:
        self.store = store

    def search(
        self,
        question: str,
        query_vector: np.ndarray,
        k: int,
        exclude_docs: set[str] = frozenset(),
        query_tokens: np.ndarray | None = None,
        token_roles=None,
    ) -> list[Hit]:
        return [Hit(i, s, s) for i, s in self.store.search_dense(query_vector, k, exclude_docs)]


class BM25Retriever:
    name = "bm25"

    def __init__(self, store: IndexBackend) -> None:
        self.store = store

    def search(
        self, question, query_vector, k, exclude_docs=frozenset(), query_tokens=None, token_roles=None
    ) -> list[Hit]:
        hits = self.store.search_lexical(question, k, exclude_docs)
        if not hits:
            return []
        cos = _cosines(self.store, query_vector, [i for i, _ in hits])  # for confidence
        return [Hit(i, s, float(c), s) for (i, s), c in zip(hits, cos, strict=True)]


def _cosines(store: IndexBackend, query_vector: np.ndarray, ids: list[int]) -> np.ndarray:
    vecs = store.vectors(ids)
    if vecs is None:
        return np.zeros(len(ids), np.float32)
    return (vecs @ np.asarray(query_vector, dtype=np.float32).reshape(-1)).astype(np.float32)


def neighbour_ids(store: IndexBackend, ids: list[int], distance: int = 1) -> tuple[list[int | None], list[int | None]]:
    """The sentence ``distance`` before and after each id in the same document (sentence
    ids of a document are consecutive), or None past a document's edge."""
    d = distance
    doc = store.documents_of(sorted({j for i in ids for j in (i - d, i, i + d)}))
    prev = [i - d if doc.get(i - d) is not None and doc.get(i - d) == doc.get(i) else None for i in ids]
    nxt = [i + d if doc.get(i + d) is not None and doc.get(i + d) == doc.get(i) else None for i in ids]
    return prev, nxt


@dataclass
class Candidates:
    """Pooled candidates and their raw features, aligned by position."""

    ids: list[int]
    cos: np.ndarray
    bm25: np.ndarray
    #: the same scores for the sentence with its neighbours (context window)
    cos_window: np.ndarray
    bm25_window: np.ndarray
    prev: list[int | None]
    next: list[int | None]


class HybridRetriever:
    """Z-score fusion of dense cosine and BM25 over the union of both top lists,
    each mixed with the same score for the sentence's window (it and its neighbours)."""

    name = "hybrid"

    def __init__(
        self,
        store: IndexBackend,
        dense_weight: float = DENSE_WEIGHT,
        pool: int = POOL,
        window_weight: float = WINDOW_WEIGHT,
    ) -> None:
        self.store = store
        self.dense_weight = dense_weight
        self.pool = pool
        self.window_weight = window_weight

    def gather(self, question, query_vector, exclude_docs=frozenset(), pool: int | None = None) -> Candidates:
        pool = pool or self.pool
        dense = dict(self.store.search_dense(query_vector, pool, exclude_docs))
        lex = [i for i, _ in self.store.search_lexical(question, pool, exclude_docs)]
        pool_ids = list(dict.fromkeys([*dense, *lex]))
        prev, nxt = neighbour_ids(self.store, pool_ids)
        every = list(dict.fromkeys(pool_ids + [i for i in prev + nxt if i is not None]))
        vecs = self.store.vectors(every)
        q = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        pos = {i: n for n, i in enumerate(every)}
        lexical = self.store.lexical_scores(question, every)
        if vecs is None:  # vectors not retrievable: dense scores only where searched
            cos_all = np.array([dense.get(i, 0.0) for i in every], dtype=np.float32)
        else:
            cos_all = (vecs @ q).astype(np.float32)
        cos = np.array([cos_all[pos[i]] for i in pool_ids], dtype=np.float32)
        lex_s = np.array([lexical[pos[i]] for i in pool_ids], dtype=np.float32)
        cos_w, lex_w = [], []
        for i, a, b in zip(pool_ids, prev, nxt, strict=True):
            members = [pos[j] for j in (a, i, b) if j is not None]
            if vecs is None:
                cos_w.append(cos_all[pos[i]])
            else:
                v = vecs[members].sum(axis=0)
                cos_w.append(float(v @ q / max(float(np.linalg.norm(v)), 1e-9)))
            lex_w.append(float(lexical[members].sum()))
        return Candidates(pool_ids, cos, lex_s, np.array(cos_w, np.float32), np.array(lex_w, np.float32), prev, nxt)

    def fuse(self, c: Candidates) -> np.ndarray:
        w, m = self.dense_weight, self.window_weight
        sentence = w * _zscore(c.cos) + (1 - w) * _zscore(c.bm25)
        window = w * _zscore(c.cos_window) + (1 - w) * _zscore(c.bm25_window)
        return (1 - m) * sentence + m * window

    def candidates(self, question, query_vector, exclude_docs=frozenset(), pool: int | None = None) -> list[Hit]:
        """Every pooled candidate with its fused score, best first."""
        c = self.gather(question, query_vector, exclude_docs, pool)
        if not c.ids:
            return []
        fused = self.fuse(c)
        order = np.argsort(-fused, kind="stable")
        return [Hit(c.ids[j], float(fused[j]), float(c.cos[j]), float(c.bm25[j])) for j in order]

    def search(
        self, question, query_vector, k, exclude_docs=frozenset(), query_tokens=None, token_roles=None
    ) -> list[Hit]:
        hits = self.candidates(question, query_vector, exclude_docs)
        return self.deepened(hits, question, query_vector, k, exclude_docs)

    def deepened(self, hits: list[Hit], question, query_vector, k: int, exclude_docs=frozenset()) -> list[Hit]:
        """``hits`` (the ranking of the normal pool) cut at ``k``. When ``k`` asks for more than
        the pool holds (an evaluation's ranking depth), the ranking goes on below with the
        other candidates of a pool of ``k``, so its first ranks stay the ones a normal question
        gets (a larger pool would fuse and rerank differently)."""
        if len(hits) >= k or k <= self.pool:
            return hits[:k]
        seen = {h.sentence_id for h in hits}
        floor = min((h.score for h in hits), default=0.0)
        more = [h for h in self.candidates(question, query_vector, exclude_docs, pool=k) if h.sentence_id not in seen]
        return (hits + [Hit(h.sentence_id, floor - 1.0 - n, h.cosine, h.bm25) for n, h in enumerate(more)])[:k]


def window_tokens(tokens, ids: list[int], prev: list[int | None], nxt: list[int | None]):
    """Token vectors of each sentence's window (it and its neighbours), concatenated."""
    out = []
    for i, a, b in zip(ids, prev, nxt, strict=True):
        parts = [tokens.get(j) for j in (a, i, b) if j is not None]
        parts = [p for p in parts if p is not None]
        out.append(np.concatenate(parts) if parts else None)
    return out


class RerankRetriever(HybridRetriever):
    """``hybrid``, then MaxSim over stored token vectors (the sentence, and its windows)
    on its top ``depth``, mixed with the fused score (``RERANK_MIX``) and the passage
    prior of short documents (``PASSAGE_PRIOR``)."""

    name = "rerank"

    def __init__(
        self, store: IndexBackend, depth: int = RERANK_DEPTH, mix: dict[str, float] | None = None, **kw
    ) -> None:
        super().__init__(store, **kw)
        self.depth = depth
        self.mix = dict(mix or RERANK_MIX)
        self._centroids: dict[str, tuple[int, np.ndarray | None]] = {}  # doc -> (sentences, mean vector)

    def _centroid(self, doc: str) -> tuple[int, np.ndarray | None]:
        """The document's sentence count and mean sentence vector (None when long or not retrievable)."""
        found = self._centroids.get(doc)  # (one look-up: another thread may clear the cache meanwhile)
        if found is None:
            if len(self._centroids) > 10_000:
                self._centroids.clear()
            ids = self.store.sentence_ids(doc)
            vecs = self.store.vectors(ids) if len(ids) <= PASSAGE_MAX else None
            mean = None
            if vecs is not None and len(vecs):
                mean = vecs.mean(axis=0)
                mean /= max(float(np.linalg.norm(mean)), 1e-9)
            found = self._centroids[doc] = (len(ids), mean)
        return found

    def passage_prior(self, ids: list[int], query_vector) -> np.ndarray:
        """``PASSAGE_PRIOR / n`` times the z-scored cosine of the question with each
        sentence's document mean (0 for documents over ``PASSAGE_MAX`` sentences)."""
        docs = self.store.documents_of(ids)
        q = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        cos, weight = np.zeros(len(ids), np.float32), np.zeros(len(ids), np.float32)
        for k, i in enumerate(ids):
            n, mean = self._centroid(docs[i]) if i in docs else (0, None)
            if mean is not None:
                cos[k] = float(mean @ q)
                weight[k] = PASSAGE_PRIOR / n
        return weight * _zscore(cos) if weight.any() else weight

    def search(
        self, question, query_vector, k, exclude_docs=frozenset(), query_tokens=None, token_roles=None
    ) -> list[Hit]:
        """``token_roles`` (``qa.rerank.TokenRoles``, aligned with ``query_tokens``) weighs the
        question's tokens and marks its names; without it every token weighs 1 and none is a name."""
        from qa.rerank import TokenRoles, context_best, query_token_matrix, sentence_maxsim, weighted_maxsim

        c = self.gather(question, query_vector, exclude_docs)
        if not c.ids:
            return []
        fused = self.fuse(c)
        order = np.argsort(-fused, kind="stable")
        tokens = self.store.token_vectors
        if tokens is None or query_tokens is None or len(order) < 2:
            hits = [Hit(c.ids[j], float(fused[j]), float(c.cos[j]), float(c.bm25[j])) for j in order]
            return self.deepened(hits, question, query_vector, k, exclude_docs)
        head = order[: self.depth]
        ids = [c.ids[j] for j in head]
        q = query_token_matrix(query_tokens)
        roles = (
            token_roles if token_roles is not None and len(token_roles.weights) == len(q) else TokenRoles.plain(len(q))
        )
        ring1 = ([c.prev[j] for j in head], [c.next[j] for j in head])
        centre, (win, wide) = context_best(q, tokens, ids, [ring1, neighbour_ids(self.store, ids, 2)])
        words = roles.weights * ~roles.names
        names = roles.weights * roles.names
        m = self.mix
        mixed = (
            m["maxsim"] * _zscore(weighted_maxsim(centre, words))
            + m["maxsim_window"] * _zscore(weighted_maxsim(win, words))
            + m["maxsim_wide"] * _zscore(weighted_maxsim(wide, words))
            + m["fused"] * _zscore(fused[head])
            + self.passage_prior(ids, query_vector)
        )
        if names.any():
            mixed += m["name_window"] * _zscore(weighted_maxsim(win, names))
            mixed += m["name_wide"] * _zscore(weighted_maxsim(wide, names))
        sent = sentence_maxsim(centre, win, roles)  # a confidence feature
        inner = np.argsort(-mixed, kind="stable")
        top = [
            Hit(c.ids[head[j]], float(mixed[j]), float(c.cos[head[j]]), float(c.bm25[head[j]]), float(sent[j]))
            for j in inner
        ]
        floor = float(mixed.min())
        rest = [
            Hit(c.ids[j], floor - 1.0 - n, float(c.cos[j]), float(c.bm25[j])) for n, j in enumerate(order[len(head) :])
        ]
        return self.deepened(top + rest, question, query_vector, k, exclude_docs)


RETRIEVERS = {
    "dense": DenseRetriever,
    "bm25": BM25Retriever,
    "hybrid": HybridRetriever,
    "rerank": RerankRetriever,
}
#: The retriever used unless another is asked for.
DEFAULT_RETRIEVER = "rerank"


def make_retriever(name: str, store: IndexBackend):
    try:
        return RETRIEVERS[name](store)
    except KeyError:
        raise ValueError(f"unknown retriever {name!r}; choose from {', '.join(sorted(RETRIEVERS))}") from None

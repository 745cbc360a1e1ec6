"""Retrievers: rank the index's sentences for a question.

A retriever takes the question text and its query vector and returns
``Hit``\\ s, best first. ``DenseRetriever`` is plain cosine search over FAISS,
kept as the baseline every other retriever is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.store import IndexStore


@dataclass(frozen=True)
class Hit:
    sentence_id: int
    score: float
    #: The plain cosine between question and sentence (for confidence features).
    cosine: float


class DenseRetriever:
    name = "dense"

    def __init__(self, store: IndexStore) -> None:
        self.store = store

    def search(
        self, question: str, query_vector: np.ndarray, k: int, exclude_docs: set[str] = frozenset()
    ) -> list[Hit]:
        depth = k
        while True:
            scores, ids = self.store.vectors.search(query_vector, depth)
            hits = [Hit(int(i), float(s), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
            if exclude_docs:
                keep = {s.id for s in self.store.sentences(h.sentence_id for h in hits) if s.doc not in exclude_docs}
                hits = [h for h in hits if h.sentence_id in keep]
            if len(hits) >= k or depth >= len(self.store):
                return hits[:k]
            depth *= 4


RETRIEVERS = {"dense": DenseRetriever}


def make_retriever(name: str, store: IndexStore):
    try:
        return RETRIEVERS[name](store)
    except KeyError:
        raise ValueError(f"unknown retriever {name!r}; choose from {', '.join(sorted(RETRIEVERS))}") from None

"""A vector index over FAISS: inner product on normalised vectors (= cosine).

Vectors carry caller-chosen int64 ids, so rows can be added and removed
without renumbering. Saved in FAISS's own format (no pickle).
"""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray) -> VectorIndex:
        index = cls(vectors.shape[1])
        index.add(vectors, ids)
        return index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {vectors.shape}")
        if len(vectors) != len(ids):
            raise ValueError("vectors and ids differ in length")
        if len(ids):
            self._index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> int:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def ids(self) -> np.ndarray:
        """All stored ids (in storage order)."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k ``(scores, ids)`` per query, best first; missing slots have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        if not len(self):
            n = len(queries)
            return np.zeros((n, k), np.float32), np.full((n, k), -1, np.int64)
        return self._index.search(queries, k)

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors for the given ids."""
        return np.vstack([self._index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def save(self, path: str | Path) -> None:
        faiss.write_index(self._index, os.fspath(path))

    @classmethod
    def load(cls, path: str | Path, mmap: bool = False) -> VectorIndex:
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        index = faiss.read_index(os.fspath(path), flags)
        return cls(index.d, index)

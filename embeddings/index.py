"""A vector index over FAISS: inner product on normalised vectors (= cosine).

Vectors carry caller-chosen int64 ids, so rows can be added and removed
without renumbering. Saved in FAISS's own format (no pickle).

The kind of index follows the collection's size (``choose_kind``):

* ``flat`` (exact search, float32) below ``EXACT_MAX`` vectors;
* ``ivf`` above it: an inverted file over ``nlist`` k-means cells whose codes
  are 8-bit scalar-quantised (IVF-SQ8, 1 byte per dimension: ~0.4 GB at 1M
  vectors of dimension 384). A query scans the ``nprobe`` nearest cells, enough
  of them to read about ``SCAN_CODES`` codes.

Adding vectors costs time proportional to the vectors added in both kinds
(IVF assigns them to their cell). Removing scans the stored ids once (a tight
loop: milliseconds at 1M) and never re-encodes anything. ``fit_to_size``
switches kind when a collection crosses the thresholds; that retrains, so it
is done only when the size has changed a lot (see ``needs_rebuild``).

``load(mmap=True)`` memory-maps what FAISS can map (the IVF inverted lists,
the flat codes), so opening a large index is quick and pages are read as
searched.

``LayeredIndex`` is what an index generation with changes since its base
reads (``qa.store``): the base index, untouched since it was written, searched
with its removed ids masked out (a FAISS ``IDSelector``, so results stay
exact for a flat base), plus a small exact ``delta`` index of the vectors
added since, merged by score.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import faiss
import numpy as np

#: Exact search up to this many vectors; approximate (IVF-SQ8) above.
EXACT_MAX = 150_000
#: An approximate index falls back to exact below this (hysteresis).
EXACT_BACK = 100_000
#: Retrain an IVF index when its size moves this many times away from the size it was trained at.
RETRAIN_FACTOR = 4.0
#: k-means training points per cell (FAISS wants >= 39).
TRAIN_PER_CELL = 64
#: Codes a query scans: nprobe = SCAN_CODES / (vectors per cell), at least MIN_NPROBE. A fixed
#: share of the cells is not enough: at 200k vectors 1/16 of them gave recall@10 0.92, at 1M 0.967.
SCAN_CODES = 65_536
MIN_NPROBE = 16
#: Searches of at most this many queries run on one thread.
FEW_QUERIES = 4


def choose_kind(n: int, current: str | None = None) -> str:
    """``"flat"`` or ``"ivf"`` for a collection of ``n`` vectors."""
    if current == "ivf":
        return "ivf" if n >= EXACT_BACK else "flat"
    return "ivf" if n > EXACT_MAX else "flat"


def choose_nlist(n: int) -> int:
    """Number of IVF cells: about sqrt(n), a power of two, 256..16384."""
    return int(min(16384, max(256, 2 ** round(math.log2(max(1.0, math.sqrt(n)))))))


def choose_nprobe(nlist: int, n: int) -> int:
    """Cells a query scans, so that it reads about ``SCAN_CODES`` codes whatever the size."""
    return int(min(nlist, max(MIN_NPROBE, math.ceil(SCAN_CODES * nlist / max(n, 1)))))


def _as_vectors(vectors: np.ndarray, dim: int) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {vectors.shape}")
    return vectors


class VectorIndex:
    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        #: Held while ``reconstruct`` builds an IVF index's id map (on first use): FAISS marks the map
        #: built before it fills it, and two readers at once (``qa.conversation``) must not fill it together.
        self._direct_map_lock = threading.Lock()

    # -- construction ------------------------------------------------------

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray, kind: str = "auto", seed: int = 1234) -> VectorIndex:
        """An index of ``vectors``; ``kind`` is ``"flat"``, ``"ivf"`` or ``"auto"`` (by size)."""
        vectors = _as_vectors(vectors, vectors.shape[1] if np.ndim(vectors) == 2 else -1)
        dim = vectors.shape[1]
        if kind == "auto":
            kind = choose_kind(len(vectors))
        if kind == "flat":
            index = cls(dim)
        elif kind == "ivf":
            index = cls(dim, cls._trained_ivf(vectors, seed))
        else:
            raise ValueError(f"unknown index kind {kind!r}; choose from auto, flat, ivf")
        index.add(vectors, ids)
        return index

    @staticmethod
    def _trained_ivf(vectors: np.ndarray, seed: int) -> faiss.Index:
        n, dim = vectors.shape
        nlist = min(choose_nlist(n), max(1, n // 39))
        rng = np.random.default_rng(seed)
        sample = vectors
        if n > nlist * TRAIN_PER_CELL:
            sample = vectors[np.sort(rng.choice(n, nlist * TRAIN_PER_CELL, replace=False))]
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        ivf.cp.seed = seed
        ivf.cp.niter = 10
        ivf.train(np.ascontiguousarray(sample))
        ivf.nprobe = choose_nprobe(nlist, n)
        quantizer.this.disown()  # owned by the IVF index from now on
        ivf.own_fields = True
        return ivf

    # -- what it is ----------------------------------------------------------

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(self._ivf, faiss.IndexIVF) else "flat"

    @property
    def _ivf(self):
        return faiss.try_extract_index_ivf(self._index)

    @property
    def nprobe(self) -> int | None:
        ivf = self._ivf
        return int(ivf.nprobe) if ivf is not None else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        ivf = self._ivf
        if ivf is not None:
            ivf.nprobe = int(max(1, min(value, ivf.nlist)))

    def describe(self) -> str:
        ivf = self._ivf
        if ivf is None:
            return f"flat (exact), {len(self)} vectors"
        return f"IVF{ivf.nlist},SQ8 nprobe={ivf.nprobe}, {len(self)} vectors"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    # -- changes -------------------------------------------------------------

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        vectors = _as_vectors(vectors, self.dim)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(vectors) != len(ids):
            raise ValueError("vectors and ids differ in length")
        if len(ids):
            self._index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> int:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return 0
        ivf = self._ivf
        if ivf is not None and ivf.direct_map.type == faiss.DirectMap.Hashtable:
            # with the id hash, removal is O(removed) but FAISS wants an IDSelectorArray
            return int(ivf.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids))))
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def needs_rebuild(self) -> bool:
        """Whether the size has moved far enough from what this index was built for to change it."""
        return not self.suits(len(self))

    def suits(self, n: int) -> bool:
        """Whether this kind of index (and, for IVF, its training) suits a collection of ``n`` vectors."""
        ivf = self._ivf
        if choose_kind(n, self.kind) != self.kind:
            return False
        if ivf is None:
            return True
        trained_for = ivf.nlist**2  # nlist ~ sqrt(n at training)
        return not (n > trained_for * RETRAIN_FACTOR or n * RETRAIN_FACTOR < trained_for)

    def fit_to_size(self) -> VectorIndex:
        """This index, or a rebuilt one of the kind its size calls for (same ids and vectors)."""
        if not self.needs_rebuild():
            ivf = self._ivf
            if ivf is not None:  # same cells, more or fewer vectors in each
                ivf.nprobe = choose_nprobe(ivf.nlist, len(self))
            return self
        if self._ivf is None:  # flat: the float32 rows and their ids, straight from storage
            flat = faiss.downcast_index(self._index.index)
            vectors = faiss.rev_swig_ptr(flat.get_xb(), len(self) * self.dim).reshape(len(self), self.dim)
            ids = self.ids()
        else:
            ids = self.ids()
            vectors = self.reconstruct(ids)
        return VectorIndex.build(vectors, ids, kind=choose_kind(len(ids), self.kind))

    # -- reading -------------------------------------------------------------

    def ids(self) -> np.ndarray:
        """All stored ids (in storage order)."""
        ivf = self._ivf
        if ivf is None:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        invlists = ivf.invlists
        parts = []
        for list_no in range(ivf.nlist):
            size = invlists.list_size(list_no)
            if size:
                ptr = invlists.get_ids(list_no)
                parts.append(faiss.rev_swig_ptr(ptr, size).copy())
                invlists.release_ids(list_no, ptr)
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def search(self, queries: np.ndarray, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k ``(scores, ids)`` per query, best first; missing slots have id -1.

        ``exclude`` (from ``excluding``) leaves those ids out of the search itself."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        if not len(self):
            n = len(queries)
            return np.zeros((n, k), np.float32), np.full((n, k), -1, np.int64)
        params = None
        if exclude is not None:
            ivf = self._ivf
            if ivf is not None:
                params = faiss.SearchParametersIVF(sel=exclude.selector, nprobe=int(ivf.nprobe))
            else:
                params = faiss.SearchParameters(sel=exclude.selector)
        if len(queries) > FEW_QUERIES:
            return self._index.search(queries, k, params=params)
        # One query gains nothing from OpenMP threads, and waking them costs tens of
        # milliseconds on a busy machine (measured: 32 ms vs 5 us for 47 vectors).
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(queries, k, params=params)
        finally:
            faiss.omp_set_num_threads(threads)

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors for the given ids (decoded: approximate for IVF-SQ8)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return np.zeros((0, self.dim), np.float32)
        ivf = self._ivf
        if ivf is not None:
            with self._direct_map_lock:
                if ivf.direct_map.type != faiss.DirectMap.Hashtable:
                    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # id -> (cell, offset), built on first use
        return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)

    # -- files ----------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        ivf = self._ivf
        if ivf is not None and ivf.direct_map.type:
            ivf.set_direct_map_type(faiss.DirectMap.NoMap)  # rebuilt on demand; keeps the file small
        faiss.write_index(self._index, os.fspath(path))

    @classmethod
    def load(cls, path: str | Path, mmap: bool = False) -> VectorIndex:
        """Read an index; with ``mmap`` the big arrays stay in the file (read-only: no add/remove)."""
        flags = 0
        if mmap:
            with open(path, "rb") as f:
                fourcc = f.read(4)
            # IVF: inverted lists mapped as read-only on-disk lists; flat: codes mapped in place
            if fourcc.startswith(b"Iw"):
                flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY
            elif hasattr(faiss, "IO_FLAG_MMAP_IFC"):  # FAISS >= 1.10 maps flat codes
                flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
        index = faiss.read_index(os.fspath(path), flags)
        return cls(index.d, index)


class Exclusion:
    """A set of (non-negative) ids to leave out of searches: a FAISS selector over a bitmap of
    the ids (a bit test per scanned vector; a hash set cost ~3 ms a search at 1M)."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = np.ascontiguousarray(np.unique(np.asarray(ids, dtype=np.int64)))
        if len(self.ids) and self.ids[0] < 0:
            raise ValueError("ids to exclude must not be negative")
        bits = np.zeros(int(self.ids[-1]) + 1 if len(self.ids) else 1, dtype=bool)
        bits[self.ids] = True
        self._bitmap = np.ascontiguousarray(np.packbits(bits, bitorder="little"))  # kept alive for FAISS
        self._removed = faiss.IDSelectorBitmap(len(self._bitmap), faiss.swig_ptr(self._bitmap))
        self.selector = faiss.IDSelectorNot(self._removed)

    def __len__(self) -> int:
        return len(self.ids)


class LayeredIndex:
    """A base index with some ids removed, plus a delta index of vectors added since.

    Reads only: searches merge the base's top-k (removed ids masked out inside
    FAISS) with the delta's exact top-k by score. Delta ids never occur in the base.
    """

    def __init__(self, base: VectorIndex, delta: VectorIndex, removed: np.ndarray) -> None:
        if base.dim != delta.dim:
            raise ValueError(f"base and delta vectors differ in dimension ({base.dim} vs {delta.dim})")
        self.base, self.delta = base, delta
        self.removed = Exclusion(removed)
        self.dim = base.dim
        self._delta_ids: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.base) - len(self.removed) + len(self.delta)

    @property
    def kind(self) -> str:
        return self.base.kind

    @property
    def nprobe(self) -> int | None:
        return self.base.nprobe

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self.base.nprobe = value

    def describe(self) -> str:
        return (f"{self.base.describe()} less {len(self.removed)} removed, "
                f"+ delta of {len(self.delta)} (exact)")

    def delta_ids(self) -> np.ndarray:
        if self._delta_ids is None:
            self._delta_ids = np.sort(self.delta.ids())
        return self._delta_ids

    def ids(self) -> np.ndarray:
        base = self.base.ids()
        return np.concatenate([base[~np.isin(base, self.removed.ids)], self.delta_ids()])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k ``(scores, ids)`` per query over base and delta, best first; missing slots have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        bs, bi = self.base.search(queries, k, exclude=self.removed if len(self.removed) else None)
        ds, di = self.delta.search(queries, k)
        scores = np.concatenate([bs, ds], axis=1)
        ids = np.concatenate([bi, di], axis=1)
        scores = np.where(ids >= 0, scores, -np.inf)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top_s = np.take_along_axis(scores, order, 1)
        top_i = np.take_along_axis(ids, order, 1)
        top_i = np.where(np.isfinite(top_s), top_i, -1)
        return np.where(np.isfinite(top_s), top_s, 0.0).astype(np.float32), top_i

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros((len(ids), self.dim), np.float32)
        in_delta = np.isin(ids, self.delta_ids())
        if in_delta.any():
            out[in_delta] = self.delta.reconstruct(ids[in_delta])
        if (~in_delta).any():
            out[~in_delta] = self.base.reconstruct(ids[~in_delta])
        return out

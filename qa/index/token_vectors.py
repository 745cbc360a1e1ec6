"""Per-sentence token vectors for late interaction (MaxSim), stored per index generation.

Two ``.npy`` files (no pickle), named in the manifest's ``files``:

* ``tokens-NNNNNN.npy``: every sentence's L2-normalised token vectors, float16,
  stacked into one ``(total_tokens, DIM)`` array;
* ``tokidx-NNNNNN.npy``: ``(sentences, 3)`` int64 rows ``[sentence_id, first_row, end_row]``,
  sorted by sentence id.

They cost about 2 bytes x 384 x tokens per sentence (~20 KB for a 25-token
sentence), so they are only written for indexes up to ``TOKEN_VECTORS_MAX``
sentences and ``150 * TOKEN_VECTORS_MAX`` characters of sentence text; larger
indexes rank without the MaxSim step.

An index generation with changes since its base keeps the base's files and
adds a second pair for the sentences added since (``LayeredTokenVectors``).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

#: Indexes with more sentences than this store no token vectors (MaxSim is skipped).
TOKEN_VECTORS_MAX = int(os.environ.get("CITEQA_TOKEN_VECTORS_MAX", "60000"))


#: Bytes of float32 copies kept by ``TokenVectors.float32`` (the sentences a session keeps
#: reranking are converted from float16 once, not on every question).
FLOAT32_CACHE_BYTES = 32 * 2**20


class TokenVectors:
    """Read access to a generation's token vectors (memory-mapped)."""

    def __init__(self, vectors: np.ndarray, index: np.ndarray) -> None:
        self.vectors = vectors
        self.index = index
        self._float32: OrderedDict[int, np.ndarray] = OrderedDict()
        self._float32_bytes = 0
        #: Held while the cache is read or changed: two questions may be asked at once (``qa.conversation``),
        #: and a sentence added twice would count its bytes twice.
        self._float32_lock = threading.Lock()

    @classmethod
    def load(cls, vectors_path: Path, index_path: Path) -> TokenVectors:
        vectors = np.load(vectors_path, mmap_mode="r", allow_pickle=False)
        index = np.load(index_path, allow_pickle=False)
        if vectors.ndim != 2 or index.ndim != 2 or index.shape[1] != 3:
            raise ValueError("token vector files have the wrong shape")
        return cls(vectors, index)

    def prefetch(self, sentence_ids) -> None:
        """Nothing to do: the vectors are mapped from the file."""

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, sentence_id: int) -> bool:
        return self._row(sentence_id) is not None

    def _row(self, sentence_id: int) -> int | None:
        ids = self.index[:, 0]
        i = int(np.searchsorted(ids, sentence_id))
        return i if i < len(ids) and ids[i] == sentence_id else None

    def get(self, sentence_id: int) -> np.ndarray | None:
        row = self._row(sentence_id)
        if row is None:
            return None
        _, start, end = self.index[row]
        return self.vectors[start:end]

    def float32(self, sentence_id: int) -> np.ndarray | None:
        """``get`` as float32, from a small least-recently-used cache (for the query path)."""
        with self._float32_lock:
            arr = self._float32.get(sentence_id)
            if arr is not None:
                self._float32.move_to_end(sentence_id)
                return arr
            half = self.get(sentence_id)
            if half is None:
                return None
            arr = np.asarray(half, dtype=np.float32)
            arr.flags.writeable = False
            self._float32[sentence_id] = arr
            self._float32_bytes += arr.nbytes
            while self._float32_bytes > FLOAT32_CACHE_BYTES and len(self._float32) > 1:
                _, old = self._float32.popitem(last=False)
                self._float32_bytes -= old.nbytes
            return arr


class LayeredTokenVectors:
    """The base's token vectors (less removed sentences) and the delta's, read as one."""

    def __init__(self, base: TokenVectors, delta: TokenVectors, removed: np.ndarray) -> None:
        self.base, self.delta = base, delta
        self.removed = np.unique(np.asarray(removed, dtype=np.int64))
        self._base_removed = int(np.isin(self.removed, base.index[:, 0]).sum())

    def prefetch(self, sentence_ids) -> None:
        """Nothing to do: the vectors are mapped from the file."""

    def __len__(self) -> int:
        return len(self.base) - self._base_removed + len(self.delta)

    def _is_removed(self, sentence_id: int) -> bool:
        i = int(np.searchsorted(self.removed, sentence_id))
        return i < len(self.removed) and self.removed[i] == sentence_id

    def __contains__(self, sentence_id: int) -> bool:
        return self.get(sentence_id) is not None

    def get(self, sentence_id: int) -> np.ndarray | None:
        arr = self.delta.get(sentence_id)
        if arr is None and not self._is_removed(sentence_id):
            arr = self.base.get(sentence_id)
        return arr

    def float32(self, sentence_id: int) -> np.ndarray | None:
        arr = self.delta.float32(sentence_id)
        if arr is None and not self._is_removed(sentence_id):
            arr = self.base.float32(sentence_id)
        return arr


def write_token_vectors(
    vectors_path: Path,
    index_path: Path,
    ids: Iterable[int],
    new: Mapping[int, np.ndarray],
    old,
    dim: int,
) -> None:
    """Write the token vectors of ``ids`` (sorted), taking each from ``new`` or else ``old``."""
    ids = sorted(int(i) for i in ids)
    lengths = []
    for i in ids:
        arr = new.get(i)
        if arr is None:
            arr = old.get(i) if old is not None else None
            if arr is None:
                raise KeyError(f"no token vectors for sentence {i}")
        lengths.append(len(arr))
    ends = np.cumsum(np.array(lengths, dtype=np.int64)) if ids else np.zeros(0, np.int64)
    starts = ends - np.array(lengths, dtype=np.int64)
    total = int(ends[-1]) if len(ends) else 0
    out = np.lib.format.open_memmap(vectors_path, mode="w+", dtype=np.float16, shape=(total, dim))
    for i, s, e in zip(ids, starts, ends, strict=True):
        arr = new.get(i)
        if arr is None:
            arr = old.get(i)
        out[s:e] = arr
    out.flush()
    del out
    index = np.stack([np.array(ids, dtype=np.int64), starts, ends], axis=1) if ids else np.zeros((0, 3), np.int64)
    np.save(index_path, index, allow_pickle=False)

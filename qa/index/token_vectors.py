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

import io
import os
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator
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

    def read(self, sentence_ids: Iterable[int]) -> Iterator[np.ndarray | None]:
        """``get`` of each id, read from the file rather than through the mapping: a writer copying
        many sentences so keeps their pages out of its memory."""
        vectors = self.vectors
        if not isinstance(vectors, np.memmap):
            yield from map(self.get, sentence_ids)
            return
        row_bytes = vectors.dtype.itemsize * vectors.shape[1]
        with open(vectors.filename, "rb") as f:
            for sentence_id in sentence_ids:
                row = self._row(sentence_id)
                if row is None:
                    yield None
                    continue
                _, start, end = self.index[row]
                f.seek(vectors.offset + int(start) * row_bytes)
                data = f.read(int(end - start) * row_bytes)
                yield np.frombuffer(data, dtype=vectors.dtype).reshape(-1, vectors.shape[1])

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

    def read(self, sentence_ids: Iterable[int]) -> Iterator[np.ndarray | None]:
        """``get`` of each id, read from the files (see ``TokenVectors.read``)."""
        ids = list(sentence_ids)
        layer = ["delta" if i in self.delta else None if self._is_removed(i) else "base" for i in ids]
        delta = self.delta.read(i for i, where in zip(ids, layer, strict=True) if where == "delta")
        base = self.base.read(i for i, where in zip(ids, layer, strict=True) if where == "base")
        for where in layer:
            yield next(delta) if where == "delta" else next(base) if where == "base" else None

    def float32(self, sentence_id: int) -> np.ndarray | None:
        arr = self.delta.float32(sentence_id)
        if arr is None and not self._is_removed(sentence_id):
            arr = self.base.float32(sentence_id)
        return arr


#: Bytes of the ``.npy`` header of a token-vector file: the header of a 2-D float16 array, padded as
#: numpy pads it, for any number of rows up to 10**38 (``close`` checks it).
HEADER_BYTES = 128


class TokenVectorsWriter:
    """Writes a generation's pair of files as the token vectors come, in sentence-id order, with plain
    file writes: neither all the vectors nor the file's pages are held in memory. The ``.npy``
    header, which holds the number of rows, is written at the end (``close``); a writer left on an
    exception leaves an unfinished file, which the failed generation's clean-up removes."""

    def __init__(self, vectors_path: Path, index_path: Path, dim: int) -> None:
        self.vectors_path, self.index_path, self.dim = vectors_path, index_path, dim
        self._file = open(vectors_path, "wb")
        self._file.write(bytes(HEADER_BYTES))
        self._rows = 0
        self._index = array("q")  # sentence_id, first_row, end_row, ...

    def __enter__(self) -> TokenVectorsWriter:
        return self

    def __exit__(self, kind, *exc) -> None:
        if kind is None:
            self.close()
        else:
            self._file.close()

    def add(self, sentence_id: int, vectors: np.ndarray) -> None:
        if self._index and sentence_id <= self._index[-3]:
            raise ValueError(f"token vectors of sentence {sentence_id} come after those of {self._index[-3]}")
        vectors = np.ascontiguousarray(vectors, dtype=np.float16)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"token vectors of shape {vectors.shape}, expected (n, {self.dim})")
        self._file.write(vectors.tobytes())
        self._index.extend((sentence_id, self._rows, self._rows + len(vectors)))
        self._rows += len(vectors)

    def copy(self, source, sentence_ids: Iterable[int]) -> list[int]:
        """Add the token vectors that ``source`` (``TokenVectors`` or ``LayeredTokenVectors``) holds for
        ``sentence_ids``; returns the ids it has none for."""
        ids = list(sentence_ids)
        missing = []
        for sentence_id, vectors in zip(ids, source.read(ids), strict=True):
            if vectors is None:
                missing.append(sentence_id)
            else:
                self.add(sentence_id, vectors)
        return missing

    def close(self) -> None:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float16)), "fortran_order": False,
                     "shape": (self._rows, self.dim)}
        )
        if len(header.getvalue()) != HEADER_BYTES:
            raise ValueError(f"unexpected .npy header of {len(header.getvalue())} bytes")
        self._file.seek(0)
        self._file.write(header.getvalue())
        self._file.close()
        index = np.frombuffer(self._index, dtype=np.int64).reshape(-1, 3) if self._index else np.zeros((0, 3), np.int64)
        np.save(self.index_path, index, allow_pickle=False)

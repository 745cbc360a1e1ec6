"""The local backend's reader: a read-only snapshot of an index folder (``qa.index.layout``),
the base less its tombstones plus the delta, behind ``qa.index.protocol.IndexBackend``."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from embeddings.model import DIM
from qa.errors import IndexProblem
from qa.index.ingest import EmbeddingTexts
from qa.index.layout import (
    attach_delta,
    connect_readonly,
    count_rows,
    read_manifest,
    rebuild_hint,
    valid_file_name,
)
from qa.index.protocol import DocumentInfo, IndexStats, Sentence


def _load_vectors(index_dir: Path, path: Path):
    from embeddings.index import VectorIndex

    try:
        vectors = VectorIndex.load(path, mmap=True)  # read-only, mapped: quick open
    except (RuntimeError, MemoryError) as e:
        if not path.exists():  # a writer replaced this generation meanwhile: retry
            raise FileNotFoundError(path) from None
        msg = str(e).strip().splitlines()[-1] if str(e).strip() else "unreadable"
        msg = msg.rsplit("Error: ", 1)[-1][:160]  # FAISS's assertion, without its C++ location
        raise IndexProblem(f"{path} is corrupt ({msg}); {rebuild_hint(index_dir)}") from None
    if vectors.dim != DIM:
        raise IndexProblem(f"{path} holds vectors of dim {vectors.dim}, not {DIM}; {rebuild_hint(index_dir)}")
    return vectors



#: A scope that keeps at most this many documents is searched over their sentences alone
#: (``LocalIndex._kept_sentences``).
SCOPE_FEW_DOCUMENTS = 200


class LocalIndex:
    """A read-only snapshot of an index directory: the base, less its tombstones, plus the delta."""

    def __init__(
        self,
        index_dir: Path,
        manifest: dict,
        db: sqlite3.Connection,
        vectors,
        removed: np.ndarray | None = None,
        sizes: dict[str, int] | None = None,
    ) -> None:
        self.path = index_dir
        self.location = str(index_dir)
        self.manifest = manifest
        self.db = db
        self.vector_index = vectors  # embeddings.index.VectorIndex, or LayeredIndex with a delta
        #: sentence ids of the base that the delta removed (sorted; empty without a delta)
        self.removed = removed if removed is not None else np.zeros(0, np.int64)
        #: rows of each layer: base_sentences, base_documents, delta_sentences, delta_documents, ...
        self.sizes = sizes or {}
        self._docs: dict[str, DocumentInfo] = {}
        self._all_docs: list[DocumentInfo] | None = None  # the snapshot's documents, listed once
        self._texts: dict[str, str] = {}
        self._tokens = None
        self._bm25 = None
        self._lexical_cache: dict[str, np.ndarray] = {}
        #: Held while loading the BM25 index or the token vectors, and while the lexical cache
        #: changes: two questions may be asked at once (``qa.conversation``).
        self._lock = threading.Lock()

    @property
    def layered(self) -> bool:
        """Whether this generation has a delta over its base."""
        return "delta_db" in self.manifest["files"]

    def _aux_path(self, key: str) -> Path | None:
        name = self.manifest.get("files", {}).get(key)
        if not valid_file_name(key, name):
            return None
        path = self.path / name
        return path if path.exists() else None

    def load_token_vectors(self, vec_key: str, idx_key: str):
        from qa.index.token_vectors import TokenVectors

        vec, idx = self._aux_path(vec_key), self._aux_path(idx_key)
        if vec is None or idx is None:
            return None
        try:
            return TokenVectors.load(vec, idx)
        except (OSError, ValueError):
            return None

    @property
    def token_vectors(self):
        """The sentences' token vectors (``qa.index.token_vectors.TokenVectors``), or None if not stored."""
        if self._tokens is None:
            from qa.index.token_vectors import LayeredTokenVectors

            with self._lock:  # loaded once, and set whole (another thread must not see the base alone)
                if self._tokens is None:
                    tokens = self.load_token_vectors("tokens", "tokidx") or False
                    if tokens and self.layered:
                        delta = self.load_token_vectors("delta_tokens", "delta_tokidx")
                        tokens = LayeredTokenVectors(tokens, delta, self.removed) if delta else False
                    self._tokens = tokens
        return self._tokens or None

    def _load_bm25(self, key: str, rows: int | None):
        from qa.index.bm25 import BM25Index

        folder = self._aux_path(key)
        if folder is None:
            return None
        try:
            index = BM25Index.load(folder)
        except (OSError, ValueError, KeyError):
            return None
        return index if rows is None or len(index) == rows else None

    @property
    def bm25(self):
        """The BM25 index (``qa.index.bm25.BM25Index``): saved with the index, or built once here."""
        if self._bm25 is None:
            from qa.index.bm25 import BM25Index, LayeredBM25

            with self._lock:  # loaded (or built) once, and set whole
                if self._bm25 is None:
                    bm25 = self._load_bm25("bm25", self.sizes.get("base_sentences"))
                    if bm25 is not None and self.layered:
                        delta = self._load_bm25("delta_bm25", self.sizes.get("delta_sentences"))
                        bm25 = LayeredBM25(bm25, delta, self.removed) if delta is not None else None
                    if bm25 is None or len(bm25) != len(self):
                        sents = list(self.iter_sentences())
                        embedded = EmbeddingTexts(self._title_text_format)
                        texts = [embedded(x.doc, x.start, x.end) for x in sents]
                        bm25 = BM25Index.build(texts, [x.id for x in sents])
                    self._bm25 = bm25
        return self._bm25

    def _title_text_format(self, doc_id: str) -> tuple[str | None, str, str]:
        info = self.document(doc_id)
        return info.title, self.text(doc_id), info.format

    @classmethod
    def open(cls, index_dir: str | os.PathLike[str]) -> LocalIndex:
        index_dir = Path(index_dir)
        for attempt in range(3):  # a writer may replace the generation between reads
            manifest = read_manifest(index_dir)
            try:
                return cls._open_generation(index_dir, manifest)
            except FileNotFoundError:
                if attempt == 2:
                    raise IndexProblem(
                        f"{index_dir}: files named by manifest.json are missing; {rebuild_hint(index_dir)}"
                    ) from None
                time.sleep(0.05)
        raise AssertionError("unreachable")

    @classmethod
    def _open_generation(cls, index_dir: Path, manifest: dict) -> LocalIndex:
        from embeddings.index import LayeredIndex

        files = manifest["files"]
        db_path, vec_path = index_dir / files["db"], index_dir / files["vectors"]
        delta_path = index_dir / files["delta_db"] if "delta_db" in files else None
        dvec_path = index_dir / files["delta_vectors"] if "delta_db" in files else None
        for p in (db_path, vec_path, delta_path, dvec_path):
            if p is not None and not p.is_file():
                raise FileNotFoundError(p)
        sizes: dict[str, int] = {}
        removed = None
        db = None
        current = db_path
        try:
            db = connect_readonly(db_path)
            sizes["base_sentences"] = count_rows(db, "main.sentences")
            sizes["base_documents"] = count_rows(db, "main.documents")
            n_sent, n_docs = sizes["base_sentences"], sizes["base_documents"]
            if delta_path is not None:
                current = delta_path
                attach_delta(db, delta_path)
                for table in ("sentences", "documents", "removed_sentences", "removed_documents"):
                    sizes[f"delta_{table}"] = count_rows(db, f"delta.{table}")
                n_sent += sizes["delta_sentences"] - sizes["delta_removed_sentences"]
                n_docs += sizes["delta_documents"] - sizes["delta_removed_documents"]
                removed = np.fromiter(
                    (r[0] for r in db.execute("SELECT id FROM delta.removed_sentences ORDER BY id")), dtype=np.int64
                )
        except (sqlite3.DatabaseError, OverflowError, TypeError) as e:
            if db is not None:
                db.close()
            if not current.exists():  # a writer replaced this generation meanwhile: retry
                raise FileNotFoundError(current) from None
            raise IndexProblem(f"{current} is corrupt ({e}); {rebuild_hint(index_dir)}") from None
        vectors = _load_vectors(index_dir, vec_path)
        if dvec_path is not None:
            delta = _load_vectors(index_dir, dvec_path)
            if not (len(vectors) == sizes["base_sentences"] and len(delta) == sizes["delta_sentences"]):
                db.close()
                raise IndexProblem(
                    f"{index_dir} is inconsistent ({len(vectors)} + {len(delta)} vectors for "
                    f"{sizes['base_sentences']} + {sizes['delta_sentences']} sentences); {rebuild_hint(index_dir)}"
                )
            vectors = LayeredIndex(vectors, delta, removed)
        if not (len(vectors) == n_sent == manifest["sentences"] and n_docs == manifest["documents"]):
            db.close()
            raise IndexProblem(
                f"{index_dir} is inconsistent ({len(vectors)} vectors, {n_sent} sentences, "
                f"{n_docs} documents; manifest says {manifest['sentences']} and {manifest['documents']}); "
                f"{rebuild_hint(index_dir)}"
            )
        return cls(index_dir, manifest, db, vectors, removed, sizes)

    @property
    def bm25_k1(self) -> float:
        model = self.bm25.model
        return float(model.k1) if model is not None else 1.5

    def _lexical(self, question: str) -> np.ndarray:
        """BM25 scores of every row for ``question`` (the last few questions' are kept: a
        retriever asks for the top list and then for the scores of some of its neighbours)."""
        cache = self._lexical_cache
        scores = cache.get(question)
        if scores is None:
            scores = self.bm25.scores(question)
            with self._lock:  # two threads evicting at once would pop the same question
                if len(cache) >= 4:
                    cache.pop(next(iter(cache)))
                cache[question] = scores
        return scores

    def _kept_sentences(self, exclude_docs) -> np.ndarray | None:
        """The ids of the sentences outside ``exclude_docs`` when a scope keeps only a few documents
        (``SCOPE_FEW_DOCUMENTS`` at most, and at most a quarter of them), else None. Searching those
        alone costs what the scope holds; searching the whole index and dropping the rest costs what
        the index holds (1.5 s for one document of 5,000, against 72 ms for the whole library)."""
        if not exclude_docs:
            return None
        every = self.documents()
        kept = [d.id for d in every if d.id not in exclude_docs]
        if not kept or len(kept) > SCOPE_FEW_DOCUMENTS or 4 * len(kept) > len(every):
            return None
        marks = ",".join("?" * len(kept))
        rows = self.db.execute(f"SELECT id FROM sentences WHERE doc IN ({marks}) ORDER BY id", kept)
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def search_lexical(self, question: str, k: int, exclude_docs=frozenset()) -> list[tuple[int, float]]:
        bm25 = self.bm25
        scores = self._lexical(question)
        kept = self._kept_sentences(exclude_docs)
        if kept is not None:
            rows = bm25.rows(kept)
            known = rows >= 0
            ids, rows = kept[known], rows[known]
            mine = scores[rows] if len(scores) else np.zeros(len(rows), np.float32)
            order = np.argsort(-mine, kind="stable")[:k]
            return [(int(ids[i]), float(mine[i])) for i in order]
        depth = k
        while True:
            ids, top = bm25.top(scores, depth)
            hits = self._outside([(int(i), float(s)) for i, s in zip(ids, top, strict=True)], exclude_docs)
            if len(hits) >= k or depth >= len(scores):
                return hits[:k]
            depth *= 4

    def _outside(self, hits: list[tuple[int, float]], exclude_docs) -> list[tuple[int, float]]:
        """``hits`` less the sentences of ``exclude_docs``."""
        if not exclude_docs:
            return hits
        docs = self.documents_of(i for i, _ in hits)
        return [h for h in hits if docs.get(h[0]) not in exclude_docs]

    def lexical_scores(self, question: str, ids: list[int]) -> np.ndarray:
        scores = self._lexical(question)
        rows = self.bm25.rows(ids)
        if not len(scores):
            return np.zeros(len(ids), np.float32)
        return np.where(rows >= 0, scores[np.maximum(rows, 0)], 0.0).astype(np.float32)

    def term_weights(self, question: str) -> dict[str, float]:
        from qa.index.bm25 import query_terms

        bm25 = self.bm25
        if bm25.model is None:
            return {}
        return {t: float(bm25.idf(t)) for t in query_terms(question)}

    def term_counts(self, terms: list[str]) -> dict[str, int]:
        return self.bm25.term_counts(terms)

    def search_dense(self, query_vector: np.ndarray, k: int, exclude_docs=frozenset()) -> list[tuple[int, float]]:
        """FAISS's nearest sentences; with ``exclude_docs``, searched deeper until ``k`` are left (or,
        when the scope keeps a few documents, their sentences' vectors compared with the query)."""
        scope_ids = self._kept_sentences(exclude_docs)
        if scope_ids is not None:
            vectors = self.vectors(scope_ids.tolist())
            if vectors is not None:
                sims = vectors @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
                order = np.argsort(-sims, kind="stable")[:k]
                return [(int(scope_ids[i]), float(sims[i])) for i in order]
        depth = k
        if exclude_docs:  # a scope leaving most documents out needs a deeper search
            kept = 1.0 - len(exclude_docs) / max(1, int(self.manifest.get("documents") or 1))
            depth = min(max(len(self), 1), max(4 * k, int(4 * k / max(kept, 1e-6))))
        while True:
            scores, ids = self.vector_index.search(query_vector, depth)
            hits = [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
            hits = self._outside(hits, exclude_docs)
            if len(hits) >= k or depth >= len(self):
                return hits[:k]
            depth *= 4

    def vectors(self, ids: list[int]) -> np.ndarray | None:
        if not ids:
            return np.zeros((0, DIM), np.float32)
        try:
            return self.vector_index.reconstruct(np.asarray(ids, dtype=np.int64))
        except (RuntimeError, AttributeError):
            return None

    def sentence_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT doc, COUNT(*) FROM sentences GROUP BY doc").fetchall())

    def stats(self) -> IndexStats:
        m = self.manifest
        return IndexStats(
            backend="local",
            location=self.location,
            documents=int(m["documents"]),
            sentences=len(self),
            token_vectors=self.token_vectors is not None,
            details={
                "generation": m["generation"],
                "base_generation": m.get("base_generation", m["generation"]),
                "vectors": self.vector_index.describe(),
                "updated": m.get("updated"),
            },
        )

    def close(self) -> None:
        self.db.close()

    # -- reading -----------------------------------------------------------

    def __len__(self) -> int:
        return len(self.vector_index)

    def document(self, doc_id: str) -> DocumentInfo:
        if doc_id not in self._docs:
            row = self.db.execute(
                "SELECT id, path, title, format, sha256 FROM documents WHERE id = ?", (doc_id,)
            ).fetchone()
            if row is None:
                raise KeyError(doc_id)
            self._docs[doc_id] = DocumentInfo(**dict(row))
        return self._docs[doc_id]

    def digests(self) -> dict[str, tuple[str, str, str | None]]:
        """{document id: (sha256, path, title)}, in no order (what an update compares against)."""
        return {r[0]: (r[1], r[2], r[3]) for r in self.db.execute("SELECT id, sha256, path, title FROM documents")}

    def documents(self) -> list[DocumentInfo]:
        if self._all_docs is None:  # a snapshot: they do not change while it is open
            rows = self.db.execute("SELECT id, path, title, format, sha256 FROM documents ORDER BY id")
            self._all_docs = [DocumentInfo(**dict(r)) for r in rows]
        return list(self._all_docs)

    def text(self, doc_id: str) -> str:
        """The document text that offsets index into."""
        text = self._texts.get(doc_id)  # (one look-up: another thread may clear the cache meanwhile)
        if text is None:
            row = self.db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if row is None:
                raise KeyError(doc_id)
            text = row[0]
            if not isinstance(text, str):
                raise IndexProblem(f"{self.path}: the text of {doc_id!r} is not text; {rebuild_hint(self.path)}")
            if len(self._texts) > 256:
                self._texts.clear()
            self._texts[doc_id] = text
        return text

    def sentences(self, ids: Iterable[int]) -> list[Sentence]:
        """Sentences by id, in the order asked (unknown ids are left out)."""
        ids = [int(i) for i in ids]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = {
            r["id"]: r
            for r in self.db.execute(
                f"SELECT id, doc, start, end, line, page FROM sentences WHERE id IN ({marks})", ids
            )
        }
        out = []
        for i in ids:
            r = rows.get(i)
            if r is not None:
                out.append(self._sentence(r))
        return out

    def documents_of(self, ids: Iterable[int]) -> dict[int, str]:
        """The document id of each known sentence id (no text: cheaper than ``sentences``)."""
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {r[0]: r[1] for r in self.db.execute(f"SELECT id, doc FROM sentences WHERE id IN ({marks})", ids)}

    def _sentence(self, r) -> Sentence:
        """A sentence row with its text, after checking the row (index files may come from others)."""
        start, end = r["start"], r["end"]
        try:
            text = self.text(r["doc"])
        except KeyError:
            text = None
        if text is None or type(start) is not int or type(end) is not int or not 0 <= start <= end <= len(text):
            raise IndexProblem(
                f"{self.path} holds an invalid sentence (id {r['id']!r}: {start!r}..{end!r} in {r['doc']!r}); "
                f"{rebuild_hint(self.path)}"
            )
        return Sentence(r["id"], r["doc"], start, end, r["line"], r["page"], text[start:end])

    def sentence_ids(self, doc_id: str) -> list[int]:
        """The ids of a document's sentences, in text order."""
        rows = self.db.execute("SELECT id FROM sentences WHERE doc = ? ORDER BY start", (doc_id,)).fetchall()
        return [r[0] for r in rows]

    def document_sentences(self, doc_id: str) -> list[Sentence]:
        return self.sentences(self.sentence_ids(doc_id))

    def iter_sentences(self) -> Iterator[Sentence]:
        """Every sentence, in id order (for building lexical indexes)."""
        rows = self.db.execute("SELECT id, doc, start, end, line, page FROM sentences ORDER BY id")
        for r in rows:
            yield self._sentence(r)

    def neighbours(self, sentence: Sentence, before: int = 1, after: int = 1) -> list[Sentence]:
        """The sentence with up to ``before``/``after`` neighbours from the same document."""
        prev = self.db.execute(
            "SELECT id FROM sentences WHERE doc = ? AND start < ? ORDER BY start DESC LIMIT ?",
            (sentence.doc, sentence.start, before),
        ).fetchall()
        nxt = self.db.execute(
            "SELECT id FROM sentences WHERE doc = ? AND start > ? ORDER BY start LIMIT ?",
            (sentence.doc, sentence.start, after),
        ).fetchall()
        ids = [r[0] for r in reversed(prev)] + [sentence.id] + [r[0] for r in nxt]
        return self.sentences(ids)


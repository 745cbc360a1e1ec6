"""Compaction of the local index: when a change is written as a new base of everything rather
than a delta (``must_compact``), and the writer of that base (``BaseWriter``), which folds the
old delta in."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable

import numpy as np

from embeddings.model import DIM, Encoder
from qa.errors import IndexProblem
from qa.index import layout
from qa.index.ingest import (
    EmbeddingTexts,
    GenerationWriter,
    Plan,
    db_lookup,
    delete_document,
    sentences_from,
    write_bm25,
)
from qa.index.layout import SCHEMA, count_rows, fsync_file
from qa.index.local import LocalIndex
from qa.index.token_vectors import TokenVectorsWriter


def want_token_vectors(sentences: int, chars: int) -> bool:
    """Whether an index of this size stores token vectors: bounded by sentences and by text
    size (~150 characters = ~30 tokens a sentence on average, so a few huge one-line files
    cannot make a file of gigabytes)."""
    from qa.index.token_vectors import TOKEN_VECTORS_MAX

    return sentences <= TOKEN_VECTORS_MAX and chars <= TOKEN_VECTORS_MAX * 150


def must_compact(old: LocalIndex, plan: Plan, load_encoder: Callable[[], Encoder]) -> bool:
    """Whether this change must be written as a new base rather than a delta over the old one."""
    files = old.manifest["files"]
    if "bm25" not in files:  # an index from before BM25 was saved: write it whole
        return True
    sizes = old.sizes
    delta_sent = sizes.get("delta_sentences", 0) + plan.new_sentences
    dead = sizes.get("delta_removed_sentences", 0)
    dropped = dropped_chars = 0
    for doc_id in plan.drop:
        n, chars = old.db.execute(
            "SELECT count(*), coalesce(sum(end - start), 0) FROM sentences WHERE doc = ?", (doc_id,)
        ).fetchone()
        in_delta = old.layered and old.db.execute("SELECT 1 FROM delta.documents WHERE id = ?", (doc_id,)).fetchone()
        dropped += n
        dropped_chars += chars
        if in_delta:
            delta_sent -= n
        else:
            dead += n
    base = sizes["base_sentences"]
    if delta_sent + dead > layout.DELTA_MAX_FRACTION * base:
        return True
    total = len(old) - dropped + plan.new_sentences
    base_vectors = old.vector_index.base if old.layered else old.vector_index
    if not base_vectors.suits(total):
        return True
    from qa.index.token_vectors import TOKEN_VECTORS_MAX

    want = False
    if total <= TOKEN_VECTORS_MAX:
        chars = old.db.execute("SELECT coalesce(sum(end - start), 0) FROM sentences").fetchone()[0]
        want = want_token_vectors(total, chars - dropped_chars + plan.new_chars)
    has = old.load_token_vectors("tokens", "tokidx") is not None
    if want != has:
        return True
    # the new sentences need token vectors like the base's: an encoder without them compacts
    return has and bool(plan.add) and not load_encoder().has_token_vectors



class BaseWriter(GenerationWriter):
    """A new base of everything (a first build, a rebuild, or a compaction of base and delta)."""

    def write(self) -> dict[str, str]:
        from embeddings.index import VectorIndex

        old, plan = self.old, self.plan
        db_path, vec_path = self.path("db"), self.path("vectors")
        tok_path, idx_path = self.path("tokens"), self.path("tokidx")
        for p in (db_path, vec_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        old_tokens = old.token_vectors if old is not None else None
        db = sqlite3.connect(db_path)
        try:
            if old is not None:
                old.db.backup(db)  # the base (the delta is attached, not copied)
                vectors = VectorIndex.load(self.index_dir / old.manifest["files"]["vectors"])  # writable
                if old.layered:
                    self._merge_delta(db, vectors)
            else:
                vectors = VectorIndex(DIM)
            db.executescript(SCHEMA)
            dropped: list[int] = []
            for doc_id in plan.drop:
                dropped += delete_document(db, doc_id)
            for doc_id, (path, title) in plan.renamed.items():
                db.execute("UPDATE documents SET path = ?, title = ? WHERE id = ?", (path, title, doc_id))
            vectors.remove(np.array(dropped, dtype=np.int64))
            kept = [r[0] for r in db.execute("SELECT id FROM sentences ORDER BY id")]
            kept_chars = db.execute("SELECT coalesce(sum(end - start), 0) FROM sentences").fetchone()[0]
            want_tokens = want_token_vectors(len(kept) + plan.new_sentences, kept_chars + plan.new_chars)
            # token vectors: kept sentences' are copied from the old generation (or encoded, if it had
            # none), in id order; new sentences (ids above them) get theirs from the same forward pass
            if want_tokens:
                lacking = bool(kept) if old_tokens is None else any(j not in old_tokens for j in kept)
                if (plan.add or lacking) and not self.encoder().has_token_vectors:
                    want_tokens = False
            with TokenVectorsWriter(tok_path, idx_path, DIM) if want_tokens else contextlib.nullcontext() as tokens:
                if tokens is not None:
                    self._kept_tokens(db, kept, old_tokens, tokens)
                del kept
                self.add_documents(db, None, vectors, tokens)
                db.commit()
                self.n_docs = count_rows(db, "documents")
                self.n_sent = count_rows(db, "sentences")
        finally:
            db.close()
        if self.n_sent != len(vectors):
            raise IndexProblem(f"internal error: {self.n_sent} sentences but {len(vectors)} vectors; index not changed")
        vectors = vectors.fit_to_size()  # exact or approximate, by collection size
        vectors.save(vec_path)
        fsync_file(vec_path)
        fsync_file(db_path)
        files = {"db": db_path.name, "vectors": vec_path.name}
        write_bm25(self.path("bm25"), db_path)
        files["bm25"] = self.path("bm25").name
        if want_tokens:
            fsync_file(tok_path)
            fsync_file(idx_path)
            files.update(tokens=tok_path.name, tokidx=idx_path.name)
        return files

    def _kept_tokens(self, db: sqlite3.Connection, kept: list[int], old_tokens, tokens: TokenVectorsWriter) -> None:
        """Write the kept sentences' token vectors: the old generation's, or encoded for those it lacks."""
        embedded = EmbeddingTexts(db_lookup(db))
        for i in range(0, len(kept), self.chunk):
            part = kept[i : i + self.chunk]
            stored = list(old_tokens.read(part)) if old_tokens is not None else [None] * len(part)
            missing = [j for j, arr in zip(part, stored, strict=True) if arr is None]
            if missing:
                texts = [embedded(s.doc, s.start, s.end) for s in sentences_from(db, missing)]
                _, encoded = self.encoder().encode_with_tokens(texts, batch_size=self.batch_size)
                fill = iter(encoded)
                stored = [arr if arr is not None else next(fill) for arr in stored]
            for j, arr in zip(part, stored, strict=True):
                tokens.add(j, arr)

    def _merge_delta(self, db: sqlite3.Connection, vectors) -> None:
        """Fold the old delta into the copy of the old base: tombstones applied, new rows added."""
        from embeddings.index import VectorIndex

        old = self.old
        files = old.manifest["files"]
        db.execute("ATTACH DATABASE ? AS d", (f"file:{self.index_dir / files['delta_db']}?mode=ro",))
        db.execute("DELETE FROM sentences WHERE id IN (SELECT id FROM d.removed_sentences)")
        db.execute("DELETE FROM documents WHERE id IN (SELECT id FROM d.removed_documents)")
        db.execute(
            "UPDATE documents SET path = (SELECT path FROM d.renamed r WHERE r.id = documents.id), "
            "title = (SELECT title FROM d.renamed r WHERE r.id = documents.id) "
            "WHERE id IN (SELECT id FROM d.renamed)"
        )
        db.execute("INSERT INTO documents (id, path, title, format, sha256, text, pages) "
                   "SELECT id, path, title, format, sha256, text, pages FROM d.documents")
        db.execute("INSERT INTO sentences (id, doc, start, end, line, page) "
                   "SELECT id, doc, start, end, line, page FROM d.sentences")
        db.commit()
        db.execute("DETACH DATABASE d")
        vectors.remove(old.removed)
        delta = VectorIndex.load(self.index_dir / files["delta_vectors"])
        ids = delta.ids()
        vectors.add(delta.reconstruct(ids), ids)


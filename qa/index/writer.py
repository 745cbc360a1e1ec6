"""Updates of the local index: ``update_local`` plans the change, writes it as a new delta over
the current base (``DeltaWriter``) or as a new base (``qa.index.compaction``), and commits it
by replacing the manifest (see ``qa.index.layout``)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from embeddings.model import DIM, MODEL_NAME, Encoder
from qa.documents import Document
from qa.errors import IndexProblem
from qa.index.compaction import BaseWriter, must_compact
from qa.index.ingest import GenerationWriter, delete_document, once, plan_update, write_bm25
from qa.index.layout import (
    DELTA_SCHEMA,
    FORMAT,
    FORMAT_VERSION,
    GENERATION_FILE,
    MANIFEST,
    cleanup,
    connect_readonly,
    count_rows,
    fsync_file,
    max_generation,
    remove_generation,
    write_error,
    write_lock,
    write_manifest,
)
from qa.index.local import LocalIndex
from qa.index.protocol import UpdateReport


def update_local(
    index_dir: str | os.PathLike[str],
    documents: Iterable[Document],
    load_encoder: Callable[[], Encoder],
    *,
    rebuild: bool = False,
    progress: Callable[[int], Callable[[int], None] | None] = lambda total: None,
    notify: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
    lock_wait: float = 600.0,
    batch_size: int = 64,
    extra: dict | None = None,
    keep: Callable[[str], bool] | None = None,
) -> UpdateReport:
    """Make the index at ``index_dir`` hold exactly ``documents``, embedding only what changed.

    With ``keep``, the old documents for which ``keep(id)`` is true stay as they are when they
    are not given (``qa index`` syncs one root of the personal library and keeps the others).

    ``load_encoder`` is called only if something needs embedding. ``progress(total)``
    returns a callback that receives the number of sentences embedded so far. The change
    is written as a delta over the current base, or compacted into a new base (see the
    module docstring).
    """
    index_dir = Path(index_dir)
    report = UpdateReport()
    load_encoder = once(load_encoder)
    with write_lock(index_dir, lock_wait, notify):
        old = None
        if not rebuild and (index_dir / MANIFEST).exists():
            old = LocalIndex.open(index_dir)
        generation = (old.manifest["generation"] if old else max_generation(index_dir)) + 1
        files: dict[str, str] = {}
        try:
            old_docs = old.digests() if old is not None else {}
            plan = plan_update(old_docs, documents, report, notify, keep)
            extra_changed = old is not None and any(old.manifest.get(k) != v for k, v in (extra or {}).items())
            if old is not None and not (plan.add or plan.drop or extra_changed):
                report.sentences_total = len(old)
                report.documents_total = len(old_docs)
                # leftovers of a writer killed after its commit go now, not at the next change
                cleanup(index_dir, set(old.manifest["files"].values()))
                old.close()
                return report
            writer = DeltaWriter if old is not None and not must_compact(old, plan, load_encoder) else BaseWriter
            w = writer(index_dir, generation, old, plan, load_encoder, progress, batch_size)
            files = w.write()
            report.sentences_embedded = w.embedded
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "model": MODEL_NAME,
                "dim": DIM,
                "documents": w.n_docs,
                "sentences": w.n_sent,
                "generation": generation,
                "base_generation": w.base_generation,
                "files": files,
                "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **(extra or {}),
            }
            if old is not None:
                old.close()
                old = None
            write_manifest(index_dir, manifest)
            report.committed = True
            report.sentences_total = w.n_sent
            report.documents_total = w.n_docs
        except BaseException as e:
            if old is not None:
                old.close()
            remove_generation(index_dir, generation)
            reason = write_error(e)
            if reason:
                raise IndexProblem(
                    f"cannot write the index at {index_dir} ({reason}); nothing was changed: "
                    "free some space or fix permissions, then run qa index again"
                ) from None
            raise
        cleanup(index_dir, set(files.values()))
    return report



class DeltaWriter(GenerationWriter):
    """A new delta over the old base: the old delta's content plus this change."""

    def write(self) -> dict[str, str]:
        from embeddings.index import VectorIndex
        from qa.index.token_vectors import write_token_vectors

        old, plan = self.old, self.plan
        old_files = old.manifest["files"]
        self.base_generation = old.manifest.get("base_generation", int(GENERATION_FILE.match(old_files["db"]).group(2)))
        files = {k: old_files[k] for k in ("db", "vectors", "bm25", "tokens", "tokidx") if k in old_files}
        base_tokens = "tokens" in files and "tokidx" in files
        db_path = self.path("delta_db")
        with contextlib.suppress(FileNotFoundError):
            db_path.unlink()
        db = sqlite3.connect(db_path)
        try:
            if old.layered:
                src = connect_readonly(self.index_dir / old_files["delta_db"])
                try:
                    src.backup(db)
                finally:
                    src.close()
            else:
                db.executescript(DELTA_SCHEMA)
            dropped: list[int] = []  # sentence ids leaving the delta
            for doc_id in plan.drop:
                if db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None:
                    dropped += delete_document(db, doc_id)
                else:  # a base document: tombstones
                    db.execute("INSERT INTO removed_documents (id) VALUES (?)", (doc_id,))
                    db.executemany(
                        "INSERT INTO removed_sentences (id) VALUES (?)",
                        old.db.execute("SELECT id FROM main.sentences WHERE doc = ?", (doc_id,)).fetchall(),
                    )
                    db.execute("DELETE FROM renamed WHERE id = ?", (doc_id,))
            for doc_id, (path, title) in plan.renamed.items():
                cur = db.execute("UPDATE documents SET path = ?, title = ? WHERE id = ?", (path, title, doc_id))
                if not cur.rowcount:  # a base document
                    db.execute("INSERT OR REPLACE INTO renamed (id, path, title) VALUES (?,?,?)", (doc_id, path, title))
            top = max(old.db.execute("SELECT coalesce(max(id), 0) FROM main.sentences").fetchone()[0],
                      db.execute("SELECT coalesce(max(id), 0) FROM sentences").fetchone()[0])
            new_ids, texts = self.insert_documents(db, top + 1)
            vecs, toks = self.embed(texts, base_tokens)
            db.commit()
            sizes = old.sizes
            self.n_docs = sizes["base_documents"] + count_rows(db, "documents") - count_rows(db, "removed_documents")
            self.n_sent = sizes["base_sentences"] + count_rows(db, "sentences") - count_rows(db, "removed_sentences")
            delta_ids = [r[0] for r in db.execute("SELECT id FROM sentences ORDER BY id")]
        finally:
            db.close()
        fsync_file(db_path)
        files["delta_db"] = db_path.name

        if old.layered:  # a writable copy (readers map theirs read-only)
            vectors = VectorIndex.load(self.index_dir / old_files["delta_vectors"])
        else:
            vectors = VectorIndex(DIM)
        vectors.remove(np.array(dropped, dtype=np.int64))
        vectors.add(vecs, np.array(new_ids, dtype=np.int64))
        if len(vectors) != len(delta_ids):
            raise IndexProblem(f"internal error: {len(delta_ids)} delta sentences but {len(vectors)} vectors")
        vectors.save(self.path("delta_vectors"))
        fsync_file(self.path("delta_vectors"))
        files["delta_vectors"] = self.path("delta_vectors").name

        write_bm25(self.path("delta_bm25"), db_path)
        files["delta_bm25"] = self.path("delta_bm25").name
        if base_tokens:
            old_delta = old.load_token_vectors("delta_tokens", "delta_tokidx") if old.layered else None
            tok, idx = self.path("delta_tokens"), self.path("delta_tokidx")
            write_token_vectors(tok, idx, delta_ids, dict(zip(new_ids, toks, strict=True)), old_delta, DIM)
            fsync_file(tok)
            fsync_file(idx)
            files.update(delta_tokens=tok.name, delta_tokidx=idx.name)
        return files


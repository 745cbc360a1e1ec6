"""Updates of the local index: ``update_local`` plans the change, writes it as a new delta over
the current base (``DeltaWriter``) or as a new base (``qa.index.compaction``), and commits it
by replacing the manifest (see ``qa.index.layout``).

A change that embeds many sentences is written and committed in parts (``commit_parts``), one
generation each, so that a run interrupted or killed keeps the parts it committed and the next
run embeds only the rest. Every committed generation holds each document whole, in its old or its
new version."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from embeddings.model import DIM, MODEL_NAME, Encoder
from qa.documents import Document
from qa.errors import IndexProblem
from qa.index.compaction import BaseWriter, must_compact
from qa.index.ingest import GenerationWriter, Plan, delete_document, encoder_for, plan_update, write_bm25
from qa.index.layout import (
    DELTA_SCHEMA,
    FORMAT,
    FORMAT_VERSION,
    GENERATION_FILE,
    MANIFEST,
    cleanup,
    committed_generation,
    connect_readonly,
    count_rows,
    fsync_file,
    max_generation,
    rebuild_hint,
    remove_generation,
    write_error,
    write_lock,
    write_manifest,
)
from qa.index.local import LocalIndex
from qa.index.protocol import UpdateReport
from qa.index.token_vectors import TokenVectorsWriter

#: A part of a change is committed once it holds this many new sentences (a few minutes of
#: embedding on a laptop's CPU at most: what an interruption can lose) ...
COMMIT_SENTENCES = 2000
#: ... or this share of the sentences indexed so far, when that is more: most parts are written as
#: new bases, which costs time in proportion to the whole index, so parts that grow with the index
#: keep the cost of all the commits of a large first build within a few times that of one.
COMMIT_SHARE = 0.25


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
    load_quick_encoder: Callable[[], Encoder] | None = None,
    commit_sentences: int | None = None,
) -> UpdateReport:
    """Make the index at ``index_dir`` hold exactly ``documents``, embedding only what changed.

    With ``keep``, the old documents for which ``keep(id)`` is true stay as they are when they
    are not given (``qa index`` syncs one root of the personal library and keeps the others).

    ``load_encoder`` is called only if something needs embedding; ``load_quick_encoder``, when
    given, instead for an update (not a first build or a rebuild) that embeds at most
    ``qa.index.ingest.QUICK_ENCODER_SENTENCES`` sentences. ``progress(total)`` returns a callback
    that receives the number of sentences embedded so far.

    The change is written as a delta over the current base, or compacted into a new base (see the
    module docstring), in parts of ``commit_sentences`` (default ``COMMIT_SENTENCES``) new sentences
    or more (``commit_parts``), each committed as it is written. A rebuild is committed whole: the
    next run would start it afresh, so an interrupted one leaves the previous index as it was.
    """
    index_dir = Path(index_dir)
    report = UpdateReport()
    with write_lock(index_dir, lock_wait, notify):
        old = None
        if not rebuild and (index_dir / MANIFEST).exists():
            old = LocalIndex.open(index_dir)
        plan = None
        try:
            old_docs = old.digests() if old is not None else {}
            plan = plan_update(old_docs, documents, report, notify, keep)
            extra_changed = old is not None and any(old.manifest.get(k) != v for k, v in (extra or {}).items())
            if old is not None and not (plan.add or plan.drop or extra_changed):
                report.sentences_total = len(old)
                report.documents_total = len(old_docs)
                # leftovers of a writer killed after its commit go now, not at the next change
                cleanup(index_dir, set(old.manifest["files"].values()))
                return report
            del old_docs
            load = encoder_for(plan, load_encoder, load_quick_encoder if old is not None else None)
            step = progress(plan.new_sentences) if plan.add else None
            indexed = len(old) if old is not None else 0
            parts = [plan] if rebuild else commit_parts(plan, indexed, commit_sentences or COMMIT_SENTENCES)
            for part in parts:
                old = _commit(index_dir, old, part, load, step, batch_size, extra, report)
        except BaseException as e:
            kept = (f"{report.sentences_embedded:,} of the {plan.new_sentences:,} new sentences were committed "
                    "before it and are kept" if report.committed and plan is not None else "")
            reason = write_error(e)
            if reason:
                raise IndexProblem(
                    f"cannot write the index at {index_dir} ({reason}); {kept or 'nothing was changed'}: "
                    "free some space or fix permissions, then run qa index again"
                ) from None
            if kept and isinstance(e, KeyboardInterrupt):
                notify(f"{index_dir}: interrupted: {kept}; run qa index again to embed the rest")
            raise
        finally:
            if old is not None:
                old.close()
    return report


def commit_parts(plan: Plan, indexed: int, commit_sentences: int) -> Iterator[Plan]:
    """``plan`` in parts to commit one after the other, each of at least ``commit_sentences`` new
    sentences or ``COMMIT_SHARE`` of the index so far (``indexed`` sentences before the change),
    whichever is more, in whole documents. The first part also removes the documents that are no
    longer given and renames; a changed document's old version goes in the part that adds its
    new one."""
    adding = {doc.id for doc, _ in plan.add}
    part = Plan(drop=[d for d in plan.drop if d not in adding], renamed=dict(plan.renamed))
    changed = set(plan.drop) & adding
    size, first = 0, True
    for doc, spans in plan.add:
        part.add.append((doc, spans))
        if doc.id in changed:
            part.drop.append(doc.id)
        size += len(spans)
        if size >= max(commit_sentences, COMMIT_SHARE * indexed):
            yield part
            indexed += size
            part, size, first = Plan(), 0, False
    if first or part.add:
        yield part


def _commit(index_dir: Path, old: LocalIndex | None, part: Plan, load_encoder: Callable[[], Encoder],
            progress: Callable[[int], None] | None, batch_size: int, extra: dict | None,
            report: UpdateReport) -> LocalIndex:
    """Write ``part`` as the generation after ``old`` (None: from nothing) and commit it; returns
    that generation, open. Interrupted or failed, it leaves ``old`` committed and removes its files."""
    generation = (old.manifest["generation"] if old is not None else max_generation(index_dir)) + 1
    w = None
    try:
        writer = DeltaWriter if old is not None and not must_compact(old, part, load_encoder) else BaseWriter
        w = writer(index_dir, generation, old, part, load_encoder, progress, batch_size)
        files = w.write()
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
        write_manifest(index_dir, manifest)
    finally:  # the manifest on disk says whether it was committed (an interrupt may land just after)
        if w is not None and committed_generation(index_dir) == generation:
            report.committed = True
            report.sentences_embedded += w.embedded
            report.sentences_total = w.n_sent
            report.documents_total = w.n_docs
        else:
            remove_generation(index_dir, generation)
    cleanup(index_dir, set(files.values()))
    return LocalIndex.open(index_dir)


class DeltaWriter(GenerationWriter):
    """A new delta over the old base: the old delta's content plus this change."""

    def write(self) -> dict[str, str]:
        from embeddings.index import VectorIndex

        old, plan = self.old, self.plan
        old_files = old.manifest["files"]
        self.base_generation = old.manifest.get("base_generation", int(GENERATION_FILE.match(old_files["db"]).group(2)))
        files = {k: old_files[k] for k in ("db", "vectors", "bm25", "tokens", "tokidx") if k in old_files}
        base_tokens = "tokens" in files and "tokidx" in files
        db_path = self.path("delta_db")
        tok_path, idx_path = self.path("delta_tokens"), self.path("delta_tokidx")
        with contextlib.suppress(FileNotFoundError):
            db_path.unlink()
        if old.layered:  # a writable copy (readers map theirs read-only)
            vectors = VectorIndex.load(self.index_dir / old_files["delta_vectors"])
        else:
            vectors = VectorIndex(DIM)
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
            vectors.remove(np.array(dropped, dtype=np.int64))
            top = max(old.db.execute("SELECT coalesce(max(id), 0) FROM main.sentences").fetchone()[0],
                      db.execute("SELECT coalesce(max(id), 0) FROM sentences").fetchone()[0])
            with TokenVectorsWriter(tok_path, idx_path, DIM) if base_tokens else contextlib.nullcontext() as tokens:
                if tokens is not None and old.layered:  # the old delta's, for its sentences still here
                    kept = [r[0] for r in db.execute("SELECT id FROM sentences ORDER BY id")]
                    old_delta = old.load_token_vectors("delta_tokens", "delta_tokidx")
                    missing = tokens.copy(old_delta, kept) if old_delta is not None else kept
                    if missing:
                        raise IndexProblem(f"{self.index_dir}: the delta lacks token vectors of {len(missing)} "
                                           f"sentences; {rebuild_hint(self.index_dir)}")
                self.add_documents(db, top + 1, vectors, tokens)
                db.commit()
            sizes = old.sizes
            self.n_docs = sizes["base_documents"] + count_rows(db, "documents") - count_rows(db, "removed_documents")
            self.n_sent = sizes["base_sentences"] + count_rows(db, "sentences") - count_rows(db, "removed_sentences")
            delta_sentences = count_rows(db, "sentences")
        finally:
            db.close()
        fsync_file(db_path)
        files["delta_db"] = db_path.name

        if len(vectors) != delta_sentences:
            raise IndexProblem(f"internal error: {delta_sentences} delta sentences but {len(vectors)} vectors")
        vectors.save(self.path("delta_vectors"))
        fsync_file(self.path("delta_vectors"))
        files["delta_vectors"] = self.path("delta_vectors").name

        write_bm25(self.path("delta_bm25"), db_path)
        files["delta_bm25"] = self.path("delta_bm25").name
        if base_tokens:
            fsync_file(tok_path)
            fsync_file(idx_path)
            files.update(delta_tokens=tok_path.name, delta_tokidx=idx_path.name)
        return files

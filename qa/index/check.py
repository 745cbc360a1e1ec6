"""Integrity check of an index directory (what ``qa index --check DIR`` runs).

Reads the index without changing anything and lists what is wrong:

* ``manifest.json``: parses, has the expected format, model, counts and names
  files of the current generation that exist (further files, such as token
  vectors or BM25, included);
* each SQLite database (the base's and, when there is one, the delta's):
  passes SQLite's own ``integrity_check`` and has the expected tables; the
  base's documents less those the delta removed plus the delta's are as many
  as the manifest says, and likewise for sentences;
* the delta's tombstones: removed documents exist in the base, removed
  sentences are exactly their sentences, delta documents that replace base
  documents are removed there, delta sentence ids lie above every base id,
  renamed documents are live base documents;
* the documents: the SHA-256 of each stored text equals its ``sha256`` column;
* the sentences: each span lies inside its document, is not blank, and carries
  the right line number;
* each FAISS file (base and delta): loads, holds vectors of the model's
  dimension, one per sentence of its database, whose ids are exactly those
  sentence ids, finite and unit length;
* each BM25 folder and token-vector pair: loads and covers exactly its
  database's sentence ids.

An empty list means the index is sound.
"""

from __future__ import annotations

import bisect
import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.model import DIM
from qa.errors import IndexProblem
from qa.index.ingest import line_starts
from qa.index.layout import connect_readonly, read_manifest
from qa.wording import counted

#: Problems listed per kind before the rest are only counted.
MAX_EXAMPLES = 5


@dataclass
class CheckReport:
    index_dir: Path
    problems: list[str] = field(default_factory=list)
    documents: int = 0
    sentences: int = 0
    vectors: int = 0
    generation: int | None = None

    @property
    def sound(self) -> bool:
        return not self.problems


class _Limited:
    """Collects problems of one kind, keeping the first few and counting the rest."""

    def __init__(self, report: CheckReport, kind: str) -> None:
        self.report, self.kind, self.count = report, kind, 0

    def add(self, message: str) -> None:
        self.count += 1
        if self.count <= MAX_EXAMPLES:
            self.report.problems.append(message)

    def close(self) -> None:
        if self.count > MAX_EXAMPLES:
            self.report.problems.append(f"... and {self.count - MAX_EXAMPLES} more {self.kind}")


def check_folder(index_dir: str | Path) -> CheckReport:
    """Check the index at ``index_dir``; never modifies it."""
    index_dir = Path(index_dir)
    report = CheckReport(index_dir)
    try:
        manifest = read_manifest(index_dir)
    except IndexProblem as e:
        report.problems.append(str(e).split("; ")[0])
        return report
    report.generation = manifest["generation"]
    files = manifest["files"]
    layered = "delta_db" in files
    db_path, vec_path = index_dir / files["db"], index_dir / files["vectors"]
    delta_path = index_dir / files["delta_db"] if layered else None
    dvec_path = index_dir / files["delta_vectors"] if layered else None
    for p in (db_path, vec_path, delta_path, dvec_path):
        if p is not None and not p.is_file():
            report.problems.append(f"{p.name} (named by manifest.json) is missing")
    for key, name in files.items():  # further files (token vectors, BM25, ...)
        if key in ("db", "vectors", "delta_db", "delta_vectors"):
            continue
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            report.problems.append(f"manifest.json names an invalid {key!r} file: {name!r}")
        elif not (index_dir / name).exists():
            report.problems.append(f"{name} (named by manifest.json as {key!r}) is missing")
    base = _check_database(db_path, report) if db_path.is_file() else None
    delta = _check_database(delta_path, report) if layered and delta_path.is_file() else None
    removed_docs = removed = 0
    if base is not None and (delta is not None or not layered):
        docs, ids = base
        if delta is not None:
            removed_docs, removed = _check_tombstones(db_path, delta_path, report)
            docs += delta[0]
            ids = np.concatenate([ids, delta[1]])
        report.documents, report.sentences = docs - removed_docs, len(ids) - removed
        names = f"{db_path.name} and {delta_path.name} hold" if layered else f"{db_path.name} holds"
        if report.documents != manifest["documents"]:
            report.problems.append(f"{names} {report.documents} documents, manifest.json says {manifest['documents']}")
        if report.sentences != manifest["sentences"]:
            report.problems.append(f"{names} {report.sentences} sentences, manifest.json says {manifest['sentences']}")
    report.vectors = 0
    for vectors, db, suffix in ((vec_path, base, ""), (dvec_path, delta, "delta_")):
        if vectors is None or not vectors.is_file():
            continue
        ids = db[1] if db is not None else None
        report.vectors += _check_vectors(vectors, ids, report)
        if ids is not None:
            _check_retrieval_files(index_dir, files, suffix, ids, report)
    report.vectors -= removed  # removed base sentences keep their vectors in the base file, unused
    return report


def _check_database(db_path: Path, report: CheckReport) -> tuple[int, np.ndarray] | None:
    """(documents, sorted sentence ids) of one database, after checking it; None if unreadable."""
    try:
        db = connect_readonly(db_path)
    except sqlite3.Error as e:
        report.problems.append(f"{db_path.name} cannot be opened ({e})")
        return None
    try:
        rows = [r[0] for r in db.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            detail = " ".join("; ".join(map(str, rows[:3])).split())[:300]
            report.problems.append(f"{db_path.name} is damaged ({len(rows)} problem(s) found by SQLite: {detail})")
            return None
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = {"documents", "sentences"} - tables
        if db_path.name.startswith("delta-"):
            missing |= {"removed_documents", "removed_sentences", "renamed"} - tables
        if missing:
            report.problems.append(f"{db_path.name} lacks the table(s) {', '.join(sorted(missing))}")
            return None
        n_docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        _check_documents(db, report)
        ids = [r[0] for r in db.execute("SELECT id FROM sentences ORDER BY id")]
        if not all(type(i) is int for i in ids):
            report.problems.append(f"{db_path.name} has sentence ids that are not integers")
            return None
        return n_docs, np.array(ids, dtype=np.int64)
    except sqlite3.Error as e:
        report.problems.append(f"{db_path.name} cannot be read ({e})")
        return None
    finally:
        db.close()


def _check_tombstones(db_path: Path, delta_path: Path, report: CheckReport) -> tuple[int, int]:
    """Check the delta's record of what it changed in the base; returns (removed documents, removed sentences)."""
    name = delta_path.name
    try:
        db = connect_readonly(db_path)
    except sqlite3.Error:
        return 0, 0
    try:
        db.execute("ATTACH DATABASE ? AS d", (f"file:{delta_path}?mode=ro",))
        checks = [
            ("SELECT count(*) FROM d.removed_documents WHERE id NOT IN (SELECT id FROM main.documents)",
             "removed document(s) that the base does not hold"),
            ("SELECT count(*) FROM d.removed_sentences WHERE id NOT IN (SELECT s.id FROM main.sentences s "
             "JOIN d.removed_documents r ON r.id = s.doc)",
             "removed sentence(s) that are not sentences of a removed base document"),
            ("SELECT count(*) FROM main.sentences s JOIN d.removed_documents r ON r.id = s.doc "
             "WHERE s.id NOT IN (SELECT id FROM d.removed_sentences)",
             "sentence(s) of removed base documents not marked removed"),
            ("SELECT count(*) FROM d.documents WHERE id IN (SELECT id FROM main.documents) "
             "AND id NOT IN (SELECT id FROM d.removed_documents)",
             "document(s) that are also live in the base"),
            ("SELECT count(*) FROM d.sentences WHERE id <= (SELECT coalesce(max(id), 0) FROM main.sentences)",
             "sentence id(s) that are not above every base sentence id"),
            ("SELECT count(*) FROM d.renamed WHERE id NOT IN (SELECT id FROM main.documents) "
             "OR id IN (SELECT id FROM d.removed_documents)",
             "renamed document(s) that are not live base documents"),
        ]
        for sql, what in checks:
            n = db.execute(sql).fetchone()[0]
            if n:
                report.problems.append(f"{name} lists {n} {what}")
        return (db.execute("SELECT count(*) FROM d.removed_documents").fetchone()[0],
                db.execute("SELECT count(*) FROM d.removed_sentences").fetchone()[0])
    except sqlite3.Error as e:
        report.problems.append(f"{name} cannot be read with its base ({e})")
        return 0, 0
    finally:
        db.close()


def _check_retrieval_files(index_dir: Path, files: dict, prefix: str, ids: np.ndarray, report: CheckReport) -> None:
    """A layer's BM25 folder and token vectors, when the manifest names them: they load and
    cover exactly the layer's sentence ids."""
    from qa.index.bm25 import BM25Index
    from qa.index.token_vectors import TokenVectors

    name = files.get(f"{prefix}bm25")
    if isinstance(name, str) and (index_dir / name).is_dir():
        try:
            bm25 = BM25Index.load(index_dir / name)
            if not np.array_equal(np.sort(bm25.ids), ids):
                report.problems.append(f"{name} covers {len(bm25.ids)} sentence ids, not its {len(ids)} sentences")
        except (OSError, ValueError, KeyError, TypeError) as e:
            report.problems.append(f"{name} cannot be loaded ({type(e).__name__}: {str(e)[:120]})")
    tok, idx = files.get(f"{prefix}tokens"), files.get(f"{prefix}tokidx")
    if isinstance(tok, str) and isinstance(idx, str) and (index_dir / tok).is_file() and (index_dir / idx).is_file():
        try:
            tokens = TokenVectors.load(index_dir / tok, index_dir / idx)
            if not np.array_equal(tokens.index[:, 0], ids):
                report.problems.append(f"{idx} covers {len(tokens)} sentence ids, not its {len(ids)} sentences")
            elif len(tokens.index) and (tokens.index[:, 1:] < 0).any() or (
                    len(tokens.index) and int(tokens.index[:, 2].max()) > len(tokens.vectors)):
                report.problems.append(f"{idx} points outside {tok}")
        except (OSError, ValueError) as e:
            report.problems.append(f"{tok} cannot be loaded ({str(e)[:120]})")


def _check_documents(db: sqlite3.Connection, report: CheckReport) -> None:
    hashes = _Limited(report, "documents whose text does not match its sha256")
    spans = _Limited(report, "bad sentence spans")
    docs = db.execute("SELECT id, sha256, text FROM documents ORDER BY id")
    seen: set = set()
    for doc_id, sha, text in docs:
        seen.add(doc_id)
        if not isinstance(doc_id, str) or not isinstance(text, str) or not isinstance(sha, str):
            hashes.add(f"document {doc_id!r} has values of the wrong type")
            continue
        if hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != sha:
            hashes.add(f"document {doc_id!r}: its text does not match its sha256 (content changed)")
        lines = line_starts(text)
        rows = db.execute("SELECT id, start, end, line FROM sentences WHERE doc = ? ORDER BY start", (doc_id,))
        for sid, start, end, line in rows:
            if not all(type(v) is int for v in (start, end, line)):
                spans.add(f"sentence {sid} of {doc_id!r} has non-integer offsets")
            elif not 0 <= start < end <= len(text):
                spans.add(f"sentence {sid} of {doc_id!r} spans [{start}, {end}) outside its text of {len(text)}")
            elif not text[start:end].strip():
                spans.add(f"sentence {sid} of {doc_id!r} is blank")
            elif line != bisect.bisect_right(lines, start):
                spans.add(f"sentence {sid} of {doc_id!r} has line {line}, expected {bisect.bisect_right(lines, start)}")
    hashes.close()
    orphans = db.execute("SELECT count(*) FROM sentences WHERE doc NOT IN (SELECT id FROM documents)").fetchone()[0]
    if orphans:
        spans.add(f"{orphans} sentence(s) belong to no stored document")
    spans.close()


def _check_vectors(vec_path: Path, sentence_ids: np.ndarray | None, report: CheckReport) -> int:
    """Check one FAISS file against its database's sentence ids; returns its vector count."""
    from embeddings.index import VectorIndex

    try:
        vectors = VectorIndex.load(vec_path)
    except (RuntimeError, MemoryError, ValueError) as e:
        last = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        last = last.rsplit("Error: ", 1)[-1][:160]
        report.problems.append(f"{vec_path.name} cannot be loaded ({last})")
        return 0
    if vectors.dim != DIM:
        report.problems.append(f"{vec_path.name} holds vectors of dimension {vectors.dim}, expected {DIM}")
        return len(vectors)
    if sentence_ids is not None and len(vectors) != len(sentence_ids):
        report.problems.append(f"{vec_path.name} holds {len(vectors)} vectors for {len(sentence_ids)} sentences")
    try:
        ids = vectors.ids()
    except (RuntimeError, AttributeError):
        ids = None
    if ids is not None and sentence_ids is not None:
        if len(np.unique(ids)) != len(ids):
            report.problems.append(f"{vec_path.name} has duplicate vector ids")
        only_vec = np.setdiff1d(ids, sentence_ids)
        only_db = np.setdiff1d(sentence_ids, ids)
        if len(only_vec) or len(only_db):
            report.problems.append(
                f"vector ids and sentence ids differ in {vec_path.name}: {len(only_vec)} vector(s) without a "
                f"sentence, {len(only_db)} sentence(s) without a vector"
            )
    stored = _stored_vectors(vectors)
    if stored is not None and len(stored):
        if not np.isfinite(stored).all():
            report.problems.append(f"{vec_path.name} holds vectors with NaN or infinite values")
        else:
            norms = np.linalg.norm(stored, axis=1)
            bad = int((np.abs(norms - 1.0) > 1e-3).sum())
            if bad:
                report.problems.append(f"{vec_path.name} holds {bad} vector(s) that are not unit length")
    return len(vectors)


def _stored_vectors(vectors) -> np.ndarray | None:
    """All stored vectors, when the FAISS index can give them back (flat indexes can)."""
    import faiss

    try:
        inner = faiss.downcast_index(vectors._index.index)
        return np.asarray(inner.reconstruct_n(0, inner.ntotal), dtype=np.float32)
    except (RuntimeError, AttributeError):
        return None


def format_report(report: CheckReport) -> str:
    """One summary line for a sound index."""
    return (
        f"{report.index_dir}: sound: {counted(report.documents, 'document')}, "
        f"{counted(report.sentences, 'sentence')}, {counted(report.vectors, 'vector')} (generation {report.generation})"
    )

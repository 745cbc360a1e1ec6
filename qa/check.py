"""Integrity check of an index directory (what ``qa index --check DIR`` runs).

Reads the index without changing anything and lists what is wrong:

* ``manifest.json``: parses, has the expected format, model, counts and names
  files of the current generation that exist (further files, such as token
  vectors or BM25, included);
* the SQLite database: passes SQLite's own ``integrity_check``, has the
  expected tables, and as many documents and sentences as the manifest says;
* the documents: the SHA-256 of each stored text equals its ``sha256`` column;
* the sentences: each span lies inside its document, is not blank, and carries
  the right line number;
* the FAISS file: loads, holds vectors of the model's dimension, one per
  sentence, whose ids are exactly the sentence ids, finite and unit length.

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
from qa.store import _connect_readonly, _line_starts, read_manifest

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


def check_index(index_dir: str | Path) -> CheckReport:
    """Check the index at ``index_dir``; never modifies it."""
    index_dir = Path(index_dir)
    report = CheckReport(index_dir)
    try:
        manifest = read_manifest(index_dir)
    except IndexProblem as e:
        report.problems.append(str(e).split("; ")[0])
        return report
    report.generation = manifest["generation"]
    db_path = index_dir / manifest["files"]["db"]
    vec_path = index_dir / manifest["files"]["vectors"]
    for p in (db_path, vec_path):
        if not p.is_file():
            report.problems.append(f"{p.name} (named by manifest.json) is missing")
    for key, name in manifest["files"].items():  # further files (token vectors, BM25, ...)
        if key in ("db", "vectors"):
            continue
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            report.problems.append(f"manifest.json names an invalid {key!r} file: {name!r}")
        elif not (index_dir / name).exists():
            report.problems.append(f"{name} (named by manifest.json as {key!r}) is missing")
    sentence_ids = None
    if db_path.is_file():
        sentence_ids = _check_database(db_path, manifest, report)
    if vec_path.is_file():
        _check_vectors(vec_path, manifest, sentence_ids, report)
    return report


def _check_database(db_path: Path, manifest: dict, report: CheckReport) -> np.ndarray | None:
    try:
        db = _connect_readonly(db_path)
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
        if missing:
            report.problems.append(f"{db_path.name} lacks the table(s) {', '.join(sorted(missing))}")
            return None
        report.documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        report.sentences = db.execute("SELECT count(*) FROM sentences").fetchone()[0]
        if report.documents != manifest["documents"]:
            report.problems.append(
                f"{db_path.name} holds {report.documents} documents, manifest.json says {manifest['documents']}"
            )
        if report.sentences != manifest["sentences"]:
            report.problems.append(
                f"{db_path.name} holds {report.sentences} sentences, manifest.json says {manifest['sentences']}"
            )
        _check_documents(db, report)
        ids = [r[0] for r in db.execute("SELECT id FROM sentences ORDER BY id")]
        if not all(type(i) is int for i in ids):
            report.problems.append(f"{db_path.name} has sentence ids that are not integers")
            return None
        return np.array(ids, dtype=np.int64)
    except sqlite3.Error as e:
        report.problems.append(f"{db_path.name} cannot be read ({e})")
        return None
    finally:
        db.close()


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
        lines = _line_starts(text)
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


def _check_vectors(vec_path: Path, manifest: dict, sentence_ids: np.ndarray | None, report: CheckReport) -> None:
    from embeddings.index import VectorIndex

    try:
        vectors = VectorIndex.load(vec_path)
    except (RuntimeError, MemoryError, ValueError) as e:
        last = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        last = last.rsplit("Error: ", 1)[-1][:160]
        report.problems.append(f"{vec_path.name} cannot be loaded ({last})")
        return
    report.vectors = len(vectors)
    if vectors.dim != DIM:
        report.problems.append(f"{vec_path.name} holds vectors of dimension {vectors.dim}, expected {DIM}")
        return
    if report.vectors != manifest["sentences"]:
        report.problems.append(
            f"{vec_path.name} holds {report.vectors} vectors, manifest.json says {manifest['sentences']} sentences"
        )
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
                f"vector ids and sentence ids differ: {len(only_vec)} vector(s) without a sentence, "
                f"{len(only_db)} sentence(s) without a vector"
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
        f"{report.index_dir}: sound: {report.documents} documents, {report.sentences} sentences, "
        f"{report.vectors} vectors (generation {report.generation})"
    )

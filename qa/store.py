"""The index on disk: a base (SQLite, FAISS, BM25, token vectors), a small delta of changes since,
and a JSON manifest naming the current generation's files.

Layout of an index directory::

    manifest.json            format version, model, dimension, counts, and the
                             names of the current generation's files
    docs-000003.sqlite       the base: documents (id, path, title, sha256, text)
    vectors-000003.faiss     and sentences (id, doc, start, end, line, page); one
    bm25-000003/             vector per sentence (FAISS id = sentence id), BM25,
    tokens-000003.npy ...    and (small indexes) token vectors
    delta-000007.sqlite      the delta (optional): documents and sentences added
    dvectors-000007.faiss    since the base, the base documents and sentences
    dbm25-000007/            removed since (tombstones), new paths and titles of
    dtokens-000007.npy ...   base documents; their vectors, BM25 and token vectors
    .lock                    held by the one writer

An update writes only a new delta (LSM-like): the base files stay untouched
between generations, the new delta holds what the previous one held plus this
change, and readers see the base less its tombstones plus the delta
(``IndexStore`` makes the SQLite database read as one through temporary views;
``LayeredIndex``, ``LayeredBM25`` and ``LayeredTokenVectors`` do it for
vectors, BM25 and token vectors). An update thus costs time proportional to
the change plus the delta so far, not to the index. When the delta (sentences
added plus sentences removed since the base) would exceed
``DELTA_MAX_FRACTION`` of the base, the write compacts instead: a new base of
everything, the old way (also on a first build, ``--rebuild``, a change of
vector-index kind or of whether token vectors are stored).

Writes never touch the files of the current generation: every file a write
creates is named after the new generation, is synced, and is committed by
atomically replacing ``manifest.json``. A crash at any point leaves the
previous manifest and the files it names intact (the next writer removes the
leftovers). Readers load whatever manifest is current, so they see the old
index until the new one is committed, and one opened earlier keeps reading
its own files even after a writer unlinks them.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.model import DIM, MODEL_NAME, Encoder
from qa.documents import Document
from qa.errors import IndexProblem
from qa.sections import SentenceTitles, headings, section_at, sentence_title
from qa.sentences import split_sentences

FORMAT = "citeqa-index"
FORMAT_VERSION = 2
#: Versions this citeqa reads (1: a base without a delta; written as 2 at the next update).
READABLE_VERSIONS = (1, 2)
MANIFEST = "manifest.json"
LOCK = ".lock"
MAX_MANIFEST_BYTES = 1_000_000  # checked before reading: a manifest is a few hundred bytes
#: An update is written as a delta while sentences added plus removed since the base stay
#: within this share of the base's sentences; past it, the write compacts into a new base.
DELTA_MAX_FRACTION = float(os.environ.get("CITEQA_DELTA_MAX_FRACTION", "0.1"))

#: manifest ``files`` key -> (name prefix, suffix); names are PREFIX-NNNNNN[SUFFIX], NNNNNN the generation
FILE_KINDS = {
    "db": ("docs", ".sqlite"),
    "vectors": ("vectors", ".faiss"),
    "bm25": ("bm25", ""),
    "tokens": ("tokens", ".npy"),
    "tokidx": ("tokidx", ".npy"),
    "delta_db": ("delta", ".sqlite"),
    "delta_vectors": ("dvectors", ".faiss"),
    "delta_bm25": ("dbm25", ""),
    "delta_tokens": ("dtokens", ".npy"),
    "delta_tokidx": ("dtokidx", ".npy"),
}
_GEN_FILE = re.compile(
    r"^(docs|vectors|bm25|tokens|tokidx|delta|dvectors|dbm25|dtokens|dtokidx)-(\d{6})(\.sqlite|\.faiss|\.npy)?$"
)

#: Columns shared by the base's and the delta's tables (the readers' views union them).
_DOCUMENT_COLUMNS = """
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    text TEXT NOT NULL,
    pages TEXT NOT NULL DEFAULT '[]'
"""
_SENTENCE_COLUMNS = """
    doc TEXT NOT NULL REFERENCES documents(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    line INTEGER NOT NULL,
    page INTEGER
"""

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS documents ({_DOCUMENT_COLUMNS});
CREATE TABLE IF NOT EXISTS sentences (id INTEGER PRIMARY KEY AUTOINCREMENT, {_SENTENCE_COLUMNS});
CREATE INDEX IF NOT EXISTS sentences_by_doc ON sentences(doc, start);
"""

#: The delta database: documents and sentences added since the base (sentence ids given by
#: the writer, above every base id), and what changed of the base.
DELTA_SCHEMA = f"""
CREATE TABLE documents ({_DOCUMENT_COLUMNS});
CREATE TABLE sentences (id INTEGER PRIMARY KEY, {_SENTENCE_COLUMNS});
CREATE INDEX sentences_by_doc ON sentences(doc, start);
CREATE TABLE removed_documents (id TEXT PRIMARY KEY);
CREATE TABLE removed_sentences (id INTEGER PRIMARY KEY);
CREATE TABLE renamed (id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT);
"""

#: What a reader of a generation with a delta queries: the base less its tombstones, plus the
#: delta (temporary views shadow the base's tables, so every query reads the whole index).
VIEWS = """
CREATE TEMP VIEW documents AS
    SELECT d.id AS id, coalesce(r.path, d.path) AS path,
           CASE WHEN r.id IS NULL THEN d.title ELSE r.title END AS title,
           d.format AS format, d.sha256 AS sha256, d.text AS text, d.pages AS pages
      FROM main.documents d LEFT JOIN delta.renamed r ON r.id = d.id
     WHERE d.id NOT IN (SELECT id FROM delta.removed_documents)
    UNION ALL
    SELECT id, path, title, format, sha256, text, pages FROM delta.documents;
CREATE TEMP VIEW sentences AS
    SELECT id, doc, start, end, line, page FROM main.sentences
     WHERE id NOT IN (SELECT id FROM delta.removed_sentences)
    UNION ALL
    SELECT id, doc, start, end, line, page FROM delta.sentences;
"""


def file_name(key: str, generation: int) -> str:
    prefix, suffix = FILE_KINDS[key]
    return f"{prefix}-{generation:06d}{suffix}"


def valid_file_name(key: str, name: object) -> bool:
    """Whether ``name`` is a well-formed name for the manifest's ``files[key]``."""
    if key not in FILE_KINDS or not isinstance(name, str):
        return False
    m = _GEN_FILE.match(name)
    return bool(m) and name == file_name(key, int(m.group(2)))


def rebuild_hint(index_dir: Path | str) -> str:
    from qa.defaults import default_index_dir, library_dir

    if Path(index_dir) == library_dir():
        return "rebuild your library from its folders with: qa index --rebuild"
    if Path(index_dir) == default_index_dir():
        return f"remove it and the next command builds it again: rm -r {index_dir}"
    return f"rebuild it with: qa index PATH... --index {index_dir} --rebuild"


@dataclass(frozen=True)
class Sentence:
    id: int
    doc: str
    start: int
    end: int
    line: int
    page: int | None
    text: str


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    path: str
    title: str | None
    format: str
    sha256: str


@dataclass
class UpdateReport:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    sentences_embedded: int = 0
    sentences_total: int = 0
    documents_total: int = 0
    committed: bool = False


def read_manifest(index_dir: Path) -> dict:
    path = index_dir / MANIFEST
    if not index_dir.exists():
        raise IndexProblem(f"no index at {index_dir}; build one with: qa index PATH... --index {index_dir}")
    if not index_dir.is_dir():
        raise IndexProblem(
            f"--index {index_dir} is a file, not an index folder; give the folder an index was built in "
            "(or leave --index out to use your library)"
        )
    if not path.exists():
        raise IndexProblem(
            f"{index_dir} is not an index (manifest.json is missing); build one with: "
            f"qa index PATH... --index {index_dir}"
        )
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError(f"{path.stat().st_size} bytes, more than a manifest ever holds")
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError, OSError, RecursionError) as e:
        raise IndexProblem(f"{path} is corrupt ({e}); {rebuild_hint(index_dir)}") from None
    _check_manifest(manifest, index_dir)
    return manifest


def _check_manifest(m: dict, index_dir: Path) -> None:
    if m.get("format") != FORMAT:
        raise IndexProblem(f"{index_dir} is not a citeqa index; {rebuild_hint(index_dir)}")
    if m.get("format_version") not in READABLE_VERSIONS:
        raise IndexProblem(
            f"{index_dir} has index format {m.get('format_version')!r}, this citeqa reads "
            f"format {FORMAT_VERSION}; {rebuild_hint(index_dir)}"
        )
    if m.get("model") != MODEL_NAME or m.get("dim") != DIM:
        raise IndexProblem(
            f"{index_dir} was built with model {m.get('model')!r} (dim {m.get('dim')!r}), this "
            f"citeqa uses {MODEL_NAME} (dim {DIM}); {rebuild_hint(index_dir)}"
        )
    files = m.get("files")
    required = ["db", "vectors"]
    if isinstance(files, dict) and ("delta_db" in files or "delta_vectors" in files):
        required += ["delta_db", "delta_vectors"]  # a delta comes whole or not at all
    if not isinstance(files, dict) or not all(valid_file_name(k, files.get(k)) for k in required):
        raise IndexProblem(f"{index_dir}/manifest.json names no valid files; {rebuild_hint(index_dir)}")
    for key in ("documents", "sentences", "generation"):
        if not isinstance(m.get(key), int) or m[key] < 0:
            raise IndexProblem(f"{index_dir}/manifest.json has an invalid {key!r}; {rebuild_hint(index_dir)}")


def _connect_readonly(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


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


def _attach_delta(db: sqlite3.Connection, path: Path) -> None:
    """Attach a delta database (read-only) and shadow the base's tables with the views."""
    db.execute("ATTACH DATABASE ? AS delta", (f"file:{path}?mode=ro",))
    db.executescript(VIEWS)


def _count(db: sqlite3.Connection, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


class IndexStore:
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
        self.manifest = manifest
        self.db = db
        self.vectors = vectors  # embeddings.index.VectorIndex, or LayeredIndex with a delta
        #: sentence ids of the base that the delta removed (sorted; empty without a delta)
        self.removed = removed if removed is not None else np.zeros(0, np.int64)
        #: rows of each layer: base_sentences, base_documents, delta_sentences, delta_documents, ...
        self.sizes = sizes or {}
        self._docs: dict[str, DocumentInfo] = {}
        self._texts: dict[str, str] = {}
        self._tokens = None
        self._bm25 = None

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

    def _load_tokens(self, vec_key: str, idx_key: str):
        from qa.token_store import TokenVectors

        vec, idx = self._aux_path(vec_key), self._aux_path(idx_key)
        if vec is None or idx is None:
            return None
        try:
            return TokenVectors.load(vec, idx)
        except (OSError, ValueError):
            return None

    @property
    def token_vectors(self):
        """The sentences' token vectors (``qa.token_store.TokenVectors``), or None if not stored."""
        if self._tokens is None:
            from qa.token_store import LayeredTokenVectors

            self._tokens = self._load_tokens("tokens", "tokidx") or False
            if self._tokens and self.layered:
                delta = self._load_tokens("delta_tokens", "delta_tokidx")
                self._tokens = LayeredTokenVectors(self._tokens, delta, self.removed) if delta else False
        return self._tokens or None

    def _load_bm25(self, key: str, rows: int | None):
        from qa.lexical import BM25Index

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
        """The BM25 index (``qa.lexical.BM25Index``): saved with the index, or built once here."""
        if self._bm25 is None:
            from qa.lexical import BM25Index, LayeredBM25

            self._bm25 = self._load_bm25("bm25", self.sizes.get("base_sentences"))
            if self._bm25 is not None and self.layered:
                delta = self._load_bm25("delta_bm25", self.sizes.get("delta_sentences"))
                self._bm25 = LayeredBM25(self._bm25, delta, self.removed) if delta is not None else None
            if self._bm25 is None or len(self._bm25) != len(self):
                sents = list(self.iter_sentences())
                titles = SentenceTitles(self._title_text_format)
                texts = [embedding_text(titles(x.doc, x.start), x.text) for x in sents]
                self._bm25 = BM25Index.build(texts, [x.id for x in sents])
        return self._bm25

    def _title_text_format(self, doc_id: str) -> tuple[str | None, str, str]:
        info = self.document(doc_id)
        return info.title, self.text(doc_id), info.format

    @classmethod
    def open(cls, index_dir: str | os.PathLike[str]) -> IndexStore:
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
    def _open_generation(cls, index_dir: Path, manifest: dict) -> IndexStore:
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
            db = _connect_readonly(db_path)
            sizes["base_sentences"] = _count(db, "main.sentences")
            sizes["base_documents"] = _count(db, "main.documents")
            n_sent, n_docs = sizes["base_sentences"], sizes["base_documents"]
            if delta_path is not None:
                current = delta_path
                _attach_delta(db, delta_path)
                for table in ("sentences", "documents", "removed_sentences", "removed_documents"):
                    sizes[f"delta_{table}"] = _count(db, f"delta.{table}")
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

    def close(self) -> None:
        self.db.close()

    # -- reading -----------------------------------------------------------

    def __len__(self) -> int:
        return len(self.vectors)

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
        rows = self.db.execute("SELECT id, path, title, format, sha256 FROM documents ORDER BY id")
        return [DocumentInfo(**dict(r)) for r in rows]

    def text(self, doc_id: str) -> str:
        """The document text that offsets index into."""
        if doc_id not in self._texts:
            row = self.db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if row is None:
                raise KeyError(doc_id)
            if not isinstance(row[0], str):
                raise IndexProblem(f"{self.path}: the text of {doc_id!r} is not text; {rebuild_hint(self.path)}")
            if len(self._texts) > 256:
                self._texts.clear()
            self._texts[doc_id] = row[0]
        return self._texts[doc_id]

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


# -- writing ---------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync_file(path)


def _write_manifest(index_dir: Path, manifest: dict) -> None:
    tmp = index_dir / f".{MANIFEST}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / MANIFEST)
    _fsync_dir(index_dir)


def _cleanup(index_dir: Path, keep: set[str]) -> None:
    """Remove generation files and temp files that the current manifest does not name."""
    for p in index_dir.iterdir():
        if _GEN_FILE.match(p.name) and p.name not in keep:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()
        elif p.name.startswith(f".{MANIFEST}.") and p.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                p.unlink()
        elif p.name.endswith(("-journal", "-wal", "-shm")) and p.name.split(".sqlite")[0] + ".sqlite" not in keep:
            with contextlib.suppress(OSError):
                p.unlink()


@contextlib.contextmanager
def write_lock(index_dir: Path, wait: float, notify: Callable[[str], None]) -> Iterator[None]:
    """Hold the index's writer lock; wait up to ``wait`` seconds for another writer."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(index_dir / LOCK))
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:  # (a subclass of OSError: caught first)
        notify(f"another process is writing to {index_dir}; waiting for it to finish (up to {wait:.0f} s)")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise IndexProblem(
                f"{index_dir} is still being written by another process after {wait:.0f} s; "
                "try again when it has finished"
            ) from None
    except OSError as e:
        raise IndexProblem(
            f"cannot write the index at {index_dir} ({e.strerror or e}); choose a folder you can write with --index"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


@dataclass
class _Plan:
    """What an update changes, found by comparing the documents with the old index."""

    #: new and changed documents, with their sentence spans
    add: list[tuple[Document, list[tuple[int, int]]]] = field(default_factory=list)
    #: ids of old documents removed or changed
    drop: list[str] = field(default_factory=list)
    #: unchanged documents whose path or title changed: id -> (path, title)
    renamed: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def new_sentences(self) -> int:
        return sum(len(spans) for _, spans in self.add)

    @property
    def new_chars(self) -> int:
        return sum(e - s for _, spans in self.add for s, e in spans)


def _plan(old_docs: dict[str, tuple[str, str, str | None]], documents: Iterable[Document], report: UpdateReport,
          notify: Callable[[str], None], keep: Callable[[str], bool] | None = None) -> _Plan:
    """Compare ``documents`` with the old index's ``{id: (sha256, path, title)}``; old documents
    not given are removed, unless ``keep(id)`` says to keep them."""
    plan = _Plan()
    seen: set[str] = set()
    for doc in documents:
        if doc.id in seen:
            notify(f"{doc.path}: skipped: duplicate document id {doc.id!r}")
            continue
        seen.add(doc.id)
        old = old_docs.get(doc.id)
        if old is not None and old[0] == doc.sha256:
            report.unchanged += 1
            if old[1] != doc.path or old[2] != doc.title:
                plan.renamed[doc.id] = (doc.path, doc.title)
            continue
        if old is not None:
            report.changed += 1
            plan.drop.append(doc.id)
        else:
            report.added += 1
        plan.add.append((doc, split_sentences(doc.text, doc.format)))
    if report.unchanged + report.changed != len(old_docs):  # some old documents were not given
        for doc_id in sorted(set(old_docs) - seen):
            if keep is not None and keep(doc_id):
                continue
            report.removed += 1
            plan.drop.append(doc_id)
    return plan


def update_index(
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
    load_encoder = _once(load_encoder)
    with write_lock(index_dir, lock_wait, notify):
        old = None
        if not rebuild and (index_dir / MANIFEST).exists():
            old = IndexStore.open(index_dir)
        generation = (old.manifest["generation"] if old else _max_generation(index_dir)) + 1
        files: dict[str, str] = {}
        try:
            old_docs = old.digests() if old is not None else {}
            plan = _plan(old_docs, documents, report, notify, keep)
            extra_changed = old is not None and any(old.manifest.get(k) != v for k, v in (extra or {}).items())
            if old is not None and not (plan.add or plan.drop or extra_changed):
                report.sentences_total = len(old)
                report.documents_total = len(old_docs)
                # leftovers of a writer killed after its commit go now, not at the next change
                _cleanup(index_dir, set(old.manifest["files"].values()))
                old.close()
                return report
            writer = _DeltaWriter if old is not None and not _must_compact(old, plan, load_encoder) else _BaseWriter
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
            _write_manifest(index_dir, manifest)
            report.committed = True
            report.sentences_total = w.n_sent
            report.documents_total = w.n_docs
        except BaseException as e:
            if old is not None:
                old.close()
            _remove_generation(index_dir, generation)
            reason = _write_error(e)
            if reason:
                raise IndexProblem(
                    f"cannot write the index at {index_dir} ({reason}); nothing was changed: "
                    "free some space or fix permissions, then run qa index again"
                ) from None
            raise
        _cleanup(index_dir, set(files.values()))
    return report


def _once(load: Callable[[], Encoder]) -> Callable[[], Encoder]:
    """``load``, called at most once (loading the model takes seconds)."""
    loaded: list[Encoder] = []

    def once() -> Encoder:
        if not loaded:
            loaded.append(load())
        return loaded[0]

    return once


def _want_tokens(sentences: int, chars: int) -> bool:
    """Whether an index of this size stores token vectors: bounded by sentences and by text
    size (~150 characters = ~30 tokens a sentence on average, so a few huge one-line files
    cannot make a file of gigabytes)."""
    from qa.token_store import TOKEN_VECTORS_MAX

    return sentences <= TOKEN_VECTORS_MAX and chars <= TOKEN_VECTORS_MAX * 150


def _must_compact(old: IndexStore, plan: _Plan, load_encoder: Callable[[], Encoder]) -> bool:
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
    if delta_sent + dead > DELTA_MAX_FRACTION * base:
        return True
    total = len(old) - dropped + plan.new_sentences
    base_vectors = old.vectors.base if old.layered else old.vectors
    if not base_vectors.suits(total):
        return True
    from qa.token_store import TOKEN_VECTORS_MAX

    want = False
    if total <= TOKEN_VECTORS_MAX:
        chars = old.db.execute("SELECT coalesce(sum(end - start), 0) FROM sentences").fetchone()[0]
        want = _want_tokens(total, chars - dropped_chars + plan.new_chars)
    has = old._load_tokens("tokens", "tokidx") is not None
    if want != has:
        return True
    # the new sentences need token vectors like the base's: an encoder without them compacts
    return has and bool(plan.add) and not getattr(load_encoder(), "has_token_vectors", False)


class _Writer:
    """Writes one generation's files; ``write()`` returns the manifest's ``files``."""

    def __init__(self, index_dir, generation, old, plan, load_encoder, progress, batch_size) -> None:
        self.index_dir, self.generation, self.old, self.plan = index_dir, generation, old, plan
        self._load_encoder, self.progress, self.batch_size = load_encoder, progress, batch_size
        self._encoder = None
        self.embedded = 0
        self.n_docs = self.n_sent = 0
        self.base_generation = generation

    def path(self, key: str) -> Path:
        return self.index_dir / file_name(key, self.generation)

    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = self._load_encoder()
        return self._encoder

    def insert_documents(self, db: sqlite3.Connection, next_id: int | None) -> tuple[list[int], list[str]]:
        """Insert the plan's new documents and sentences (ids from ``next_id`` on, or SQLite's);
        returns the new sentence ids and their embedding texts."""
        ids, texts = [], []
        for doc, spans in self.plan.add:
            db.execute(
                "INSERT INTO documents (id, path, title, format, sha256, text, pages) VALUES (?,?,?,?,?,?,?)",
                (doc.id, doc.path, doc.title, doc.format, doc.sha256, doc.text, json.dumps(doc.pages)),
            )
            lines = _line_starts(doc.text)
            heads = headings(doc.text, doc.format)
            page_starts = [s for s, _ in doc.pages]
            for start, end in spans:
                line = bisect.bisect_right(lines, start)
                page = bisect.bisect_right(page_starts, start) if page_starts else None
                cur = db.execute(
                    "INSERT INTO sentences (id, doc, start, end, line, page) VALUES (?,?,?,?,?,?)",
                    (next_id, doc.id, start, end, line, page),
                )
                ids.append(cur.lastrowid)
                texts.append(embedding_text(sentence_title(doc.title, section_at(heads, start)), doc.text[start:end]))
                if next_id is not None:
                    next_id += 1
        return ids, texts

    def embed(self, texts: list[str], with_tokens: bool) -> tuple[np.ndarray, list | None]:
        if not texts:
            return np.zeros((0, DIM), np.float32), [] if with_tokens else None
        encoder = self.encoder()
        bar = self.progress(len(texts))
        self.embedded += len(texts)
        if with_tokens:
            return encoder.encode_with_tokens(texts, batch_size=self.batch_size, progress=bar)
        return encoder.encode(texts, batch_size=self.batch_size, progress=bar), None


class _DeltaWriter(_Writer):
    """A new delta over the old base: the old delta's content plus this change."""

    def write(self) -> dict[str, str]:
        from embeddings.index import VectorIndex
        from qa.token_store import write_token_vectors

        old, plan = self.old, self.plan
        old_files = old.manifest["files"]
        self.base_generation = old.manifest.get("base_generation", int(_GEN_FILE.match(old_files["db"]).group(2)))
        files = {k: old_files[k] for k in ("db", "vectors", "bm25", "tokens", "tokidx") if k in old_files}
        base_tokens = "tokens" in files and "tokidx" in files
        db_path = self.path("delta_db")
        with contextlib.suppress(FileNotFoundError):
            db_path.unlink()
        db = sqlite3.connect(db_path)
        try:
            if old.layered:
                src = _connect_readonly(self.index_dir / old_files["delta_db"])
                try:
                    src.backup(db)
                finally:
                    src.close()
            else:
                db.executescript(DELTA_SCHEMA)
            dropped: list[int] = []  # sentence ids leaving the delta
            for doc_id in plan.drop:
                if db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None:
                    dropped += _delete_document(db, doc_id)
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
            self.n_docs = (old.sizes["base_documents"] + _count(db, "documents") - _count(db, "removed_documents"))
            self.n_sent = (old.sizes["base_sentences"] + _count(db, "sentences") - _count(db, "removed_sentences"))
            delta_ids = [r[0] for r in db.execute("SELECT id FROM sentences ORDER BY id")]
        finally:
            db.close()
        _fsync_file(db_path)
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
        _fsync_file(self.path("delta_vectors"))
        files["delta_vectors"] = self.path("delta_vectors").name

        _write_bm25(self.path("delta_bm25"), db_path)
        files["delta_bm25"] = self.path("delta_bm25").name
        if base_tokens:
            old_delta = old._load_tokens("delta_tokens", "delta_tokidx") if old.layered else None
            tok, idx = self.path("delta_tokens"), self.path("delta_tokidx")
            write_token_vectors(tok, idx, delta_ids, dict(zip(new_ids, toks, strict=True)), old_delta, DIM)
            _fsync_file(tok)
            _fsync_file(idx)
            files.update(delta_tokens=tok.name, delta_tokidx=idx.name)
        return files


class _BaseWriter(_Writer):
    """A new base of everything (a first build, a rebuild, or a compaction of base and delta)."""

    def write(self) -> dict[str, str]:
        from embeddings.index import VectorIndex
        from qa.token_store import write_token_vectors

        old, plan = self.old, self.plan
        db_path, vec_path = self.path("db"), self.path("vectors")
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
                dropped += _delete_document(db, doc_id)
            for doc_id, (path, title) in plan.renamed.items():
                db.execute("UPDATE documents SET path = ?, title = ? WHERE id = ?", (path, title, doc_id))
            new_ids, texts = self.insert_documents(db, None)
            vectors.remove(np.array(dropped, dtype=np.int64))
            all_ids = [r[0] for r in db.execute("SELECT id FROM sentences ORDER BY id")]
            total_chars = db.execute("SELECT coalesce(sum(end - start), 0) FROM sentences").fetchone()[0]
            want_tokens = _want_tokens(len(all_ids), total_chars)
            # token vectors: new sentences get them from the same forward pass; kept ones are
            # copied from the old generation (or encoded once, if it had none)
            kept = sorted(set(all_ids) - set(new_ids))
            missing = []
            if want_tokens:
                missing = kept if old_tokens is None else [i for i in kept if i not in old_tokens]
            if (texts or missing) and not getattr(self.encoder(), "has_token_vectors", False):
                want_tokens, missing = False, []
            vecs, toks = self.embed(texts, want_tokens)
            vectors.add(vecs, np.array(new_ids, dtype=np.int64))
            new_tokens: dict[int, np.ndarray] = dict(zip(new_ids, toks, strict=True)) if want_tokens else {}
            if missing:
                titles = SentenceTitles(_db_lookup(db))
                texts = [embedding_text(titles(s.doc, s.start), s.text) for s in _sentences_from(db, missing)]
                _, toks = self.encoder().encode_with_tokens(texts, batch_size=self.batch_size)
                new_tokens.update(zip(missing, toks, strict=True))
            db.commit()
            self.n_docs = _count(db, "documents")
            self.n_sent = _count(db, "sentences")
        finally:
            db.close()
        if self.n_sent != len(vectors):
            raise IndexProblem(f"internal error: {self.n_sent} sentences but {len(vectors)} vectors; index not changed")
        vectors = vectors.fit_to_size()  # exact or approximate, by collection size
        vectors.save(vec_path)
        _fsync_file(vec_path)
        _fsync_file(db_path)
        files = {"db": db_path.name, "vectors": vec_path.name}
        _write_bm25(self.path("bm25"), db_path)
        files["bm25"] = self.path("bm25").name
        if want_tokens:
            tok, idx = self.path("tokens"), self.path("tokidx")
            write_token_vectors(tok, idx, all_ids, new_tokens, old_tokens, DIM)
            _fsync_file(tok)
            _fsync_file(idx)
            files.update(tokens=tok.name, tokidx=idx.name)
        return files

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


def embedding_text(title: str | None, sentence: str) -> str:
    """What is embedded (and indexed for BM25) for a sentence: the document's real title (JSONL ``title``, HTML
    ``<title>``, PDF metadata) and its section's (``qa.sections.sentence_title``), when it has them, then the
    sentence. Titles tell the model
    what a sentence is about; measured on BoolQ, they lift R@1 a lot. Files without a
    title embed the sentence alone (no made-up titles: those hurt)."""
    title = " ".join(title.split()) if title else ""
    return f"{title}: {sentence}" if title else sentence


def _sentences_from(db: sqlite3.Connection, ids: list[int]) -> list[Sentence]:
    """Sentences (with text) by id from a writable connection, in the order asked."""
    out = []
    texts: dict[str, str] = {}
    for i in ids:
        r = db.execute("SELECT id, doc, start, end, line, page FROM sentences WHERE id = ?", (i,)).fetchone()
        if r is None:
            continue
        if r[1] not in texts:
            texts = {r[1]: db.execute("SELECT text FROM documents WHERE id = ?", (r[1],)).fetchone()[0]}
        out.append(Sentence(r[0], r[1], r[2], r[3], r[4], r[5], texts[r[1]][r[2] : r[3]]))
    return out


def _db_lookup(db: sqlite3.Connection) -> Callable[[str], tuple[str | None, str, str]]:
    """``doc -> (title, text, format)`` read from the database (for ``SentenceTitles``)."""

    def lookup(doc_id: str) -> tuple[str | None, str, str]:
        return tuple(db.execute("SELECT title, text, format FROM documents WHERE id = ?", (doc_id,)).fetchone())

    return lookup


def _write_bm25(folder: Path, db_path: Path) -> None:
    """Write the BM25 index of every sentence in the database at ``db_path``."""
    from qa.lexical import BM25Index

    conn = sqlite3.connect(db_path)
    try:
        texts: dict[str, str] = {}
        sent_ids, sent_texts = [], []
        titles = SentenceTitles(_db_lookup(conn))
        for sid, doc, start, end in conn.execute("SELECT id, doc, start, end FROM sentences ORDER BY id"):
            if doc not in texts:
                texts = {doc: conn.execute("SELECT text FROM documents WHERE id = ?", (doc,)).fetchone()[0]}
            sent_ids.append(sid)
            sent_texts.append(embedding_text(titles(doc, start), texts[doc][start:end]))
    finally:
        conn.close()
    shutil.rmtree(folder, ignore_errors=True)
    BM25Index.build(sent_texts, sent_ids).save(folder)
    for f in folder.iterdir():
        _fsync_file(f)
    _fsync_dir(folder)


def _remove_generation(index_dir: Path, generation: int) -> None:
    """Delete the files of a generation that a failed or interrupted write left uncommitted."""
    try:  # the manifest on disk decides (an interrupt may land just after the commit)
        if json.loads((index_dir / MANIFEST).read_text(encoding="utf-8")).get("generation") == generation:
            return
    except (OSError, ValueError, AttributeError):
        pass
    own = re.compile(rf"^[a-z0-9]+-{generation:06d}(\.[a-z0-9]+)?(-journal)?$")  # docs-, vectors-, bm25-...
    for p in index_dir.iterdir():
        if own.match(p.name):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()


def _write_error(e: BaseException) -> str | None:
    """Why writing failed, when ``e`` is a failure to write (disk full, permissions), else None."""
    if isinstance(e, OSError):
        return f"{e.strerror or e}" + (f": {e.filename}" if e.filename else "")
    if isinstance(e, sqlite3.OperationalError) and re.search(r"disk|unable to open|readonly|I/O", str(e)):
        return str(e)
    if isinstance(e, RuntimeError) and re.search(r"write error|could not open", str(e)):  # from FAISS
        m = re.search(r"\(([^()]+)\)\s*$", str(e))
        return m.group(1) if m else "FAISS could not write its file"
    return None


def _delete_document(db: sqlite3.Connection, doc_id: str) -> list[int]:
    ids = [r[0] for r in db.execute("SELECT id FROM sentences WHERE doc = ?", (doc_id,))]
    db.execute("DELETE FROM sentences WHERE doc = ?", (doc_id,))
    db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
    return ids


def _max_generation(index_dir: Path) -> int:
    gens = [int(m.group(2)) for p in index_dir.iterdir() if (m := _GEN_FILE.match(p.name))]
    return max(gens, default=0)

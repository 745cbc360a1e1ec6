"""The local index's files: their names, the manifest, the writer's lock and cleanup.

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
(``qa.index.local.LocalIndex`` makes the SQLite database read as one through
temporary views; ``LayeredIndex``, ``LayeredBM25`` and ``LayeredTokenVectors``
do it for vectors, BM25 and token vectors; ``qa.index.writer`` writes deltas and
``qa.index.compaction`` new bases). An update thus costs time proportional to
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

import contextlib
import json
import os
import re
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from embeddings.model import DIM, MODEL_NAME
from qa.errors import IndexProblem

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
GENERATION_FILE = re.compile(
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
    m = GENERATION_FILE.match(name)
    return bool(m) and name == file_name(key, int(m.group(2)))


def rebuild_hint(index_dir: Path | str) -> str:
    from qa.defaults import default_index_dir, library_dir

    if Path(index_dir) == library_dir():
        return "rebuild your library from its folders with: qa index --rebuild"
    if Path(index_dir) == default_index_dir():
        return f"remove it and the next command builds it again: rm -r {index_dir}"
    return f"rebuild it with: qa index PATH... --index {index_dir} --rebuild"



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


#: Prepared statements kept by a read-only connection. One connection is read from several threads
#: at once (``qa.conversation`` asks a follow-up two ways at once), and from Python 3.12 on two threads
#: running the same SQL share one cached statement: the rows come back wrong, or "bad parameter or
#: other API misuse" (CPython issue 118172; 3.11 and before mark a statement in use under the GIL).
#: Without the cache each query prepares its own (~30 us more a query, ~11 queries an ask).
_CACHED_STATEMENTS = 128 if sys.version_info < (3, 12) else 0


def connect_readonly(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, check_same_thread=False, cached_statements=_CACHED_STATEMENTS
    )
    conn.row_factory = sqlite3.Row
    return conn



def attach_delta(db: sqlite3.Connection, path: Path) -> None:
    """Attach a delta database (read-only) and shadow the base's tables with the views."""
    db.execute("ATTACH DATABASE ? AS delta", (f"file:{path}?mode=ro",))
    db.executescript(VIEWS)


def count_rows(db: sqlite3.Connection, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])



def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fsync_file(path)


def write_manifest(index_dir: Path, manifest: dict) -> None:
    tmp = index_dir / f".{MANIFEST}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / MANIFEST)
    fsync_dir(index_dir)


def cleanup(index_dir: Path, keep: set[str]) -> None:
    """Remove generation files and temp files that the current manifest does not name."""
    for p in index_dir.iterdir():
        if GENERATION_FILE.match(p.name) and p.name not in keep:
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



def committed_generation(index_dir: Path) -> int | None:
    """The generation the manifest on disk names (None when there is none, or it is unreadable)."""
    try:
        generation = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8")).get("generation")
    except (OSError, ValueError, AttributeError):
        return None
    return generation if isinstance(generation, int) else None


def remove_generation(index_dir: Path, generation: int) -> None:
    """Delete the files of a generation that a failed or interrupted write left uncommitted."""
    if committed_generation(index_dir) == generation:  # (an interrupt may land just after the commit)
        return
    own = re.compile(rf"^[a-z0-9]+-{generation:06d}(\.[a-z0-9]+)?(-journal)?$")  # docs-, vectors-, bm25-...
    for p in index_dir.iterdir():
        if own.match(p.name):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()


def write_error(e: BaseException) -> str | None:
    """Why writing failed, when ``e`` is a failure to write (disk full, permissions), else None."""
    if isinstance(e, OSError):
        return f"{e.strerror or e}" + (f": {e.filename}" if e.filename else "")
    if isinstance(e, sqlite3.OperationalError) and re.search(r"disk|unable to open|readonly|I/O", str(e)):
        return str(e)
    if isinstance(e, RuntimeError) and re.search(r"write error|could not open", str(e)):  # from FAISS
        m = re.search(r"\(([^()]+)\)\s*$", str(e))
        return m.group(1) if m else "FAISS could not write its file"
    return None



def max_generation(index_dir: Path) -> int:
    gens = [int(m.group(2)) for p in index_dir.iterdir() if (m := GENERATION_FILE.match(p.name))]
    return max(gens, default=0)

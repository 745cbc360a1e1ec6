"""The index on disk: a FAISS file, a SQLite database and a JSON manifest.

Layout of an index directory::

    manifest.json            format version, model, dimension, counts, and the
                             names of the current generation's files
    docs-000007.sqlite       documents (id, path, title, sha256, text) and
                             sentences (id, doc, start, end, line, page)
    vectors-000007.faiss     one vector per sentence, FAISS id = sentence id
    .lock                    held by the one writer

Writes never touch the current generation: a writer copies the database into a
new generation, applies its changes, writes the vectors, syncs both, and then
commits by atomically replacing ``manifest.json``. A crash at any point leaves
the previous manifest and the files it names intact. Readers load whatever
manifest is current, so they see the old index until the new one is committed.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.model import DIM, MODEL_NAME, Encoder
from qa.documents import Document
from qa.errors import IndexProblem
from qa.sentences import split_sentences

FORMAT = "citeqa-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOCK = ".lock"
MAX_MANIFEST_BYTES = 1_000_000  # checked before reading: a manifest is a few hundred bytes
_GEN_FILE = re.compile(r"^(docs|vectors)-(\d{6})\.(sqlite|faiss)$")
#: Optional per-generation files for retrieval: token vectors (MaxSim) and the BM25 folder.
_AUX_FILE = re.compile(r"^(?:(tokens|tokidx)-(\d{6})\.npy|bm25-(\d{6}))$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    text TEXT NOT NULL,
    pages TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc TEXT NOT NULL REFERENCES documents(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    line INTEGER NOT NULL,
    page INTEGER
);
CREATE INDEX IF NOT EXISTS sentences_by_doc ON sentences(doc, start);
"""


def rebuild_hint(index_dir: Path | str) -> str:
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
    if m.get("format_version") != FORMAT_VERSION:
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
    if not isinstance(files, dict) or not all(
        isinstance(files.get(k), str) and _GEN_FILE.match(files[k]) for k in ("db", "vectors")
    ):
        raise IndexProblem(f"{index_dir}/manifest.json names no valid files; {rebuild_hint(index_dir)}")
    for key in ("documents", "sentences", "generation"):
        if not isinstance(m.get(key), int) or m[key] < 0:
            raise IndexProblem(f"{index_dir}/manifest.json has an invalid {key!r}; {rebuild_hint(index_dir)}")


def _connect_readonly(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


class IndexStore:
    """A read-only snapshot of an index directory."""

    def __init__(self, index_dir: Path, manifest: dict, db: sqlite3.Connection, vectors) -> None:
        self.path = index_dir
        self.manifest = manifest
        self.db = db
        self.vectors = vectors  # embeddings.index.VectorIndex
        self._docs: dict[str, DocumentInfo] = {}
        self._texts: dict[str, str] = {}
        self._tokens = None
        self._bm25 = None

    def _aux_path(self, key: str) -> Path | None:
        name = self.manifest.get("files", {}).get(key)
        if not isinstance(name, str) or not _AUX_FILE.match(name):
            return None
        path = self.path / name
        return path if path.exists() else None

    @property
    def token_vectors(self):
        """The sentences' token vectors (``qa.token_store.TokenVectors``), or None if not stored."""
        if self._tokens is None:
            from qa.token_store import TokenVectors

            vec, idx = self._aux_path("tokens"), self._aux_path("tokidx")
            self._tokens = False
            if vec is not None and idx is not None:
                try:
                    self._tokens = TokenVectors.load(vec, idx)
                except (OSError, ValueError):
                    self._tokens = False
        return self._tokens or None

    @property
    def bm25(self):
        """The BM25 index (``qa.lexical.BM25Index``): saved with the index, or built once here."""
        if self._bm25 is None:
            from qa.lexical import BM25Index

            folder = self._aux_path("bm25")
            if folder is not None:
                try:
                    self._bm25 = BM25Index.load(folder)
                except (OSError, ValueError, KeyError):
                    self._bm25 = None
            if self._bm25 is None or len(self._bm25) != len(self):
                sents = list(self.iter_sentences())
                titles = {d.id: d.title for d in self.documents()}
                self._bm25 = BM25Index.build([embedding_text(titles.get(x.doc), x.text) for x in sents], [x.id for x in sents])
        return self._bm25

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
        from embeddings.index import VectorIndex

        db_path = index_dir / manifest["files"]["db"]
        vec_path = index_dir / manifest["files"]["vectors"]
        for p in (db_path, vec_path):
            if not p.is_file():
                raise FileNotFoundError(p)
        try:
            db = _connect_readonly(db_path)
            n_sent = db.execute("SELECT count(*) FROM sentences").fetchone()[0]
            n_docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        except sqlite3.DatabaseError as e:
            if not db_path.exists():  # a writer replaced this generation meanwhile: retry
                raise FileNotFoundError(db_path) from None
            raise IndexProblem(f"{db_path} is corrupt ({e}); {rebuild_hint(index_dir)}") from None
        try:
            vectors = VectorIndex.load(vec_path, mmap=True)  # read-only, mapped: quick open
        except (RuntimeError, MemoryError) as e:
            if not vec_path.exists():  # a writer replaced this generation meanwhile: retry
                raise FileNotFoundError(vec_path) from None
            msg = str(e).strip().splitlines()[-1] if str(e).strip() else "unreadable"
            msg = msg.rsplit("Error: ", 1)[-1][:160]  # FAISS's assertion, without its C++ location
            raise IndexProblem(f"{vec_path} is corrupt ({msg}); {rebuild_hint(index_dir)}") from None
        if vectors.dim != DIM:
            raise IndexProblem(f"{vec_path} holds vectors of dim {vectors.dim}, not {DIM}; {rebuild_hint(index_dir)}")
        if not (len(vectors) == n_sent == manifest["sentences"] and n_docs == manifest["documents"]):
            raise IndexProblem(
                f"{index_dir} is inconsistent ({len(vectors)} vectors, {n_sent} sentences, "
                f"{n_docs} documents; manifest says {manifest['sentences']} and {manifest['documents']}); "
                f"{rebuild_hint(index_dir)}"
            )
        return cls(index_dir, manifest, db, vectors)

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
        if _AUX_FILE.match(p.name) and p.name not in keep:
            if p.is_dir():
                import shutil

                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()
            continue
        if (_GEN_FILE.match(p.name) and p.name not in keep) or (
            p.name.startswith(f".{MANIFEST}.") and p.name.endswith(".tmp")
        ):
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
) -> UpdateReport:
    """Make the index at ``index_dir`` hold exactly ``documents``, embedding only what changed.

    ``load_encoder`` is called only if something needs embedding. ``progress(total)``
    returns a callback that receives the number of sentences embedded so far.
    """
    from embeddings.index import VectorIndex
    from qa.token_store import TOKEN_VECTORS_MAX

    index_dir = Path(index_dir)
    report = UpdateReport()
    with write_lock(index_dir, lock_wait, notify):
        old = None
        old_tokens = None
        if not rebuild and (index_dir / MANIFEST).exists():
            old = IndexStore.open(index_dir)
        generation = (old.manifest["generation"] if old else _max_generation(index_dir)) + 1
        db_name = f"docs-{generation:06d}.sqlite"
        vec_name = f"vectors-{generation:06d}.faiss"
        db_path, vec_path = index_dir / db_name, index_dir / vec_name
        for p in (db_path, vec_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

        db = None
        try:
            db = sqlite3.connect(db_path)
            if old is not None:
                old.db.backup(db)
                old_tokens = old.token_vectors
                # a writable in-memory copy (readers map theirs read-only)
                vectors = VectorIndex.load(index_dir / old.manifest["files"]["vectors"])
                old_docs = {d.id: d.sha256 for d in old.documents()}
                old.close()
            else:
                vectors = VectorIndex(DIM)
                old_docs = {}
            db.executescript(SCHEMA)

            seen: set[str] = set()
            pending_ids: list[int] = []
            pending_texts: list[str] = []
            dropped: list[int] = []
            for doc in documents:
                if doc.id in seen:
                    notify(f"{doc.path}: skipped: duplicate document id {doc.id!r}")
                    continue
                seen.add(doc.id)
                sha = doc.sha256
                if old_docs.get(doc.id) == sha:
                    report.unchanged += 1
                    db.execute(
                        "UPDATE documents SET path = ?, title = ? WHERE id = ?", (doc.path, doc.title, doc.id)
                    )
                    continue
                if doc.id in old_docs:
                    report.changed += 1
                    dropped += _delete_document(db, doc.id)
                else:
                    report.added += 1
                db.execute(
                    "INSERT INTO documents (id, path, title, format, sha256, text, pages) VALUES (?,?,?,?,?,?,?)",
                    (doc.id, doc.path, doc.title, doc.format, sha, doc.text, json.dumps(doc.pages)),
                )
                lines = _line_starts(doc.text)
                page_starts = [s for s, _ in doc.pages]
                for start, end in split_sentences(doc.text):
                    line = bisect.bisect_right(lines, start)
                    page = bisect.bisect_right(page_starts, start) if page_starts else None
                    cur = db.execute(
                        "INSERT INTO sentences (doc, start, end, line, page) VALUES (?,?,?,?,?)",
                        (doc.id, start, end, line, page),
                    )
                    pending_ids.append(cur.lastrowid)
                    pending_texts.append(embedding_text(doc.title, doc.text[start:end]))
            for doc_id in set(old_docs) - seen:
                report.removed += 1
                dropped += _delete_document(db, doc_id)

            extra_changed = old is not None and any(old.manifest.get(k) != v for k, v in (extra or {}).items())
            unchanged = not (report.added or report.changed or report.removed or extra_changed)
            if unchanged and old is not None and not rebuild:
                db.close()
                db = None
                for p in (db_path, vec_path):
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
                report.sentences_total = len(vectors)
                report.documents_total = report.unchanged
                # leftovers of a writer killed after its commit go now, not at the next change
                _cleanup(index_dir, {n for n in old.manifest["files"].values() if isinstance(n, str)})
                return report

            vectors.remove(np.array(dropped, dtype=np.int64))
            all_ids = [r[0] for r in db.execute("SELECT id FROM sentences ORDER BY id")]
            # token vectors: new sentences get them from the same forward pass; kept ones are
            # copied from the old generation (or encoded once, if it had none)
            # (bounded by sentences and by text size: ~150 characters = ~30 tokens a sentence on average,
            # so a few huge one-line files cannot make a file of gigabytes)
            total_chars = db.execute("SELECT coalesce(sum(end - start), 0) FROM sentences").fetchone()[0]
            want_tokens = len(all_ids) <= TOKEN_VECTORS_MAX and total_chars <= TOKEN_VECTORS_MAX * 150
            kept = sorted(set(all_ids) - set(pending_ids))
            missing_tokens = []
            if want_tokens:
                missing_tokens = kept if old_tokens is None else [i for i in kept if i not in old_tokens]
            encoder = load_encoder() if pending_texts or missing_tokens else None
            if encoder is not None and not getattr(encoder, "has_token_vectors", False):
                want_tokens, missing_tokens = False, []
            new_tokens: dict[int, np.ndarray] = {}
            if pending_texts:
                bar = progress(len(pending_texts))
                if want_tokens:
                    vecs, toks = encoder.encode_with_tokens(pending_texts, batch_size=batch_size, progress=bar)
                    new_tokens = dict(zip(pending_ids, toks, strict=True))
                else:
                    vecs = encoder.encode(pending_texts, batch_size=batch_size, progress=bar)
                vectors.add(vecs, np.array(pending_ids, dtype=np.int64))
            if want_tokens and missing_tokens:
                titles = dict(db.execute("SELECT id, title FROM documents").fetchall())
                texts = [embedding_text(titles.get(s.doc), s.text) for s in _sentences_from(db, missing_tokens)]
                _, toks = encoder.encode_with_tokens(texts, batch_size=batch_size)
                new_tokens.update(zip(missing_tokens, toks, strict=True))
            report.sentences_embedded = len(pending_texts)
            db.commit()
            n_docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            n_sent = db.execute("SELECT count(*) FROM sentences").fetchone()[0]
            db.close()
            db = None
            if n_sent != len(vectors):
                raise IndexProblem(f"internal error: {n_sent} sentences but {len(vectors)} vectors; index not changed")
            vectors = vectors.fit_to_size()  # exact or approximate, by collection size
            vectors.save(vec_path)
            _fsync_file(vec_path)
            _fsync_file(db_path)
            aux = _write_retrieval_files(index_dir, generation, db_path, all_ids, new_tokens, old_tokens, want_tokens)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "model": MODEL_NAME,
                "dim": DIM,
                "documents": n_docs,
                "sentences": n_sent,
                "generation": generation,
                "files": {"db": db_name, "vectors": vec_name, **aux},
                "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **(extra or {}),
            }
            _write_manifest(index_dir, manifest)
            report.committed = True
            report.sentences_total = n_sent
            report.documents_total = n_docs
        except BaseException as e:
            if db is not None:
                db.close()
                db = None
            _remove_generation(index_dir, generation)
            reason = _write_error(e)
            if reason:
                raise IndexProblem(
                    f"cannot write the index at {index_dir} ({reason}); nothing was changed: "
                    "free some space or fix permissions, then run qa index again"
                ) from None
            raise
        finally:
            if db is not None:
                db.close()
        _cleanup(index_dir, {db_name, vec_name, *aux.values()})
    return report


def embedding_text(title: str | None, sentence: str) -> str:
    """What is embedded (and indexed for BM25) for a sentence: the document's real title (JSONL ``title``, HTML
    ``<title>``, PDF metadata), when it has one, then the sentence. Titles tell the model
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


def _write_retrieval_files(
    index_dir: Path, generation: int, db_path: Path, ids: list[int], new_tokens, old_tokens, want_tokens: bool
) -> dict[str, str]:
    """Write the generation's BM25 folder and (for small enough indexes) token vectors."""
    from qa.lexical import BM25Index
    from qa.token_store import write_token_vectors

    files: dict[str, str] = {}
    bm25_name = f"bm25-{generation:06d}"
    conn = sqlite3.connect(db_path)
    try:
        texts: dict[str, str] = {}
        sent_ids, sent_texts = [], []
        titles = dict(conn.execute("SELECT id, title FROM documents").fetchall())
        for sid, doc, start, end in conn.execute("SELECT id, doc, start, end FROM sentences ORDER BY id"):
            if doc not in texts:
                texts = {doc: conn.execute("SELECT text FROM documents WHERE id = ?", (doc,)).fetchone()[0]}
            sent_ids.append(sid)
            sent_texts.append(embedding_text(titles.get(doc), texts[doc][start:end]))
    finally:
        conn.close()
    import shutil

    shutil.rmtree(index_dir / bm25_name, ignore_errors=True)
    BM25Index.build(sent_texts, sent_ids).save(index_dir / bm25_name)
    files["bm25"] = bm25_name
    if want_tokens:
        tok_name, idx_name = f"tokens-{generation:06d}.npy", f"tokidx-{generation:06d}.npy"
        write_token_vectors(index_dir / tok_name, index_dir / idx_name, ids, new_tokens, old_tokens, DIM)
        _fsync_file(index_dir / tok_name)
        _fsync_file(index_dir / idx_name)
        files.update(tokens=tok_name, tokidx=idx_name)
    return files


def _remove_generation(index_dir: Path, generation: int) -> None:
    """Delete the files of a generation that a failed or interrupted write left uncommitted."""
    import shutil

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

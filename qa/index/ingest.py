"""From documents to what an index stores: the plan of an update (by content hash), each
sentence's row (offsets, line, page, the text that is embedded) and its vectors, and the local
backend's SQLite rows and BM25 files."""

from __future__ import annotations

import bisect
import json
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.model import Encoder
from qa.documents import Document
from qa.index.layout import file_name, fsync_dir, fsync_file
from qa.index.protocol import Sentence, UpdateReport
from qa.index.token_vectors import TokenVectorsWriter
from qa.markup import MarkupView
from qa.sections import headings, section_at, sentence_title
from qa.sentences import split_sentences


def line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


@dataclass
class Plan:
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


def plan_update(old_docs: dict[str, tuple[str, str, str | None]], documents: Iterable[Document], report: UpdateReport,
          notify: Callable[[str], None], keep: Callable[[str], bool] | None = None) -> Plan:
    """Compare ``documents`` with the old index's ``{id: (sha256, path, title)}``; old documents
    not given are removed, unless ``keep(id)`` says to keep them."""
    plan = Plan()
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



@dataclass(frozen=True)
class SentenceRow:
    """A sentence of a document as every backend stores it: ``text[start:end]``, its line
    (1-based) and page (1-based, PDFs only), and what is embedded and indexed for BM25."""

    start: int
    end: int
    line: int
    page: int | None
    embedding_text: str


def sentence_rows(doc: Document, spans: list[tuple[int, int]]) -> list[SentenceRow]:
    lines = line_starts(doc.text)
    texts = EmbeddingTexts(lambda _: (doc.title, doc.text, doc.format))
    page_starts = [s for s, _ in doc.pages]
    return [
        SentenceRow(
            start,
            end,
            bisect.bisect_right(lines, start),
            bisect.bisect_right(page_starts, start) if page_starts else None,
            texts(doc.id, start, end),
        )
        for start, end in spans
    ]


#: Updates that embed at most this many sentences use the quick encoder, when one is given
#: (``update_local``'s ``load_quick_encoder``: the int8 ONNX export, whose vectors have a cosine of
#: 0.9995 with the fp32 model's, starts in ~0.5 s; torch and sentence-transformers in ~5-15 s).
QUICK_ENCODER_SENTENCES = 500


def once(load: Callable[[], Encoder]) -> Callable[[], Encoder]:
    """``load``, called at most once (loading the model takes seconds)."""
    loaded: list[Encoder] = []

    def once() -> Encoder:
        if not loaded:
            loaded.append(load())
        return loaded[0]

    return once


def encoder_for(plan: Plan, load_encoder: Callable[[], Encoder],
                load_quick_encoder: Callable[[], Encoder] | None) -> Callable[[], Encoder]:
    """The loader of the encoder that embeds ``plan``: the quick one for a small change, when given."""
    if load_quick_encoder is not None and plan.new_sentences <= QUICK_ENCODER_SENTENCES:
        return once(load_quick_encoder)
    return once(load_encoder)


class GenerationWriter:
    """Writes one generation's files; ``write()`` returns the manifest's ``files``.

    New sentences are embedded ``chunk`` at a time, and their vectors (and token vectors) added to
    the generation's files as they come, so that memory does not grow with the change."""

    #: Sentences embedded at a time.
    chunk = 512

    def __init__(self, index_dir, generation, old, plan, load_encoder, progress, batch_size) -> None:
        """``progress``: None, or told the number of sentences embedded, as they are."""
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

    def add_documents(self, db: sqlite3.Connection, next_id: int | None, vectors,
                      tokens: TokenVectorsWriter | None) -> None:
        """Insert the plan's new documents and sentences (ids from ``next_id`` on, or SQLite's, which
        grow too), and add their vectors to ``vectors`` (and their token vectors to ``tokens``) as they
        are embedded, ``chunk`` sentences at a time."""
        ids: list[int] = []
        texts: list[str] = []
        for doc, spans in self.plan.add:
            db.execute(
                "INSERT INTO documents (id, path, title, format, sha256, text, pages) VALUES (?,?,?,?,?,?,?)",
                (doc.id, doc.path, doc.title, doc.format, doc.sha256, doc.text, json.dumps(doc.pages)),
            )
            for row in sentence_rows(doc, spans):
                cur = db.execute(
                    "INSERT INTO sentences (id, doc, start, end, line, page) VALUES (?,?,?,?,?,?)",
                    (next_id, doc.id, row.start, row.end, row.line, row.page),
                )
                ids.append(cur.lastrowid)
                texts.append(row.embedding_text)
                if next_id is not None:
                    next_id += 1
            if len(ids) >= self.chunk:
                self._embed(ids, texts, vectors, tokens)
                ids, texts = [], []
        self._embed(ids, texts, vectors, tokens)

    def _embed(self, ids: list[int], texts: list[str], vectors, tokens: TokenVectorsWriter | None) -> None:
        if not texts:
            return
        encoder = self.encoder()
        self.embedded += len(texts)
        if tokens is not None:
            vecs, toks = encoder.encode_with_tokens(texts, batch_size=self.batch_size, progress=self.progress)
            for sentence_id, arr in zip(ids, toks, strict=True):
                tokens.add(sentence_id, arr)
        else:
            vecs = encoder.encode(texts, batch_size=self.batch_size, progress=self.progress)
        vectors.add(vecs, np.array(ids, dtype=np.int64))


def embedding_text(title: str | None, sentence: str) -> str:
    """What is embedded (and indexed for BM25) for a sentence: the document's real title (JSONL ``title``, HTML
    ``<title>``, PDF metadata) and its section's (``qa.sections.sentence_title``), when it has them, then the
    sentence as read (Markdown without its markup, a table row with its column names: ``qa.markup``). Titles
    tell the model what a sentence is about; measured on BoolQ, they lift R@1 a lot. Files without a
    title embed the sentence alone (no made-up titles: those hurt)."""
    title = " ".join(title.split()) if title else ""
    return f"{title}: {sentence}" if title else sentence


class EmbeddingTexts:
    """``texts(doc, start, end)``: the ``embedding_text`` of the sentence ``[start, end)`` of ``doc``, from
    ``lookup(doc) -> (title, text, format)``, reading each document's headings and markup once."""

    def __init__(self, lookup: Callable[[str], tuple[str | None, str, str]]) -> None:
        self.lookup = lookup
        self._doc: str | None = None
        self._title: str | None = None
        self._heads: list[tuple[int, str]] = []
        self._view = MarkupView("", "text")

    def __call__(self, doc: str, start: int, end: int) -> str:
        if doc != self._doc:
            title, text, format = self.lookup(doc)
            self._doc, self._title = doc, title
            self._heads, self._view = headings(text, format), MarkupView(text, format)
        title = sentence_title(self._title, section_at(self._heads, start))
        return embedding_text(title, self._view.read(start, end).text)


def sentences_from(db: sqlite3.Connection, ids: list[int]) -> list[Sentence]:
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


def db_lookup(db: sqlite3.Connection) -> Callable[[str], tuple[str | None, str, str]]:
    """``doc -> (title, text, format)`` read from the database (for ``EmbeddingTexts``)."""

    def lookup(doc_id: str) -> tuple[str | None, str, str]:
        return tuple(db.execute("SELECT title, text, format FROM documents WHERE id = ?", (doc_id,)).fetchone())

    return lookup


def write_bm25(folder: Path, db_path: Path) -> None:
    """Write the BM25 index of every sentence in the database at ``db_path``."""
    from qa.index.bm25 import BM25Index

    conn = sqlite3.connect(db_path)
    try:
        sent_ids, sent_texts = [], []
        texts = EmbeddingTexts(db_lookup(conn))
        for sid, doc, start, end in conn.execute("SELECT id, doc, start, end FROM sentences ORDER BY id"):
            sent_ids.append(sid)
            sent_texts.append(texts(doc, start, end))
    finally:
        conn.close()
    shutil.rmtree(folder, ignore_errors=True)
    BM25Index.build(sent_texts, sent_ids).save(folder)
    for f in folder.iterdir():
        fsync_file(f)
    fsync_dir(folder)



def delete_document(db: sqlite3.Connection, doc_id: str) -> list[int]:
    ids = [r[0] for r in db.execute("SELECT id FROM sentences WHERE doc = ?", (doc_id,))]
    db.execute("DELETE FROM sentences WHERE doc = ?", (doc_id,))
    db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
    return ids


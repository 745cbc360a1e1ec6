"""``update_milvus``: an update of a Milvus index by content hash, committed by generation
(see ``qa.index.milvus``), with the cleanup of what a killed writer left."""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.model import DIM, MODEL_NAME, Encoder
from qa.errors import BadInputError, IndexProblem
from qa.index.ingest import encoder_for, plan_update, sentence_rows
from qa.index.milvus.connection import connect, disconnect, is_lite, load_collections, reason
from qa.index.milvus.layout import (
    BATCH,
    DUMMY_VECTOR,
    FORMAT,
    FORMAT_VERSION,
    MAX_PARTS,
    MAX_TEXT_BYTES,
    TOKENS_PER_PART,
    Version,
    collection_names,
    count_rows,
    create_collections,
    quote,
    read_state,
    read_versions,
    sentence_terms,
    strings,
    version_key,
)
from qa.index.milvus.reader import MilvusIndex
from qa.index.protocol import UpdateReport


def _repair(client, names: dict[str, str], state: dict) -> None:
    """Milvus Lite killed while flushing can come back with flushed rows twice (its log is
    replayed over the data files it had written). After ``_clean`` every row left is live, so
    more rows than the state counts means copies: each duplicated row is deleted and written
    once again."""
    if count_rows(client, names["sentences"]) <= int(state.get("sentences", 0)) and count_rows(
        client, names["documents"]
    ) <= int(state.get("documents", 0)):
        return
    for kind in ("sentences", "tokens", "documents"):
        seen: dict = {}
        twice: dict = {}
        it = client.query_iterator(names[kind], batch_size=1000, filter="", output_fields=["*"])
        try:
            while batch := it.next():
                for r in batch:
                    (twice if r["id"] in seen else seen)[r["id"]] = r
        finally:
            it.close()
        if not twice:
            continue
        rows = [{k: v for k, v in r.items() if k != "sparse"} for r in twice.values()]
        ids = list(twice)
        for i in range(0, len(ids), 500):
            client.delete(names[kind], ids=ids[i : i + 500])
        for i in range(0, len(rows), BATCH):
            client.insert(names[kind], rows[i : i + BATCH])
        client.flush(names[kind])


@contextlib.contextmanager
def _writer_lock(where, wait: float, notify: Callable[[str], None]):
    """A lock file beside a Milvus Lite file (a server has no file to lock: one writer at a time)."""
    if not is_lite(where.uri):
        yield
        return
    from qa.index.layout import write_lock

    path = Path(where.uri)
    lock_dir = path.parent / f".{path.name}.citeqa-lock"
    with write_lock(lock_dir, wait, notify):
        yield


def _token_parts(sentence_id: int, doc: str, gen: int, tokens: np.ndarray) -> list[dict]:
    t = np.asarray(tokens, dtype=np.float16)[: TOKENS_PER_PART * MAX_PARTS]
    out = []
    for part in range(0, max(1, -(-len(t) // TOKENS_PER_PART))):
        piece = t[part * TOKENS_PER_PART : (part + 1) * TOKENS_PER_PART]
        out.append(
            {
                "id": sentence_id * MAX_PARTS + part,
                "sentence": sentence_id,
                "part": part,
                "doc": doc,
                "gen": gen,
                "data": base64.b64encode(piece.tobytes()).decode("ascii"),
                "v": DUMMY_VECTOR,
            }
        )
    return out


@dataclass
class _Writer:
    where: object
    client: object
    names: dict[str, str]
    gen: int
    next_id: int
    load_encoder: Callable[[], Encoder]
    progress: Callable
    batch_size: int
    token_vectors: bool
    embedded: int = 0
    pending: dict[str, list] = field(default_factory=lambda: {"sentences": [], "tokens": []})

    def flush(self, kind: str, force: bool = False) -> None:
        rows = self.pending[kind]
        if rows and (force or len(rows) >= BATCH):
            self.client.insert(self.names[kind], rows)
            self.pending[kind] = []

    def add_documents(self, plan) -> None:
        total = plan.new_sentences
        bar = self.progress(total) if total else None
        for doc, spans in plan.add:
            if len(doc.text.encode("utf-8")) > MAX_TEXT_BYTES:
                raise BadInputError(f"{doc.path}: larger than {MAX_TEXT_BYTES >> 20} MiB, more than a Milvus row holds")
            self.client.insert(
                self.names["documents"],
                [
                    {
                        "id": version_key(doc.id, self.gen),
                        "doc": doc.id,
                        "gen": self.gen,
                        "deleted": False,
                        "path": doc.path,
                        "title": doc.title or "",
                        "format": doc.format,
                        "sha256": doc.sha256,
                        "pages": doc.pages,
                        "first_id": self.next_id,
                        "sentences": len(spans),
                        "text": doc.text,
                        "v": DUMMY_VECTOR,
                    }
                ],
            )
            rows = sentence_rows(doc, spans)
            for i in range(0, len(rows), self.batch_size):
                chunk = rows[i : i + self.batch_size]
                texts = [r.embedding_text for r in chunk]
                encoder = self.load_encoder()
                if self.token_vectors:
                    vecs, toks = encoder.encode_with_tokens(texts, batch_size=self.batch_size)
                else:
                    vecs, toks = encoder.encode(texts, batch_size=self.batch_size), None
                for j, r in enumerate(chunk):
                    sid = self.next_id
                    self.next_id += 1
                    self.pending["sentences"].append(
                        {
                            "id": sid,
                            "doc": doc.id,
                            "gen": self.gen,
                            "start": r.start,
                            "end": r.end,
                            "line": r.line,
                            "page": r.page,
                            "terms": sentence_terms(r.embedding_text),
                            "dense": vecs[j].tolist(),
                        }
                    )
                    if toks is not None:
                        self.pending["tokens"].extend(_token_parts(sid, doc.id, self.gen, toks[j]))
                    self.flush("sentences")
                    self.flush("tokens")
                self.embedded += len(chunk)
                if bar:
                    bar(len(chunk))
        self.flush("sentences", force=True)
        self.flush("tokens", force=True)

    def tombstones(self, docs: list[str]) -> None:
        rows = [
            {
                "id": version_key(d, self.gen),
                "doc": d,
                "gen": self.gen,
                "deleted": True,
                "path": "",
                "title": "",
                "format": "",
                "sha256": "",
                "pages": [],
                "first_id": 0,
                "sentences": 0,
                "text": "",
                "v": DUMMY_VECTOR,
            }
            for d in docs
        ]
        for i in range(0, len(rows), BATCH):
            self.client.insert(self.names["documents"], rows[i : i + BATCH])


def _clean(client, names: dict[str, str], gen: int, versions: dict[str, list[Version]]) -> None:
    """Delete what readers of generation ``gen`` never read: rows above it (a killed writer's)
    and document versions superseded at or below it (with their sentences and tokens)."""
    for kind in ("sentences", "tokens", "documents"):
        client.delete(names[kind], filter=f"gen > {gen}")
    by_gen: dict[int, list[str]] = {}
    tombs: dict[int, list[str]] = {}
    for doc, vs in versions.items():
        newest = max(vs, key=lambda v: v.gen)
        if newest.deleted:
            tombs.setdefault(newest.gen + 1, []).append(doc)  # every version goes, the tombstone too
        elif len(vs) > 1:
            by_gen.setdefault(newest.gen, []).append(doc)
    for below, docs in [*by_gen.items(), *tombs.items()]:
        for i in range(0, len(docs), 500):
            part = strings(docs[i : i + 500])
            for kind in ("sentences", "tokens", "documents"):
                client.delete(names[kind], filter=f"doc in {part} and gen < {below}")


def update_milvus(
    where,
    documents: Iterable,
    load_encoder: Callable[[], Encoder],
    *,
    rebuild: bool = False,
    progress: Callable[[int], Callable[[int], None] | None] = lambda total: None,
    notify: Callable[[str], None] = lambda msg: None,
    lock_wait: float = 600.0,
    batch_size: int = 64,
    extra: dict | None = None,
    keep: Callable[[str], bool] | None = None,
    load_quick_encoder: Callable[[], Encoder] | None = None,
) -> UpdateReport:
    """``qa.index.update_index`` for a Milvus location (see the module docstring)."""
    report = UpdateReport()
    with _writer_lock(where, lock_wait, notify):
        client = connect(where, create=True)
        try:
            options = _Options(rebuild, progress, notify, batch_size, extra, keep, load_quick_encoder)
            return _update(client, where, documents, load_encoder, report, options)
        except (IndexProblem, BadInputError, KeyboardInterrupt):
            raise
        except Exception as e:
            raise IndexProblem(
                f"Milvus at {where.uri} failed during the update ({reason(e)}); the index still answers "
                "from its last complete update: run qa index again"
            ) from None
        finally:
            disconnect(client, where.uri)


@dataclass(frozen=True)
class _Options:
    """``update_milvus``'s options, as ``qa.index.writer.update_local`` takes them."""

    rebuild: bool
    progress: Callable
    notify: Callable[[str], None]
    batch_size: int
    extra: dict | None
    keep: Callable[[str], bool] | None
    load_quick_encoder: Callable[[], Encoder] | None


def _update(client, where, documents, load_encoder, report: UpdateReport, options: _Options) -> UpdateReport:
    from qa.index.compaction import want_token_vectors

    rebuild, progress, notify = options.rebuild, options.progress, options.notify
    batch_size, extra, keep = options.batch_size, options.extra, options.keep
    names = collection_names(where.collection)
    create_collections(client, names, is_lite(where.uri))
    load_collections(client, names)
    state = read_state(client, names, where) or {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": MODEL_NAME,
        "dim": DIM,
        "gen": 0,
        "next_id": 1,
        "documents": 0,
        "sentences": 0,
        "token_vectors": None,
    }
    gen = int(state["gen"])
    versions = read_versions(client, names, gen)
    _clean(client, names, gen, versions)  # what a killed writer left
    if gen > 0:
        _repair(client, names, state)
    old = MilvusIndex(where, client, state, versions)  # (its live versions are the same after the clean)
    old_docs = {} if rebuild else old.digests()
    plan = plan_update(old_docs, documents, report, notify, keep)
    load_encoder = encoder_for(plan, load_encoder, options.load_quick_encoder if gen > 0 and not rebuild else None)
    if rebuild:
        plan.drop = sorted(set(old.digests()) - {doc.id for doc, _ in plan.add})
        report.removed = len(plan.drop)
    extra_changed = any(state.get("extra", {}).get(k) != v for k, v in (extra or {}).items())
    if gen > 0 and not (plan.add or plan.drop or plan.renamed or extra_changed or rebuild):
        report.sentences_total, report.documents_total = len(old), len(old_docs)
        return report
    added = {doc.id for doc, _ in plan.add}
    dropped = set(plan.drop) | added
    total = sum(v.sentences for d, v in old.live.items() if d not in dropped) + plan.new_sentences
    tokens = state.get("token_vectors")
    if tokens is None or rebuild:  # decided at the first build, like a local base
        tokens = want_token_vectors(total, sum(e - s for _, spans in plan.add for s, e in spans))
    elif tokens and not want_token_vectors(total, 0):
        tokens = False  # grown too large: the rerank falls back, as for large local indexes
        notify(f"{where.text}: more than the token-vector limit of sentences; the rerank falls back to hybrid")
    if tokens and plan.add and not load_encoder().has_token_vectors:
        raise IndexProblem("this encoder gives no token vectors; this Milvus index stores them: use the torch encoder")
    new_gen = gen + 1
    w = _Writer(where, client, names, new_gen, int(state["next_id"]), load_encoder, progress, batch_size, tokens)
    w.add_documents(plan)
    w.tombstones([d for d in plan.drop if d not in added])
    for doc_id, (path, title) in plan.renamed.items():  # metadata only: its version row, in place
        v = old.live[doc_id]
        row = client.query(
            names["documents"], filter=f"id == {quote(version_key(doc_id, v.gen))}", output_fields=["*"]
        )[0]
        row.update(path=path, title=title or "")
        client.upsert(names["documents"], [row])
    documents_total = len(old_docs) - len(set(plan.drop)) + len(plan.add) if not rebuild else len(plan.add)
    new_state = {
        **state,
        "gen": new_gen,
        "next_id": w.next_id,
        "documents": documents_total,
        "sentences": total,
        "token_vectors": bool(tokens),
        "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "extra": {**state.get("extra", {}), **(extra or {})},
    }
    client.upsert(names["state"], [{"id": "state", "state": new_state, "v": DUMMY_VECTOR}])  # the commit
    for name in names.values():  # searches over unflushed rows rebuild their index each time
        client.flush(name)
    report.committed = True
    report.sentences_embedded = w.embedded
    report.sentences_total, report.documents_total = total, documents_total
    with contextlib.suppress(Exception):  # superseded versions; the next writer retries
        _clean(client, names, new_gen, read_versions(client, names, new_gen))
        if not tokens and state.get("token_vectors"):
            client.delete(names["tokens"], filter="gen >= 0")
    return report

"""The Milvus backend: the index in a Milvus Lite file (``milvus:./lib.db``) or on a Milvus
server (``milvus:http://host:19530``), through ``pymilvus`` (``pip install 'citeqa[milvus]'``).

Collections, for a collection name ``C`` (default ``citeqa``)::

    C            one row per sentence: id, doc, gen, start, end, line, page, the text
                 BM25 indexes (``terms``), its BM25 vector (Milvus's BM25 function of
                 ``terms``) and its dense vector (exact search on Milvus Lite, HNSW on a server)
    C_documents  one row per document version: doc, gen, path, title, format, sha256, pages,
                 the whole text (so citations are exact from Milvus alone), or a tombstone
    C_tokens     the sentences' token vectors (float16, base64, in parts) for the MaxSim
                 rerank, when the index is small enough to store them (as locally)
    C_state      one row: the committed generation, the next sentence id, counts, model

What runs where: citeqa splits, embeds (on the client) and plans the change by content hash;
Milvus stores the rows and runs the dense and BM25 searches. Fusion, the rerank and reading
run in citeqa, as for the local index.

BM25: Milvus Lite's analyzers have no English stemmer, so the ``terms`` field holds the
sentence already tokenised by citeqa's own BM25 tokenizer (``qa.index.bm25``: stemmed, stop
words dropped), and questions are searched with the same terms: both backends score the same
terms, with the same k1 and b.

Crash safety, without transactions: every row a write adds carries the new generation G+1,
which readers do not see (they read rows of generation <= G, the committed one, from
``C_state``). A changed document gets a new version at G+1; a removed one a tombstone at G+1.
The write commits by replacing the one state row (G+1); only then are the superseded versions
deleted. A reader takes, for each document, its newest version of generation <= G and leaves
out the rows of older ones until they are gone. A writer killed at any point thus leaves
readers the complete old or the complete new set of each document's sentences; the next
writer deletes what the killed one left (rows above G, versions superseded).

Writers: a lock file beside a Milvus Lite file keeps two writers on one machine apart; on a
server, run one writer per collection at a time (readers can be many).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.model import DIM, MODEL_NAME, Encoder
from qa.errors import BadInputError, IndexProblem
from qa.index.ingest import once, plan_update, sentence_rows
from qa.index.protocol import DocumentInfo, IndexStats, Sentence, UpdateReport

FORMAT = "citeqa-milvus"
FORMAT_VERSION = 1
#: Rows per insert call.
BATCH = 512
#: The longest document text a row holds (Milvus VARCHAR, in bytes).
MAX_TEXT_BYTES = 64 * 1024 * 1024
#: Milvus returns at most this many hits per search.
MAX_LIMIT = 16384
#: Token vectors per ``C_tokens`` row (float16: 62 x 384 x 2 bytes, under 64 KiB as base64).
TOKENS_PER_PART = 62
MAX_PARTS = 8
#: Document frequencies are counted up to this many sentences (``MilvusIndex.term_weights``).
DF_CAP = 1000
#: Sentence rows a reader keeps (a quarter as many vectors).
CACHE_ROWS = 50_000
#: BM25 parameters, as bm25s's defaults locally.
BM25_K1 = 1.5
BM25_B = 0.75
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")
_DUMMY = [1.0, 0.0]  # every Milvus collection needs a vector field


def parse_milvus_location(rest: str) -> tuple[str, str]:
    """``URI[?collection=NAME]`` -> (uri, collection). A URI that is not http(s) is a Milvus
    Lite file (made absolute)."""
    from qa.index import DEFAULT_COLLECTION

    uri, _, query = rest.partition("?")
    collection = DEFAULT_COLLECTION
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        if key != "collection":
            raise BadInputError(f"milvus:{rest}: unknown option {key!r} (only ?collection=NAME)")
        collection = value
    if not _NAME.match(collection):
        raise BadInputError(f"milvus:{rest}: a collection name is letters, digits and _, not starting with a digit")
    if not uri:
        raise BadInputError("milvus: needs a file (milvus:./lib.db) or a server (milvus:http://host:19530)")
    if not re.match(r"^(https?|tcp|unix)://", uri):
        if not uri.endswith(".db"):
            raise BadInputError(f"milvus:{uri}: a Milvus Lite file name ends in .db (milvus:./lib.db)")
        uri = str(Path(uri).expanduser().resolve())
    return uri, collection


def _is_lite(uri: str) -> bool:
    return not re.match(r"^(https?|tcp|unix)://", uri)


#: Milvus Lite files this process has open -> open clients (Milvus Lite serves a file from a
#: thread of the process and holds its lock until that server stops: the last close stops it)
_LITE_USERS: dict[str, int] = {}


def _disconnect(client, uri: str) -> None:
    with contextlib.suppress(Exception):
        client.close()
    if _is_lite(uri):
        _LITE_USERS[uri] = _LITE_USERS.get(uri, 1) - 1
        if _LITE_USERS[uri] <= 0:
            del _LITE_USERS[uri]
            with contextlib.suppress(Exception):
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(uri)


def _connect(where, create: bool):
    """A ``MilvusClient`` (close it with ``_disconnect``); unreachable servers and unusable
    files become one clear line."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise IndexProblem("the Milvus backend needs pymilvus and milvus-lite: pip install 'citeqa[milvus]'") from None
    uri = where.uri
    if _is_lite(uri):
        path = Path(uri)
        if not create and not path.exists():
            raise IndexProblem(f"no index at {where.text}; build one with: qa index PATH... --index {where.text}")
        if not path.parent.is_dir():
            raise IndexProblem(f"{where.text}: the folder {path.parent} does not exist")
        if path.exists() and not path.is_dir():
            raise IndexProblem(f"{where.text}: {path} is a file, not a Milvus Lite database")
    _quiet()
    try:
        client = MilvusClient(uri=uri, timeout=10)
        if _is_lite(uri):
            _LITE_USERS[uri] = _LITE_USERS.get(uri, 0) + 1
        return client
    except Exception as e:  # pymilvus raises MilvusException, grpc errors, OSError...
        if _is_lite(uri) and "Open local milvus failed" in str(e):
            raise IndexProblem(
                f"cannot open {where.text}: Milvus Lite lets one process at a time use a database, and another "
                "one (or a read-only folder) stands in the way; try again when it has finished, or serve the "
                "database to many processes with a Milvus server"
            ) from None
        raise IndexProblem(f"cannot reach Milvus at {uri} ({_reason(e)}); start it, or check the address") from None


def _quiet() -> None:
    """pymilvus logs failures (with tracebacks) and notices itself; citeqa says what matters once."""
    import logging

    for name in ("pymilvus", "milvus_lite", "grpc"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _load(client, names: dict[str, str]) -> None:
    """Load the collections for search and query (Milvus keeps released ones on disk only)."""
    for name in names.values():
        if client.has_collection(name) and str(client.get_load_state(name).get("state")) != "Loaded":
            client.load_collection(name)


def _reason(e: BaseException) -> str:
    text = str(getattr(e, "message", None) or e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(_quote(v) for v in values) + "]"


def _names(collection: str) -> dict[str, str]:
    return {
        "sentences": collection,
        "documents": f"{collection}_documents",
        "tokens": f"{collection}_tokens",
        "state": f"{collection}_state",
    }


def _terms(text: str) -> str:
    from qa.index.bm25 import tokenize

    return " ".join(tokenize([text])[0])


def _query_terms(question: str) -> str:
    from qa.index.bm25 import query_terms

    return " ".join(query_terms(question))


# -- reading -----------------------------------------------------------------------------


@dataclass
class _Version:
    doc: str
    gen: int
    deleted: bool
    info: DocumentInfo | None
    pages: list
    #: the version's sentence ids are first_id, first_id + 1, ... (in text order)
    first_id: int = 0
    sentences: int = 0


class MilvusTokenVectors:
    """Token vectors fetched from ``C_tokens`` in one query per ``prefetch(ids)``, then kept."""

    def __init__(self, index: MilvusIndex) -> None:
        self._index = index
        self._cache: OrderedDict[int, np.ndarray | None] = OrderedDict()

    def prefetch(self, ids: Iterable[int]) -> None:
        want = sorted({int(i) for i in ids if i is not None and int(i) not in self._cache})
        if not want:
            return
        keys = [i * MAX_PARTS + part for i in want for part in range(MAX_PARTS)]  # primary keys: fast
        rows = self._index._get("tokens", keys, ["sentence", "part", "data"])
        parts: dict[int, dict[int, str]] = {}
        for r in rows:
            parts.setdefault(r["sentence"], {})[r["part"]] = r["data"]
        for i in want:
            got = sorted(parts.get(i, {}).items())
            value = None
            if got:
                raw = b"".join(base64.b64decode(d) for _, d in got)
                value = np.frombuffer(raw, dtype=np.float16).reshape(-1, DIM)
            self._cache[i] = value
        while len(self._cache) > 4096:
            self._cache.popitem(last=False)

    def __contains__(self, sentence_id: int) -> bool:
        return self.get(sentence_id) is not None

    def get(self, sentence_id: int) -> np.ndarray | None:
        if sentence_id not in self._cache:
            self.prefetch([sentence_id])
        return self._cache.get(sentence_id)

    def float32(self, sentence_id: int) -> np.ndarray | None:
        v = self.get(sentence_id)
        return None if v is None else v.astype(np.float32)


class MilvusIndex:
    """A read-only view of a Milvus index at its committed generation."""

    bm25_k1 = BM25_K1

    def __init__(self, where, client, state: dict, versions: dict[str, list[_Version]]) -> None:
        self.location = where.text
        self.where = where
        self.client = client
        self.state = state
        self.names = _names(where.collection)
        self.generation = int(state["gen"])
        self._live: dict[str, _Version] = {}
        stale: dict[int, list[str]] = {}  # gen below which a document's rows are stale -> docs
        gone: list[str] = []
        for doc, vs in versions.items():
            newest = max(vs, key=lambda v: v.gen)
            if len(vs) > 1:
                if newest.deleted:
                    gone.append(doc)
                else:
                    stale.setdefault(newest.gen, []).append(doc)
            elif newest.deleted:
                gone.append(doc)
            if not newest.deleted:
                self._live[doc] = newest
        live = [f"gen <= {self.generation}"]
        if gone:
            live.append(f"doc not in {_strings(gone)}")
        for gen, docs in stale.items():
            live.append(f"not (doc in {_strings(docs)} and gen < {gen})")
        #: the filter every sentence query adds: committed rows of live document versions
        self.live_filter = " and ".join(live)
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._tokens = MilvusTokenVectors(self) if state.get("token_vectors") else None
        self._row_cache: OrderedDict[int, dict | None] = OrderedDict()
        self._vector_cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._df: dict[str, int] = {}

    @classmethod
    def open(cls, where) -> MilvusIndex:
        client = _connect(where, create=False)
        try:
            names = _names(where.collection)
            _load(client, names)
            state = _read_state(client, names, where)
            if state is None:
                raise IndexProblem(f"no index at {where.text}; build one with: qa index PATH... --index {where.text}")
            versions = _versions(client, names, int(state["gen"]))
        except IndexProblem:
            _disconnect(client, where.uri)
            raise
        except Exception as e:
            _disconnect(client, where.uri)
            raise IndexProblem(f"cannot read the Milvus index {where.text} ({_reason(e)})") from None
        return cls(where, client, state, versions)

    def close(self) -> None:
        if self.client is not None:
            _disconnect(self.client, self.where.uri)
            self.client = None

    def __len__(self) -> int:
        return int(self.state["sentences"])

    def _query(self, kind: str, expr: str, fields: list[str], limit: int | None = None) -> list[dict]:
        try:
            if limit is None:
                return list(self.client.query(self.names[kind], filter=expr, output_fields=fields))
            return list(self.client.query(self.names[kind], filter=expr, output_fields=fields, limit=limit))
        except Exception as e:
            raise IndexProblem(f"Milvus at {self.where.uri} failed a query ({_reason(e)})") from None

    def _get(self, kind: str, ids: list, fields: list[str]) -> list[dict]:
        """Rows by primary key (in Milvus Lite far quicker than a query on ``id``); unknown
        keys are left out."""
        out = []
        try:
            for i in range(0, len(ids), 1000):
                out.extend(self.client.get(self.names[kind], ids=ids[i : i + 1000], output_fields=fields))
        except Exception as e:
            raise IndexProblem(f"Milvus at {self.where.uri} failed a query ({_reason(e)})") from None
        return out

    def _is_live(self, row: dict) -> bool:
        """Whether a sentence row belongs to its document's live version (what ``live_filter`` says)."""
        v = self._live.get(row["doc"])
        return v is not None and row["gen"] == v.gen

    def _search(self, data, field_name: str, k: int, expr: str, metric: str) -> list[dict]:
        """The best ``k`` hits, each id once (twice as many are asked for: a Milvus Lite killed
        while flushing can come back with rows twice, until the next update repairs them)."""
        if k <= 0:
            return []
        limit = min(2 * k, MAX_LIMIT)
        try:
            found = self.client.search(
                self.names["sentences"],
                data=[data],
                anns_field=field_name,
                limit=limit,
                filter=expr,
                output_fields=["doc"],
                # HNSW (on a server) needs ef >= limit; exact indexes ignore it
                search_params={"metric_type": metric, "params": {"ef": max(128, 2 * limit)}}
                if metric == "COSINE"
                else {"metric_type": metric},
            )
        except Exception as e:
            raise IndexProblem(f"Milvus at {self.where.uri} failed a search ({_reason(e)})") from None
        unique = {}
        for h in found[0] if found else []:
            unique.setdefault(h["id"], h)
        return list(unique.values())[:k]

    # -- documents and sentences ---------------------------------------------------------

    def document(self, doc_id: str) -> DocumentInfo:
        return self._live[doc_id].info

    def documents(self) -> list[DocumentInfo]:
        return [self._live[d].info for d in sorted(self._live)]

    def digests(self) -> dict[str, tuple[str, str, str | None]]:
        return {d: (v.info.sha256, v.info.path, v.info.title) for d, v in self._live.items()}

    def text(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            v = self._live[doc_id]
            rows = self._get("documents", [_version_key(doc_id, v.gen)], ["text"])
            if not rows:
                raise KeyError(doc_id)
            self._texts[doc_id] = rows[0]["text"]
            while len(self._texts) > 256:
                self._texts.popitem(last=False)
        return self._texts[doc_id]

    def _rows(self, ids: list[int]) -> dict[int, dict]:
        """Sentence rows by id (kept: a reader sees one generation, whose rows do not change)."""
        missing = sorted({i for i in ids if i not in self._row_cache})
        if missing:
            rows = self._get("sentences", missing, ["id", "doc", "gen", "start", "end", "line", "page"])
            found = {r["id"]: r for r in rows if self._is_live(r)}
            for i in missing:
                self._row_cache[i] = found.get(i)
            while len(self._row_cache) > CACHE_ROWS:
                self._row_cache.popitem(last=False)
        return {i: r for i in ids if (r := self._row_cache.get(i)) is not None}

    def sentences(self, ids: Iterable[int]) -> list[Sentence]:
        ids = [int(i) for i in ids]
        rows = self._rows(ids)
        out = []
        for i in ids:
            r = rows.get(i)
            if r is not None and r["doc"] in self._live:
                text = self.text(r["doc"])
                out.append(
                    Sentence(i, r["doc"], r["start"], r["end"], r["line"], r["page"], text[r["start"] : r["end"]])
                )
        return out

    def documents_of(self, ids: Iterable[int]) -> dict[int, str]:
        return {i: r["doc"] for i, r in self._rows([int(i) for i in ids]).items()}

    def sentence_ids(self, doc_id: str) -> list[int]:
        v = self._live.get(doc_id)
        return list(range(v.first_id, v.first_id + v.sentences)) if v is not None else []

    def document_sentences(self, doc_id: str) -> list[Sentence]:
        return self.sentences(self.sentence_ids(doc_id))

    def neighbours(self, sentence: Sentence, before: int = 1, after: int = 1) -> list[Sentence]:
        around = self.sentences(range(sentence.id - before, sentence.id + after + 1))
        return [s for s in around if s.doc == sentence.doc]

    def sentence_counts(self) -> dict[str, int]:
        return {doc: v.sentences for doc, v in self._live.items()}

    def _iterate(self, kind: str, expr: str, fields: list[str]):
        it = self.client.query_iterator(self.names[kind], batch_size=1000, filter=expr, output_fields=fields)
        try:
            while batch := it.next():
                yield from batch
        finally:
            it.close()

    # -- search --------------------------------------------------------------------------

    def _filter(self, exclude_docs) -> str:
        if not exclude_docs:
            return self.live_filter
        return f"{self.live_filter} and doc not in {_strings(sorted(exclude_docs))}"

    def search_dense(self, query_vector: np.ndarray, k: int, exclude_docs=frozenset()) -> list[tuple[int, float]]:
        q = np.asarray(query_vector, dtype=np.float32).reshape(-1).tolist()
        hits = self._search(q, "dense", k, self._filter(exclude_docs), "COSINE")
        return [(int(h["id"]), float(h["distance"])) for h in hits]

    def vectors(self, ids: list[int]) -> np.ndarray | None:
        if not ids:
            return np.zeros((0, DIM), np.float32)
        cache = self._vector_cache
        missing = sorted({i for i in ids if i not in cache})
        if missing:
            for r in self._get("sentences", missing, ["id", "dense"]):
                cache[r["id"]] = np.asarray(r["dense"], dtype=np.float32)
            while len(cache) > CACHE_ROWS // 4:
                cache.popitem(last=False)
        if any(i not in cache for i in ids):
            return None
        return np.stack([cache[i] for i in ids])

    def search_lexical(self, question: str, k: int, exclude_docs=frozenset()) -> list[tuple[int, float]]:
        terms = _query_terms(question)
        if not terms:
            return []
        hits = self._search(terms, "sparse", k, self._filter(exclude_docs), "BM25")
        return [(int(h["id"]), _bm25(h)) for h in hits]

    def lexical_scores(self, question: str, ids: list[int]) -> np.ndarray:
        terms = _query_terms(question)
        if not terms or not ids:
            return np.zeros(len(ids), np.float32)
        unique = sorted(set(ids))
        hits = self._search(terms, "sparse", len(unique), f"id in {unique} and {self.live_filter}", "BM25")
        found = {int(h["id"]): _bm25(h) for h in hits}
        return np.array([found.get(i, 0.0) for i in ids], dtype=np.float32)

    def term_weights(self, question: str) -> dict[str, float]:
        """IDF as bm25s computes it (Lucene's), with each term's document frequency counted as
        the BM25 hits of the term alone (one search for all the question's new terms). A term
        in more than ``DF_CAP`` sentences counts as in ``DF_CAP`` (counting more costs a search
        that returns them all): common terms weigh a little more than locally."""
        from qa.index.bm25 import query_terms

        terms = list(dict.fromkeys(query_terms(question)))
        new = [t for t in terms if t not in self._df]
        if new:
            try:
                found = self.client.search(
                    self.names["sentences"],
                    data=new,
                    anns_field="sparse",
                    limit=min(max(len(self), 1), DF_CAP),
                    filter=self.live_filter,
                    output_fields=[],
                    search_params={"metric_type": "BM25"},
                )
            except Exception as e:
                raise IndexProblem(f"Milvus at {self.where.uri} failed a search ({_reason(e)})") from None
            if len(self._df) > 100_000:
                self._df.clear()
            for term, hits in zip(new, found, strict=True):
                self._df[term] = len({h["id"] for h in hits})
        n = len(self)
        return {t: float(np.log(1 + (n - self._df[t] + 0.5) / (self._df[t] + 0.5))) for t in terms}

    @property
    def token_vectors(self) -> MilvusTokenVectors | None:
        return self._tokens

    def stats(self) -> IndexStats:
        return IndexStats(
            backend="milvus",
            location=self.location,
            documents=int(self.state["documents"]),
            sentences=len(self),
            token_vectors=self._tokens is not None,
            details={
                "uri": self.where.uri,
                "collection": self.where.collection,
                "generation": self.generation,
                "updated": self.state.get("updated"),
            },
        )


def _bm25(hit: dict) -> float:
    """A hit's BM25 score on bm25s's scale (the local backend's): Milvus Lite gives minus the
    score as its distance (a server gives the score), which includes a factor k1 + 1."""
    return abs(float(hit["distance"])) / (BM25_K1 + 1)


def _version_key(doc: str, gen: int) -> str:
    return f"{gen:012d}\t{doc}"


def _read_state(client, names: dict[str, str], where) -> dict | None:
    if not client.has_collection(names["state"]):
        return None
    rows = client.query(names["state"], filter='id == "state"', output_fields=["state"])
    if not rows:
        return None
    # the newest, should a Milvus Lite killed while flushing come back with the older one too
    state = max((r["state"] for r in rows), key=lambda s: s.get("gen", -1) if isinstance(s, dict) else -1)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise IndexProblem(f"{where.text} is not a citeqa index")
    if state.get("format_version") != FORMAT_VERSION or state.get("model") != MODEL_NAME or state.get("dim") != DIM:
        raise IndexProblem(
            f"{where.text} was built with another citeqa or model ({state.get('model')}, format "
            f"{state.get('format_version')}); rebuild it with: qa index PATH... --index {where.text} --rebuild"
        )
    return state


def _versions(client, names: dict[str, str], gen: int) -> dict[str, list[_Version]]:
    """Every document version of generation <= ``gen``, by document."""
    out: dict[str, list[_Version]] = {}
    fields = ["doc", "gen", "deleted", "path", "title", "format", "sha256", "pages", "first_id", "sentences"]
    it = client.query_iterator(names["documents"], batch_size=1000, filter=f"gen <= {gen}", output_fields=fields)
    try:
        while batch := it.next():
            for r in batch:
                info = None
                if not r["deleted"]:
                    info = DocumentInfo(r["doc"], r["path"], r["title"] or None, r["format"], r["sha256"])
                vs = out.setdefault(r["doc"], [])
                if all(v.gen != r["gen"] for v in vs):  # (a row can come back twice: see _repair)
                    vs.append(
                        _Version(
                            r["doc"], r["gen"], r["deleted"], info, r["pages"] or [], r["first_id"], r["sentences"]
                        )
                    )
    finally:
        it.close()
    return out


def _count(client, name: str) -> int:
    rows = client.query(name, filter="", output_fields=["count(*)"])
    return int(rows[0]["count(*)"]) if rows else 0


def _repair(client, names: dict[str, str], state: dict) -> None:
    """Milvus Lite killed while flushing can come back with flushed rows twice (its log is
    replayed over the data files it had written). After ``_clean`` every row left is live, so
    more rows than the state counts means copies: each duplicated row is deleted and written
    once again."""
    if _count(client, names["sentences"]) <= int(state.get("sentences", 0)) and _count(
        client, names["documents"]
    ) <= int(state.get("documents", 0)):
        return
    for kind in ("sentences", "tokens", "documents"):
        fields = ["*"]
        seen: dict = {}
        twice: dict = {}
        it = client.query_iterator(names[kind], batch_size=1000, filter="", output_fields=fields)
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


# -- writing -------------------------------------------------------------------------------


def _create_collections(client, names: dict[str, str], lite: bool) -> None:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    def index(field_name: str, kind: str, metric: str, params: dict | None = None):
        p = MilvusClient.prepare_index_params()
        p.add_index(field_name=field_name, index_type=kind, metric_type=metric, params=params or {})
        return p

    if not client.has_collection(names["sentences"]):
        s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        s.add_field("doc", DataType.VARCHAR, max_length=4096)
        s.add_field("gen", DataType.INT64)
        s.add_field("start", DataType.INT64)
        s.add_field("end", DataType.INT64)
        s.add_field("line", DataType.INT64)
        s.add_field("page", DataType.INT64, nullable=True)
        s.add_field(
            "terms",
            DataType.VARCHAR,
            max_length=65535,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},
        )
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
        s.add_function(
            Function(
                name="terms_bm25",
                function_type=FunctionType.BM25,
                input_field_names=["terms"],
                output_field_names=["sparse"],
            )
        )
        p = MilvusClient.prepare_index_params()
        if lite:  # exact, like the local index at this size
            p.add_index(field_name="dense", index_type="FLAT", metric_type="COSINE")
        else:
            p.add_index(
                field_name="dense", index_type="HNSW", metric_type="COSINE", params={"M": 16, "efConstruction": 200}
            )
        p.add_index(
            field_name="sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
        )
        client.create_collection(names["sentences"], schema=s, index_params=p)
    if not client.has_collection(names["documents"]):
        s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=4200)
        s.add_field("doc", DataType.VARCHAR, max_length=4096)
        s.add_field("gen", DataType.INT64)
        s.add_field("deleted", DataType.BOOL)
        s.add_field("path", DataType.VARCHAR, max_length=65535)
        s.add_field("title", DataType.VARCHAR, max_length=65535)
        s.add_field("format", DataType.VARCHAR, max_length=64)
        s.add_field("sha256", DataType.VARCHAR, max_length=64)
        s.add_field("pages", DataType.JSON)
        s.add_field("first_id", DataType.INT64)
        s.add_field("sentences", DataType.INT64)
        s.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
        s.add_field("v", DataType.FLOAT_VECTOR, dim=2)
        client.create_collection(names["documents"], schema=s, index_params=index("v", "FLAT", "L2"))
    if not client.has_collection(names["tokens"]):
        s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", DataType.INT64, is_primary=True)  # sentence * MAX_PARTS + part
        s.add_field("sentence", DataType.INT64)
        s.add_field("part", DataType.INT64)
        s.add_field("doc", DataType.VARCHAR, max_length=4096)
        s.add_field("gen", DataType.INT64)
        s.add_field("data", DataType.VARCHAR, max_length=65535)
        s.add_field("v", DataType.FLOAT_VECTOR, dim=2)
        client.create_collection(names["tokens"], schema=s, index_params=index("v", "FLAT", "L2"))
    if not client.has_collection(names["state"]):
        s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=16)
        s.add_field("state", DataType.JSON)
        s.add_field("v", DataType.FLOAT_VECTOR, dim=2)
        client.create_collection(names["state"], schema=s, index_params=index("v", "FLAT", "L2"))


@contextlib.contextmanager
def _writer_lock(where, wait: float, notify: Callable[[str], None]):
    """A lock file beside a Milvus Lite file (a server has no file to lock: one writer at a time)."""
    if not _is_lite(where.uri):
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
                "v": _DUMMY,
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
                        "id": _version_key(doc.id, self.gen),
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
                        "v": _DUMMY,
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
                            "terms": _terms(r.embedding_text),
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
                "id": _version_key(d, self.gen),
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
                "v": _DUMMY,
            }
            for d in docs
        ]
        for i in range(0, len(rows), BATCH):
            self.client.insert(self.names["documents"], rows[i : i + BATCH])


def _delete(client, names: dict[str, str], expr_by_kind: dict[str, str]) -> None:
    for kind, expr in expr_by_kind.items():
        client.delete(names[kind], filter=expr)


def _clean(client, names: dict[str, str], gen: int, versions: dict[str, list[_Version]]) -> None:
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
            part = _strings(docs[i : i + 500])
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
) -> UpdateReport:
    """``qa.index.update_index`` for a Milvus location (see the module docstring)."""
    report = UpdateReport()
    load_encoder = once(load_encoder)
    with _writer_lock(where, lock_wait, notify):
        client = _connect(where, create=True)
        try:
            options = _Options(rebuild, progress, notify, batch_size, extra, keep)
            return _update(client, where, documents, load_encoder, report, options)
        except (IndexProblem, BadInputError, KeyboardInterrupt):
            raise
        except Exception as e:
            raise IndexProblem(
                f"Milvus at {where.uri} failed during the update ({_reason(e)}); the index still answers "
                "from its last complete update: run qa index again"
            ) from None
        finally:
            _disconnect(client, where.uri)


@dataclass(frozen=True)
class _Options:
    """``update_milvus``'s options, as ``qa.index.writer.update_local`` takes them."""

    rebuild: bool
    progress: Callable
    notify: Callable[[str], None]
    batch_size: int
    extra: dict | None
    keep: Callable[[str], bool] | None


def _update(client, where, documents, load_encoder, report: UpdateReport, options: _Options) -> UpdateReport:
    from qa.index.compaction import want_token_vectors

    rebuild, progress, notify = options.rebuild, options.progress, options.notify
    batch_size, extra, keep = options.batch_size, options.extra, options.keep
    names = _names(where.collection)
    _create_collections(client, names, _is_lite(where.uri))
    _load(client, names)
    state = _read_state(client, names, where) or {
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
    versions = _versions(client, names, gen)
    _clean(client, names, gen, versions)  # what a killed writer left
    if gen > 0:
        _repair(client, names, state)
    old = MilvusIndex(where, client, state, _versions(client, names, gen))
    old_docs = {} if rebuild else old.digests()
    plan = plan_update(old_docs, documents, report, notify, keep)
    if rebuild:
        plan.drop = sorted(set(old.digests()) - {doc.id for doc, _ in plan.add})
        report.removed = len(plan.drop)
    extra_changed = any(state.get("extra", {}).get(k) != v for k, v in (extra or {}).items())
    if gen > 0 and not (plan.add or plan.drop or plan.renamed or extra_changed or rebuild):
        report.sentences_total, report.documents_total = len(old), len(old_docs)
        return report
    dropped = set(plan.drop) | {doc.id for doc, _ in plan.add}
    total = sum(v.sentences for d, v in old._live.items() if d not in dropped) + plan.new_sentences
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
    w.tombstones([d for d in plan.drop if d not in {doc.id for doc, _ in plan.add}])
    for doc_id, (path, title) in plan.renamed.items():  # metadata only: its version row, in place
        v = old._live[doc_id]
        row = client.query(
            names["documents"], filter=f"id == {_quote(_version_key(doc_id, v.gen))}", output_fields=["*"]
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
    client.upsert(names["state"], [{"id": "state", "state": new_state, "v": _DUMMY}])  # the commit
    for name in names.values():  # searches over unflushed rows rebuild their index each time
        client.flush(name)
    report.committed = True
    report.sentences_embedded = w.embedded
    report.sentences_total, report.documents_total = total, documents_total
    with contextlib.suppress(Exception):  # superseded versions; the next writer retries
        _clean(client, names, new_gen, _versions(client, names, new_gen))
        if not tokens and state.get("token_vectors"):
            client.delete(names["tokens"], filter="gen >= 0")
    return report


# -- checking ---------------------------------------------------------------------------------


def check_milvus(where):
    """What ``qa index --check milvus:...`` lists: the state, counts, content hashes, spans,
    vector norms (``qa.index.check.CheckReport``)."""
    import hashlib

    from qa.index.check import CheckReport

    report = CheckReport(where.text)
    index = MilvusIndex.open(where)  # unreachable, missing or foreign: one line, exit 3
    try:
        report.generation = index.generation
        docs = index.documents()
        report.documents = len(docs)
        if len(docs) != int(index.state["documents"]):
            report.problems.append(f"{len(docs)} documents, the state says {index.state['documents']}")
        spans: dict[str, dict[int, tuple[int, int]]] = {}
        n = 0
        bad_norms = 0
        for r in index._iterate("sentences", index.live_filter, ["id", "doc", "start", "end", "dense"]):
            n += 1
            spans.setdefault(r["doc"], {})[r["id"]] = (r["start"], r["end"])
            if abs(float(np.linalg.norm(np.asarray(r["dense"], np.float32))) - 1.0) > 1e-3:
                bad_norms += 1
        report.sentences = report.vectors = n
        if n != len(index):
            again = " (rows stored twice: the next qa index repairs them)" if n > len(index) else ""
            report.problems.append(f"{n} sentence rows, the state says {len(index)} sentences{again}")
        if bad_norms:
            report.problems.append(f"{bad_norms} sentence vector(s) are not unit length")
        for info in docs:
            text = index.text(info.id)
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != info.sha256:
                report.problems.append(f"{info.id}: the stored text does not match its sha256")
            mine = spans.get(info.id, {})
            if sorted(mine) != index.sentence_ids(info.id):
                report.problems.append(f"{info.id}: its sentence rows are not the ids its document row names")
            for s, e in mine.values():
                if not 0 <= s < e <= len(text) or not text[s:e].strip():
                    report.problems.append(f"{info.id}: a sentence span {s}..{e} is not inside its text")
                    break
        orphans = set(spans) - {d.id for d in docs}
        if orphans:
            report.problems.append(f"{len(orphans)} document(s) have sentences but no text")
    finally:
        index.close()
    return report

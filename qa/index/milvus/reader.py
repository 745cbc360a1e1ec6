"""``MilvusIndex``: a Milvus index at its committed generation, behind
``qa.index.protocol.IndexBackend``; and its token vectors."""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np

from embeddings.model import DIM
from qa.errors import IndexProblem
from qa.index.milvus.connection import connect, disconnect, load_collections, reason
from qa.index.milvus.layout import (
    BM25_K1,
    CACHE_ROWS,
    DF_CAP,
    MAX_LIMIT,
    MAX_PARTS,
    Version,
    bm25_score,
    collection_names,
    question_terms,
    read_state,
    read_versions,
    strings,
    version_key,
)
from qa.index.protocol import DocumentInfo, IndexStats, Sentence


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

    def __init__(self, where, client, state: dict, versions: dict[str, list[Version]]) -> None:
        self.location = where.text
        self.where = where
        self.client = client
        self.state = state
        self.names = collection_names(where.collection)
        self.generation = int(state["gen"])
        #: each live document's version (its newest of generation <= the committed one)
        self.live: dict[str, Version] = {}
        stale: dict[int, list[str]] = {}  # gen below which a document's rows are stale -> docs
        gone: list[str] = []
        for doc, vs in versions.items():
            newest = max(vs, key=lambda v: v.gen)
            if newest.deleted:
                gone.append(doc)
                continue
            self.live[doc] = newest
            if len(vs) > 1:
                stale.setdefault(newest.gen, []).append(doc)
        live = [f"gen <= {self.generation}"]
        if gone:
            live.append(f"doc not in {strings(gone)}")
        for gen, docs in stale.items():
            live.append(f"not (doc in {strings(docs)} and gen < {gen})")
        #: the filter every sentence query adds: committed rows of live document versions
        self.live_filter = " and ".join(live)
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._tokens = MilvusTokenVectors(self) if state.get("token_vectors") else None
        self._row_cache: OrderedDict[int, dict | None] = OrderedDict()
        self._vector_cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._df: dict[str, int] = {}

    @classmethod
    def open(cls, where) -> MilvusIndex:
        client = connect(where, create=False)
        try:
            names = collection_names(where.collection)
            load_collections(client, names)
            state = read_state(client, names, where)
            if state is None:
                raise IndexProblem(f"no index at {where.text}; build one with: qa index PATH... --index {where.text}")
            versions = read_versions(client, names, int(state["gen"]))
        except IndexProblem:
            disconnect(client, where.uri)
            raise
        except Exception as e:
            disconnect(client, where.uri)
            raise IndexProblem(f"cannot read the Milvus index {where.text} ({reason(e)})") from None
        return cls(where, client, state, versions)

    def close(self) -> None:
        if self.client is not None:
            disconnect(self.client, self.where.uri)
            self.client = None

    def __len__(self) -> int:
        return int(self.state["sentences"])

    def _get(self, kind: str, ids: list, fields: list[str]) -> list[dict]:
        """Rows by primary key (in Milvus Lite far quicker than a query on ``id``); unknown
        keys are left out."""
        out = []
        try:
            for i in range(0, len(ids), 1000):
                out.extend(self.client.get(self.names[kind], ids=ids[i : i + 1000], output_fields=fields))
        except Exception as e:
            raise IndexProblem(f"Milvus at {self.where.uri} failed a query ({reason(e)})") from None
        return out

    def _is_live(self, row: dict) -> bool:
        """Whether a sentence row belongs to its document's live version (what ``live_filter`` says)."""
        v = self.live.get(row["doc"])
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
            raise IndexProblem(f"Milvus at {self.where.uri} failed a search ({reason(e)})") from None
        unique = {}
        for h in found[0] if found else []:
            unique.setdefault(h["id"], h)
        return list(unique.values())[:k]

    # -- documents and sentences ---------------------------------------------------------

    def document(self, doc_id: str) -> DocumentInfo:
        return self.live[doc_id].info

    def documents(self) -> list[DocumentInfo]:
        return [self.live[d].info for d in sorted(self.live)]

    def digests(self) -> dict[str, tuple[str, str, str | None]]:
        return {d: (v.info.sha256, v.info.path, v.info.title) for d, v in self.live.items()}

    def text(self, doc_id: str) -> str:
        text = self._texts.get(doc_id)  # (one look-up: another thread may evict it meanwhile)
        if text is None:
            v = self.live[doc_id]
            rows = self._get("documents", [version_key(doc_id, v.gen)], ["text"])
            if not rows:
                raise KeyError(doc_id)
            text = self._texts[doc_id] = rows[0]["text"]
            while len(self._texts) > 256:
                self._texts.popitem(last=False)
        return text

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
            if r is not None and r["doc"] in self.live:
                text = self.text(r["doc"])
                out.append(
                    Sentence(i, r["doc"], r["start"], r["end"], r["line"], r["page"], text[r["start"] : r["end"]])
                )
        return out

    def documents_of(self, ids: Iterable[int]) -> dict[int, str]:
        return {i: r["doc"] for i, r in self._rows([int(i) for i in ids]).items()}

    def sentence_ids(self, doc_id: str) -> list[int]:
        v = self.live.get(doc_id)
        return list(range(v.first_id, v.first_id + v.sentences)) if v is not None else []

    def document_sentences(self, doc_id: str) -> list[Sentence]:
        return self.sentences(self.sentence_ids(doc_id))

    def neighbours(self, sentence: Sentence, before: int = 1, after: int = 1) -> list[Sentence]:
        around = self.sentences(range(sentence.id - before, sentence.id + after + 1))
        return [s for s in around if s.doc == sentence.doc]

    def sentence_counts(self) -> dict[str, int]:
        return {doc: v.sentences for doc, v in self.live.items()}

    def iter_rows(self, kind: str, expr: str, fields: list[str]):
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
        return f"{self.live_filter} and doc not in {strings(sorted(exclude_docs))}"

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
        terms = question_terms(question)
        if not terms:
            return []
        hits = self._search(terms, "sparse", k, self._filter(exclude_docs), "BM25")
        return [(int(h["id"]), bm25_score(h)) for h in hits]

    def lexical_scores(self, question: str, ids: list[int]) -> np.ndarray:
        terms = question_terms(question)
        if not terms or not ids:
            return np.zeros(len(ids), np.float32)
        unique = sorted(set(ids))
        hits = self._search(terms, "sparse", len(unique), f"id in {unique} and {self.live_filter}", "BM25")
        found = {int(h["id"]): bm25_score(h) for h in hits}
        return np.array([found.get(i, 0.0) for i in ids], dtype=np.float32)

    def term_weights(self, question: str) -> dict[str, float]:
        """IDF as bm25s computes it (Lucene's), with each term's document frequency counted as
        the BM25 hits of the term alone (one search for all the question's new terms). A term
        in more than ``DF_CAP`` sentences counts as in ``DF_CAP`` (counting more costs a search
        that returns them all): common terms weigh a little more than locally."""
        from qa.index.bm25 import query_terms

        terms = list(dict.fromkeys(query_terms(question)))
        self._count([t for t in terms if t not in self._df], DF_CAP)
        n = len(self)
        return {t: float(np.log(1 + (n - self._df[t] + 0.5) / (self._df[t] + 0.5))) for t in terms}

    def _count(self, terms: list[str], cap: int) -> dict[str, int]:
        """The live sentences holding each term, counted up to ``cap`` (one search for all); the
        counts that are exact or capped at ``DF_CAP`` are kept for ``term_weights``."""
        if not terms:
            return {}
        try:
            found = self.client.search(
                self.names["sentences"],
                data=terms,
                anns_field="sparse",
                limit=min(max(len(self), 1), cap),
                filter=self.live_filter,
                output_fields=[],
                search_params={"metric_type": "BM25"},
            )
        except Exception as e:
            raise IndexProblem(f"Milvus at {self.where.uri} failed a search ({reason(e)})") from None
        if len(self._df) > 100_000:
            self._df.clear()
        counts = {term: len({h["id"] for h in hits}) for term, hits in zip(terms, found, strict=True)}
        self._df.update({t: n for t, n in counts.items() if cap >= DF_CAP or not n})  # a 0 is exact at any cap
        return counts

    def term_counts(self, terms: list[str]) -> dict[str, int]:
        """Counted as ``term_weights`` counts: a first search (one hit a term) finds which of the
        terms not seen yet any sentence holds, a second counts those."""
        terms = list(dict.fromkeys(terms))
        held = [t for t, n in self._count([t for t in terms if t not in self._df], 1).items() if n]
        self._count(held, DF_CAP)
        return {t: self._df[t] for t in terms if self._df.get(t)}

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

"""What the Milvus backend stores: its collections and their schemas, the rows' helpers, the
state row and the document versions (see ``qa.index.milvus``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from embeddings.model import DIM, MODEL_NAME
from qa.errors import IndexProblem
from qa.index.protocol import DocumentInfo

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
#: The collection name prefix when a ``milvus:`` location names none
DEFAULT_COLLECTION = "citeqa"
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")
DUMMY_VECTOR = [1.0, 0.0]  # every Milvus collection needs a vector field


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(quote(v) for v in values) + "]"


def collection_names(collection: str) -> dict[str, str]:
    return {
        "sentences": collection,
        "documents": f"{collection}_documents",
        "tokens": f"{collection}_tokens",
        "state": f"{collection}_state",
    }


def sentence_terms(text: str) -> str:
    from qa.index.bm25 import tokenize

    return " ".join(tokenize([text])[0])


def question_terms(question: str) -> str:
    from qa.index.bm25 import query_terms

    return " ".join(query_terms(question))


# -- reading -----------------------------------------------------------------------------


@dataclass
class Version:
    doc: str
    gen: int
    deleted: bool
    info: DocumentInfo | None
    pages: list
    #: the version's sentence ids are first_id, first_id + 1, ... (in text order)
    first_id: int = 0
    sentences: int = 0


def bm25_score(hit: dict) -> float:
    """A hit's BM25 score on bm25s's scale (the local backend's): Milvus Lite gives minus the
    score as its distance (a server gives the score), which includes a factor k1 + 1."""
    return abs(float(hit["distance"])) / (BM25_K1 + 1)


def version_key(doc: str, gen: int) -> str:
    return f"{gen:012d}\t{doc}"


def read_state(client, names: dict[str, str], where) -> dict | None:
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


def read_versions(client, names: dict[str, str], gen: int) -> dict[str, list[Version]]:
    """Every document version of generation <= ``gen``, by document."""
    out: dict[str, list[Version]] = {}
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
                        Version(r["doc"], r["gen"], r["deleted"], info, r["pages"] or [], r["first_id"], r["sentences"])
                    )
    finally:
        it.close()
    return out


def count_rows(client, name: str) -> int:
    rows = client.query(name, filter="", output_fields=["count(*)"])
    return int(rows[0]["count(*)"]) if rows else 0


def create_collections(client, names: dict[str, str], lite: bool) -> None:
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

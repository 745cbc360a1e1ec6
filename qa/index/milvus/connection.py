"""Milvus locations and clients: parsing ``milvus:URI[?collection=NAME]``, connecting with one
clear line on failure, and Milvus Lite's in-process server, stopped at the last close so that
other processes can open the file."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from qa.errors import BadInputError, IndexProblem
from qa.index.milvus.layout import DEFAULT_COLLECTION, NAME_PATTERN


def parse_milvus_location(rest: str) -> tuple[str, str]:
    """``URI[?collection=NAME]`` -> (uri, collection). A URI that is not http(s) is a Milvus
    Lite file (made absolute)."""
    uri, _, query = rest.partition("?")
    collection = DEFAULT_COLLECTION
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        if key != "collection":
            raise BadInputError(f"milvus:{rest}: unknown option {key!r} (only ?collection=NAME)")
        collection = value
    if not NAME_PATTERN.match(collection):
        raise BadInputError(f"milvus:{rest}: a collection name is letters, digits and _, not starting with a digit")
    if not uri:
        raise BadInputError("milvus: needs a file (milvus:./lib.db) or a server (milvus:http://host:19530)")
    if not re.match(r"^(https?|tcp|unix)://", uri):
        if not uri.endswith(".db"):
            raise BadInputError(f"milvus:{uri}: a Milvus Lite file name ends in .db (milvus:./lib.db)")
        uri = str(Path(uri).expanduser().resolve())
    return uri, collection


def is_lite(uri: str) -> bool:
    return not re.match(r"^(https?|tcp|unix)://", uri)


#: Milvus Lite files this process has open -> open clients (Milvus Lite serves a file from a
#: thread of the process and holds its lock until that server stops: the last close stops it)
_LITE_USERS: dict[str, int] = {}


def disconnect(client, uri: str) -> None:
    with contextlib.suppress(Exception):
        client.close()
    if is_lite(uri):
        _LITE_USERS[uri] = _LITE_USERS.get(uri, 1) - 1
        if _LITE_USERS[uri] <= 0:
            del _LITE_USERS[uri]
            with contextlib.suppress(Exception):
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(uri)


def connect(where, create: bool):
    """A ``MilvusClient`` (close it with ``disconnect``); unreachable servers and unusable
    files become one clear line."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise IndexProblem("the Milvus backend needs pymilvus and milvus-lite: pip install 'citeqa[milvus]'") from None
    uri = where.uri
    if is_lite(uri):
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
        if is_lite(uri):
            _LITE_USERS[uri] = _LITE_USERS.get(uri, 0) + 1
        return client
    except Exception as e:  # pymilvus raises MilvusException, grpc errors, OSError...
        if is_lite(uri) and "Open local milvus failed" in str(e):
            raise IndexProblem(
                f"cannot open {where.text}: Milvus Lite lets one process at a time use a database, and another "
                "one (or a read-only folder) stands in the way; try again when it has finished, or serve the "
                "database to many processes with a Milvus server"
            ) from None
        raise IndexProblem(f"cannot reach Milvus at {uri} ({reason(e)}); start it, or check the address") from None


def _quiet() -> None:
    """pymilvus logs failures (with tracebacks) and notices itself; citeqa says what matters once."""
    import logging

    for name in ("pymilvus", "milvus_lite", "grpc"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def load_collections(client, names: dict[str, str]) -> None:
    """Load the collections for search and query (Milvus keeps released ones on disk only)."""
    for name in names.values():
        if client.has_collection(name) and str(client.get_load_state(name).get("state")) != "Loaded":
            client.load_collection(name)


def reason(e: BaseException) -> str:
    text = str(getattr(e, "message", None) or e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]

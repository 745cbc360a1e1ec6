"""The index: one interface (``protocol.IndexBackend``), two backends.

* a folder (the default): ``qa.index.local`` reads it, ``qa.index.writer`` and
  ``qa.index.compaction`` write it, ``qa.index.check`` checks it; its files are
  described in ``qa.index.layout``;
* ``milvus:URI[?collection=NAME]``: a Milvus Lite file (``milvus:./lib.db``) or a Milvus
  server (``milvus:http://host:19530``), in ``qa.index.milvus``.

``open_index``, ``update_index`` and ``check_index`` take either form of location.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from qa.index.layout import rebuild_hint
from qa.index.protocol import DocumentInfo, IndexBackend, IndexStats, Sentence, UpdateReport

__all__ = [
    "DocumentInfo",
    "IndexBackend",
    "IndexStats",
    "Location",
    "Sentence",
    "UpdateReport",
    "check_index",
    "open_index",
    "parse_location",
    "rebuild_hint",
    "update_index",
]

#: ``--index`` values with this prefix name a Milvus index
MILVUS_PREFIX = "milvus:"


@dataclass(frozen=True)
class Location:
    """Where an index lives: a folder (``path``), or a Milvus ``uri`` and ``collection``."""

    text: str
    path: Path | None = None
    uri: str | None = None
    collection: str | None = None

    @property
    def is_milvus(self) -> bool:
        return self.uri is not None


def is_milvus(location: str | os.PathLike[str] | Location) -> bool:
    if isinstance(location, Location):
        return location.is_milvus
    return os.fspath(location).startswith(MILVUS_PREFIX)


def parse_location(location: str | os.PathLike[str] | Location) -> Location:
    """``milvus:URI[?collection=NAME]`` or a folder."""
    if isinstance(location, Location):
        return location
    text = os.fspath(location)
    if not text.startswith(MILVUS_PREFIX):
        return Location(text, path=Path(text))
    from qa.index.milvus import parse_milvus_location

    uri, collection = parse_milvus_location(text[len(MILVUS_PREFIX) :])
    return Location(text, uri=uri, collection=collection)


def open_index(location: str | os.PathLike[str] | Location) -> IndexBackend:
    """Open an index for reading (``qa.errors.IndexProblem`` says what is wrong, when it is)."""
    where = parse_location(location)
    if where.is_milvus:
        from qa.index.milvus import MilvusIndex

        return MilvusIndex.open(where)
    from qa.index.local import LocalIndex

    return LocalIndex.open(where.path)


def update_index(
    location: str | os.PathLike[str] | Location,
    documents: Iterable,
    load_encoder: Callable,
    **options,
) -> UpdateReport:
    """Make the index hold exactly ``documents``, embedding only what changed (by content
    hash); see ``qa.index.writer.update_local`` for the options."""
    where = parse_location(location)
    if where.is_milvus:
        from qa.index.milvus import update_milvus

        return update_milvus(where, documents, load_encoder, **options)
    from qa.index.writer import update_local

    return update_local(where.path, documents, load_encoder, **options)


def check_index(location: str | os.PathLike[str] | Location):
    """Check an index without changing it (``qa.index.check.CheckReport``)."""
    where = parse_location(location)
    if where.is_milvus:
        from qa.index.milvus import check_milvus

        return check_milvus(where)
    from qa.index.check import check_folder

    return check_folder(where.path)

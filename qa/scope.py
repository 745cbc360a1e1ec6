"""Scoping a question to some documents (``qa ask --doc``, ``Assistant.ask(..., docs=[...])``).

A scope entry is a document id (``notes/minutes.txt``), a folder prefix of ids
(``notes/2024``: the documents under it), or a path on disk to a file or folder
that was indexed (matched against the paths the index stores).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from qa.errors import BadInputError


def _under(value: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return value == prefix or value.startswith(prefix + "/")


def _resolved(path: str) -> str:
    return Path(path).expanduser().resolve().as_posix()


def scoped_docs(documents: Iterable, scope: Iterable[str]) -> set[str]:
    """The ids of ``documents`` (``DocumentInfo``: id, path) that ``scope`` names; raises
    ``BadInputError`` for an entry that names none of them."""
    documents = list(documents)
    chosen: set[str] = set()
    for entry in scope:
        entry = str(entry)
        if not entry.strip():
            raise BadInputError("--doc needs a document id, a folder prefix of ids, or a path")
        on_disk = _resolved(entry) if os.path.exists(entry) else None
        found = {
            d.id
            for d in documents
            if _under(d.id, entry) or (on_disk is not None and _under(_resolved(d.path), on_disk))
        }
        if not found:
            raise BadInputError(
                f"--doc {entry}: no indexed document has that id, folder or path "
                "(document ids are shown in citations; qa index --list shows your library's folders)"
            )
        chosen |= found
    return chosen

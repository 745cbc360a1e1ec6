"""The personal library, and which index a command answers from.

``qa index PATH`` without ``--index`` adds PATH (a folder or a file) to the
personal library: one index in the user data directory (``qa.defaults.library_dir``)
that remembers its *roots*. Each root's documents have ids prefixed with the
root's name (``notes/2024/minutes.txt``), so that roots never collide.
Re-indexing a root syncs that root only (new, changed and removed documents under
it); the other roots' documents are kept as they are, even when their folders are
gone. Only ``qa index --remove PATH`` takes a root, and its documents, out.

The roots are stored in the index's manifest (``"library": {"roots": [...]}``),
so they are committed with the documents in the same atomic write.

Commands answer from ``--index DIR`` when given, from the bundled seeds demo with
``--index seeds``, and otherwise from the library when it has a root, else from
the seeds (``choose_index``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.defaults import SEEDS_INDEX_NAME, library_dir
from qa.documents import Document, ReadReport
from qa.errors import BadInputError, IndexProblem

LIBRARY_KEY = "library"


@dataclass(frozen=True)
class Root:
    """A folder or file the user added, and the id prefix of its documents."""

    path: str  # absolute
    name: str

    def holds(self, doc_id: str) -> bool:
        return doc_id == self.name or doc_id.startswith(self.name + "/")

    def contains(self, path: Path) -> bool:
        return path == Path(self.path) or Path(self.path) in path.parents


@dataclass(frozen=True)
class IndexChoice:
    """The index a command answers from, and how to name it to the user."""

    path: Path | str | None  # None: the seeds demo (built on first use); str: a milvus: location
    label: str
    kind: str  # "library", "seeds", "folder" or "milvus"


def exists(index_dir: Path | None = None) -> bool:
    return ((index_dir or library_dir()) / "manifest.json").exists()


def roots(index_dir: Path | None = None) -> list[Root]:
    """The library's roots (none when there is no library yet)."""
    try:
        manifest = json.loads(((index_dir or library_dir()) / "manifest.json").read_text(encoding="utf-8"))
        found = manifest.get(LIBRARY_KEY, {}).get("roots", [])
        return [Root(str(r["path"]), str(r["name"])) for r in found]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        raise IndexProblem(
            f"the library's manifest at {index_dir or library_dir()} is damaged; check it with: "
            f"qa index --check {index_dir or library_dir()}"
        ) from None


def choose_index(index: Path | str | None) -> IndexChoice:
    """``--index DIR`` as given, ``--index seeds`` the demo, none: the library if there is one, else the demo."""
    from qa.index import is_milvus

    if index is not None and str(index) == SEEDS_INDEX_NAME:
        return IndexChoice(None, "the bundled seeds demo", "seeds")
    if index is not None and is_milvus(index):
        return IndexChoice(str(index), f"the Milvus index {index}", "milvus")
    if index is not None:
        return IndexChoice(Path(index), f"the index at {index}", "folder")
    found = roots() if exists() else []
    if found:  # (a library whose every folder was removed is no library: the demo answers again)
        names = ", ".join(r.path for r in found[:3]) + (", ..." if len(found) > 3 else "")
        return IndexChoice(library_dir(), f"your library ({names})", "library")
    return IndexChoice(None, "the bundled seeds demo (index your own documents with: qa index FOLDER)", "seeds")


@contextmanager
def _roots_lock(index_dir: Path, wait: float) -> Iterator[None]:
    """Held while the roots are read and the update that rewrites them is written, so that two
    ``qa index`` runs at once on the library both keep their roots (the index's own writer lock
    comes after the roots are read)."""
    import sys

    from qa.index.layout import write_lock

    with write_lock(index_dir.parent, wait, lambda msg: print(msg, file=sys.stderr)):
        yield


def _new_root(path: Path, existing: list[Root]) -> Root:
    taken = {r.name for r in existing}
    base = path.name or "root"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return Root(str(path), name)


def _prefixed(docs, root_path: Path, prefix: str):
    """The documents read under ``root_path`` with ids under ``prefix``."""
    single = root_path.is_file()
    for doc in docs:
        if single and doc.format != "jsonl":
            yield _with_id(doc, prefix)
        else:
            yield _with_id(doc, f"{prefix}/{doc.id}")


def _with_id(doc: Document, doc_id: str) -> Document:
    from dataclasses import replace

    return replace(doc, id=doc_id)


def add(
    path: str | os.PathLike[str],
    *,
    warn: Callable[[str], None],
    progress=None,
    lock_wait: float = 600.0,
    formats: dict[str, str] | None = None,
    index_dir: Path | None = None,
):
    """Add ``path`` to the library, or sync it when it is a root already (or under one).
    Returns ``(UpdateReport, ReadReport, Root)``: the root the documents are under."""
    from qa.indexing import readable_documents, update_with

    index_dir = index_dir or library_dir()
    target = Path(path).expanduser().resolve()
    if not target.exists():
        raise BadInputError(f"{path}: no such file or folder")
    with _roots_lock(index_dir, lock_wait):
        current = roots(index_dir)
        inside = next((r for r in current if r.contains(target)), None)
        if inside is not None:  # a root, or a folder under one: sync that part of it
            rel = target.relative_to(inside.path).as_posix()
            prefix = inside.name if rel == "." else f"{inside.name}/{rel}"
            scope, new_roots = Root(str(target), prefix), current
        else:
            absorbed = [r for r in current if target in Path(r.path).parents]
            kept = [r for r in current if r not in absorbed]
            scope = _new_root(target, kept)
            new_roots = kept + [scope]

        def keep(doc_id: str) -> bool:
            return not scope.holds(doc_id) and not any(r.holds(doc_id) for r in current if r not in new_roots)

        read = ReadReport()
        docs = _prefixed(readable_documents([target], warn, read, formats), target, scope.name)
        report = update_with(
            index_dir,
            docs,
            keep=keep,
            extra={LIBRARY_KEY: {"roots": [asdict(r) for r in new_roots]}},
            progress=progress,
            lock_wait=lock_wait,
        )
    return report, read, scope


def remove(path: str | os.PathLike[str], *, lock_wait: float = 600.0, index_dir: Path | None = None):
    """Take the root at ``path`` (and its documents) out of the library. Returns ``(UpdateReport, Root)``."""
    from qa.indexing import update_with

    index_dir = index_dir or library_dir()
    target = Path(path).expanduser().resolve()
    with _roots_lock(index_dir, lock_wait):
        current = roots(index_dir)
        root = next((r for r in current if Path(r.path) == target or r.name == str(path)), None)
        if root is None:
            listed = ", ".join(r.path for r in current) or "none yet"
            raise BadInputError(f"{path} is not a root of your library (roots: {listed}); see: qa index --list")
        left = [r for r in current if r != root]
        report = update_with(
            index_dir,
            iter(()),
            keep=lambda doc_id: not root.holds(doc_id),
            extra={LIBRARY_KEY: {"roots": [asdict(r) for r in left]}},
            lock_wait=lock_wait,
        )
    return report, root


def counts(index_dir: Path | None = None) -> dict[str, tuple[int, int]]:
    """``{root name: (documents, sentences)}`` of the library."""
    index_dir = index_dir or library_dir()
    return counts_of(roots(index_dir), index_dir)


def counts_of(scopes: list[Root], index_dir: Path | None = None) -> dict[str, tuple[int, int]]:
    """``{scope name: (documents, sentences)}``: the library's documents under each scope (a root, or a
    folder under one as ``add`` returns it). A document is counted under the first scope holding it."""
    from qa.index import open_index

    index_dir = index_dir or library_dir()
    result = {r.name: (0, 0) for r in scopes}
    if not scopes:
        return result
    store = open_index(index_dir)
    try:
        per_doc = store.sentence_counts()
        for info in store.documents():
            for r in scopes:
                if r.holds(info.id):
                    d, s = result[r.name]
                    result[r.name] = (d + 1, s + per_doc.get(info.id, 0))
                    break
    finally:
        store.close()
    return result


def rebuild(*, warn: Callable[[str], None], progress=None, lock_wait: float = 600.0, index_dir: Path | None = None):
    """Build the library afresh from its roots (after damage, or an upgrade). A root that is gone
    is refused: nothing is dropped without being asked."""
    from itertools import chain

    from qa.indexing import readable_documents, update_with

    index_dir = index_dir or library_dir()
    with _roots_lock(index_dir, lock_wait):
        current = roots(index_dir)
        if not current:
            raise BadInputError("your library has no folders to rebuild from; add one with: qa index FOLDER")
        for r in current:
            if not Path(r.path).exists():
                raise BadInputError(f"{r.path} is gone; take it out first with: qa index --remove {r.path}")
        read = ReadReport()
        reports = [ReadReport() for _ in current]
        parts = [
            _prefixed(readable_documents([Path(r.path)], warn, part), Path(r.path), r.name)
            for r, part in zip(current, reports, strict=True)
        ]
        report = update_with(
            index_dir,
            _counted(chain.from_iterable(parts), read),
            rebuild=True,
            extra={LIBRARY_KEY: {"roots": [asdict(r) for r in current]}},
            progress=progress,
            lock_wait=lock_wait,
        )
        read.guessed = [p for part in reports for p in part.guessed]
    return report, read


def _counted(docs, report: ReadReport):
    for doc in docs:
        report.documents += 1
        yield doc


def refuse_empty(store, choice: IndexChoice) -> None:
    """Raise ``IndexProblem`` saying how to fill the index when ``store`` holds no sentences."""
    if len(store) > 0:
        return
    if choice.kind == "library":
        how = "qa index FOLDER (or ask the demo with --index seeds)"
    else:
        how = f"qa index PATH... --index {choice.path}"
    raise IndexProblem(f"{choice.label} holds no documents; fill it with: {how}")

"""Building and updating an index from files and folders (what ``qa index`` does)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from qa.documents import ReadReport, read_documents
from qa.errors import BadInputError
from qa.store import UpdateReport, update_index


def tqdm_progress(
    desc: str = "Embedding", enabled: bool | None = None
) -> Callable[[int], Callable[[int], None] | None]:
    """A ``progress`` factory for ``update_index`` that draws a tqdm bar on stderr."""

    def factory(total: int):
        on = sys.stderr.isatty() if enabled is None else enabled
        if not on:
            return None
        from tqdm import tqdm

        bar = tqdm(total=total, desc=desc, unit="sent", file=sys.stderr, leave=False)

        def step(n: int) -> None:
            bar.update(n)
            if bar.n >= total:
                bar.close()

        return step

    return factory


def index_paths(
    paths: Iterable[str | os.PathLike[str]],
    index_dir: str | os.PathLike[str],
    *,
    rebuild: bool = False,
    warn: Callable[[str], None] = lambda msg: print(f"warning: {msg}", file=sys.stderr),
    progress: Callable[[int], Callable[[int], None] | None] | None = None,
    encoder_backend: str = "torch",
    extra: dict | None = None,
    lock_wait: float = 600.0,
) -> tuple[UpdateReport, ReadReport]:
    """Index every readable document under ``paths`` into ``index_dir``.

    The index ends up holding exactly these documents: new and changed ones are
    embedded, unchanged ones are kept as they are, and missing ones are dropped.
    """
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.exists():
            raise BadInputError(f"{p}: no such file or folder")
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise BadInputError(f"--index {index_dir} is a file, not a folder")
    read_report = ReadReport()
    docs = read_documents(paths, warn=warn, report=read_report)

    def load_encoder():
        from embeddings import load_encoder

        return load_encoder(encoder_backend)

    report = update_index(
        index_dir,
        docs,
        load_encoder,
        rebuild=rebuild,
        progress=progress or tqdm_progress(),
        notify=lambda msg: print(msg, file=sys.stderr),
        extra=extra,
        lock_wait=lock_wait,
    )
    return report, read_report

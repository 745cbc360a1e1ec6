"""Building and updating an index from files and folders (what ``qa index`` does)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from qa.documents import Document, ReadReport, read_documents, unknown_summary
from qa.errors import BadInputError
from qa.index import UpdateReport, is_milvus, update_index
from qa.wording import counted


def progress_lines(enabled: bool | None = None) -> Callable[[int], Callable[[int], None] | None]:
    """A ``progress`` factory for ``update_index``: a tqdm bar on a terminal, a line every few seconds
    on stderr otherwise (``qa.progress``); ``enabled=False``: nothing."""

    def factory(total: int):
        if enabled is False:
            return None
        from qa.progress import Progress

        progress = Progress(
            total, what="sentences indexed", desc="Embedding", unit="sent", leave=False, enabled=enabled is not False
        )

        def step(n: int) -> None:
            progress.update(n)
            if progress.n >= total:
                progress.close()

        return step

    return factory


def readable_documents(
    paths: list[Path],
    warn: Callable[[str], None],
    report: ReadReport,
    formats: dict[str, str] | None = None,
) -> Iterator[Document]:
    """The documents under ``paths``, read as they are consumed. Raises ``BadInputError`` now
    when a path is missing, and at the end of the documents (so that nothing is written) when
    there is none, saying what was skipped and how to include it."""
    for p in paths:
        if not p.exists():
            raise BadInputError(f"{p}: no such file or folder")
    return _at_least_one(read_documents(paths, warn=warn, report=report, formats=formats), paths, report)


def _at_least_one(docs: Iterator[Document], paths: list[Path], report: ReadReport) -> Iterator[Document]:
    yield from docs
    if report.documents == 0:
        where = " ".join(map(str, paths))
        why = unknown_summary(report) or (f"{counted(report.skipped, 'file')} skipped (see warnings above)"
                                          if report.skipped else "no files found")
        raise BadInputError(f"no readable documents under {where}, nothing indexed: {why}")


def update_with(
    index_dir: Path | str,
    docs: Iterable[Document],
    *,
    rebuild: bool = False,
    keep: Callable[[str], bool] | None = None,
    extra: dict | None = None,
    progress: Callable[[int], Callable[[int], None] | None] | None = None,
    lock_wait: float = 600.0,
    encoder_backend: str = "torch",
) -> UpdateReport:
    """``update_index`` with the real encoder (loaded only if something needs embedding);
    ``index_dir`` is a folder or a ``milvus:`` location."""
    if not is_milvus(index_dir) and Path(index_dir).exists() and not Path(index_dir).is_dir():
        raise BadInputError(f"--index {index_dir} is a file, not a folder; give a folder for the index")

    def load_encoder(backend: str = encoder_backend):
        from embeddings import load_encoder

        return load_encoder(backend)

    return update_index(
        index_dir,
        docs,
        load_encoder,
        # a small change is embedded with the int8 ONNX export, which starts in well under a second
        load_quick_encoder=(lambda: load_encoder("onnx")) if encoder_backend == "torch" else None,
        rebuild=rebuild,
        keep=keep,
        progress=progress or progress_lines(),
        notify=lambda msg: print(msg, file=sys.stderr),
        extra=extra,
        lock_wait=lock_wait,
    )


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
    formats: dict[str, str] | None = None,
) -> tuple[UpdateReport, ReadReport]:
    """Index every readable document under ``paths`` into ``index_dir``.

    The index ends up holding exactly these documents: new and changed ones are
    embedded, unchanged ones are kept as they are, and missing ones are dropped.
    When no document is readable, nothing is written (``BadInputError``).
    """
    read_report = ReadReport()
    docs = readable_documents([Path(p) for p in paths], warn, read_report, formats)
    report = update_with(
        index_dir if is_milvus(index_dir) else Path(index_dir),
        docs,
        rebuild=rebuild,
        extra=extra,
        progress=progress,
        lock_wait=lock_wait,
        encoder_backend=encoder_backend,
    )
    return report, read_report

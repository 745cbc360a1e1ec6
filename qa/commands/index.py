"""qa index: build or update an index from files and folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "build or update an index from files and folders"
DESCRIPTION = """\
Index documents for questions. PATH is a file or a folder (walked recursively).
Reads .txt and .md (UTF-8), .html/.htm (article text), .pdf (with page numbers)
and .jsonl corpora (one {"id"|"_id", "title"?, "text"} object per line).

Re-running embeds only new or changed documents (by content hash) and drops
documents no longer found under the PATHs given. Unreadable files are skipped
with a warning each. Writes are atomic: an interrupted run leaves the previous
index intact.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="files or folders to index")
    parser.add_argument(
        "--index",
        metavar="DIR",
        type=Path,
        help="index directory to create or update (default: the default seeds index in the user cache)",
    )
    parser.add_argument("--rebuild", action="store_true", help="start from scratch, ignoring any existing index")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")


def run(args: argparse.Namespace) -> int:
    from qa.defaults import default_index_dir
    from qa.indexing import index_paths, tqdm_progress

    index_dir = args.index or default_index_dir()
    warnings = 0

    def warn(message: str) -> None:
        nonlocal warnings
        warnings += 1
        print(f"qa: warning: {message}", file=sys.stderr)

    report, read = index_paths(
        args.paths,
        index_dir,
        rebuild=args.rebuild,
        warn=warn,
        progress=tqdm_progress(enabled=False) if args.quiet else tqdm_progress(),
    )
    if not args.quiet:
        state = "updated" if report.committed else "already up to date"
        print(
            f"{index_dir}: {state}: {report.documents_total} documents, {report.sentences_total} sentences "
            f"({report.added} added, {report.changed} changed, {report.removed} removed, "
            f"{report.unchanged} unchanged; {report.sentences_embedded} sentences embedded)",
            file=sys.stderr,
        )
        if read.skipped or warnings:
            print(f"{warnings} warning(s): {read.skipped} file(s) skipped", file=sys.stderr)
    if report.documents_total == 0:
        print(f"qa: warning: no readable documents under {' '.join(map(str, args.paths))}", file=sys.stderr)
    return 0

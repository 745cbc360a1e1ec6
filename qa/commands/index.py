"""qa index: build or update an index from files and folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa.errors import BadInputError, IndexProblem

HELP = "build or update an index from files and folders"
DESCRIPTION = """\
Index documents for questions. PATH is a file or a folder (walked recursively).
Reads .txt and .md (UTF-8), .html/.htm (article text), .pdf (with page numbers)
and .jsonl corpora (one {"id"|"_id", "title"?, "text"} object per line).

Re-running embeds only new or changed documents (by content hash) and drops
documents no longer found under the PATHs given. Unreadable files are skipped
with a warning each. Writes are atomic: an interrupted run leaves the previous
index intact. A second writer on the same index waits for the first (--wait).

qa index --check DIR verifies an index (manifest, content hashes, sentence
spans, one vector per sentence) and prints what is wrong: exit 0 when sound,
3 when not.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", type=Path, help="files or folders to index (with --check: the index DIR)"
    )
    parser.add_argument(
        "--index",
        metavar="DIR",
        type=Path,
        help="index directory to create or update (default: the default seeds index in the user cache)",
    )
    parser.add_argument("--rebuild", action="store_true", help="start from scratch, ignoring any existing index")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    parser.add_argument(
        "--wait",
        metavar="SECONDS",
        type=float,
        default=600.0,
        help="how long to wait for another process writing the same index (default: 600)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify the index's integrity instead of indexing (qa index --check DIR): vectors match "
        "sentences, content hashes, manifest; exit 0 when sound, 3 when not",
    )


def run(args: argparse.Namespace) -> int:
    from qa.defaults import default_index_dir
    from qa.indexing import index_paths, tqdm_progress

    if args.check:
        return run_check(args)
    if not args.paths:
        raise BadInputError("give at least one PATH to index (or --check DIR to verify an index)")
    if args.wait < 0:
        raise BadInputError("--wait must be 0 or more seconds")
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
        lock_wait=args.wait,
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


def run_check(args: argparse.Namespace) -> int:
    """``qa index --check [DIR]``: list what is wrong with an index; exit 3 unless it is sound."""
    from qa.check import check_index, format_report
    from qa.defaults import default_index_dir
    from qa.store import rebuild_hint

    if len(args.paths) > 1 or (args.paths and args.index):
        raise BadInputError("--check takes one index: qa index --check DIR")
    index_dir = args.paths[0] if args.paths else (args.index or default_index_dir())
    report = check_index(index_dir)
    if report.sound:
        print(format_report(report))
        return 0
    for problem in report.problems:
        print(f"qa: problem: {problem}", file=sys.stderr)
    raise IndexProblem(f"{index_dir} failed the check ({len(report.problems)} problem(s)); {rebuild_hint(index_dir)}")

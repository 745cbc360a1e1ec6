"""qa index: add folders and files to your library, or build an index elsewhere."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa.commands.common import index_location, non_negative_float
from qa.errors import BadInputError, IndexProblem
from qa.wording import counted

HELP = "add folders and files to your library (or build an index with --index DIR)"
DESCRIPTION = """\
Index documents for questions. PATH is a file or a folder (walked recursively).
Reads .txt and .md (UTF-8), .html/.htm (article text), .pdf (with page numbers),
.jsonl corpora (one {"id"|"_id", "title"?, "text"} object per line), and files
without an extension that look like UTF-8 text. Other types are listed, not
read: --ext TYPE=FORMAT reads them (e.g. --ext log=txt, --ext README=txt).

Without --index, PATH is added to your library, kept in the user data folder;
re-running it on a folder already added syncs that folder (new, changed and
removed files) and leaves the library's other folders alone. --list shows the
library's folders, --remove PATH takes one out, --rebuild (no PATH) builds the
library afresh from its folders. With --index DIR, DIR holds exactly the
documents under the PATHs given.

Re-running embeds only new or changed documents (by content hash). Writes are
atomic, and a long run commits every 2,000 new sentences or so: an interrupted
run (Ctrl-C, a crash) keeps what it committed, and the next run embeds only the
rest (--rebuild commits once, at the end: interrupted, it leaves the previous
index). When stderr is not a terminal, progress is a line every 10 s. A second
writer on the same index waits for the first (--wait).

Malformed input (an unreadable file, a bad JSONL line) is skipped with a
warning naming it; the rest is indexed and the exit code is 2. When nothing
is readable, nothing is written (exit 2).

qa index --check [DIR] verifies an index: exit 0 when sound, 3 when not.
"""

FORMAT_HELP = "txt, md, html, pdf or jsonl"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        type=index_location,
        help="files or folders to index (with --check: the index DIR, or a milvus: location)",
    )
    parser.add_argument(
        "--index",
        metavar="DIR",
        type=index_location,
        help="build or update the index in DIR instead of your library (it then holds exactly the PATHs' "
        "documents); milvus:FILE.db or milvus:http://HOST:19530[?collection=NAME] writes to Milvus",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="start from scratch (without PATH: rebuild your library from its folders)",
    )
    parser.add_argument("--list", action="store_true", help="list your library's folders and their document counts")
    parser.add_argument("--remove", action="store_true", help="take the PATHs (library folders) out of your library")
    parser.add_argument(
        "--ext",
        metavar="TYPE=FORMAT",
        action="append",
        default=[],
        help=f"read files of TYPE (an extension, or the name of a file without one) as FORMAT ({FORMAT_HELP}); "
        "repeatable",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress (a bar, or lines when stderr is not a terminal) and no summary",
    )
    parser.add_argument(
        "--wait",
        metavar="SECONDS",
        type=non_negative_float,
        default=600.0,
        help="how long to wait for another process writing the same index (default: 600)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify the index's integrity instead of indexing (qa index --check [DIR], default: your library): "
        "vectors match sentences, content hashes, manifest; exit 0 when sound, 3 when not",
    )


def _formats(specs: list[str]) -> dict[str, str]:
    from qa.documents import FORMATS

    formats = {}
    for spec in specs:
        kind, _, fmt = spec.partition("=")
        fmt = fmt.lower().lstrip(".")
        if not kind.strip(". ") or fmt not in FORMATS:
            raise BadInputError(
                f"--ext {spec}: expected TYPE=FORMAT with FORMAT one of {FORMAT_HELP}, e.g. --ext log=txt"
            )
        formats[kind.strip().lower().lstrip(".")] = fmt
    return formats


class _Warnings:
    """Prints each skipped file or line, and counts them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, message: str) -> None:
        self.count += 1
        print(f"qa: warning: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from qa.defaults import SEEDS_INDEX_NAME

    if args.check:
        return run_check(args)
    if args.index is not None and str(args.index) == SEEDS_INDEX_NAME:
        raise BadInputError(
            "--index seeds is the bundled demo and is built from its own articles; "
            "add your documents to your library with: qa index PATH (or give another --index DIR)"
        )
    if args.list:
        return run_list(args)
    if args.remove:
        return run_remove(args)
    if not args.paths and not (args.rebuild and args.index is None):
        raise BadInputError("give at least one PATH to index (or --list, --remove PATH, --check [DIR])")
    formats = _formats(args.ext)
    warn = _Warnings()
    progress = _progress(args)
    if args.index is not None:
        from qa.indexing import index_paths

        report, read = index_paths(
            args.paths, args.index, rebuild=args.rebuild, warn=warn, progress=progress, lock_wait=args.wait,
            formats=formats,
        )
        _summary(args, f"{args.index}", report, read)
    else:
        from qa import library
        from qa.defaults import library_dir

        if not args.paths:
            report, read = library.rebuild(warn=warn, progress=progress, lock_wait=args.wait)
            _summary(args, f"your library ({library_dir()})", report, read)
        for path in args.paths:
            report, read, root = library.add(path, warn=warn, progress=progress, lock_wait=args.wait, formats=formats)
            label = root.name if Path(root.path).is_file() else f"{root.name}/"
            _summary(args, f"your library, {root.path} (as {label})", report, read, part=root)
    if warn.count:
        raise BadInputError(
            f"{counted(warn.count, 'file or line', 'files or lines')} skipped (see the warnings above); "
            "the rest was indexed"
        )
    return 0


def _progress(args: argparse.Namespace):
    from qa.indexing import progress_lines

    return progress_lines(enabled=False if args.quiet else None)


def _summary(args: argparse.Namespace, where: str, report, read, part=None) -> None:
    """What the run did. ``part``: the library folder (or file) indexed, whose own counts are said, then the
    library's totals, labelled as such; without it the index holds exactly what was indexed."""
    from qa.documents import encoding_summary, unknown_summary

    for note in (unknown_summary(read), encoding_summary(read)):
        if note:
            print(f"qa: note: {note}", file=sys.stderr)
    if args.quiet:
        return
    state = "updated" if report.committed else "already up to date"
    changes = (
        f"({report.added} added, {report.changed} changed, {report.removed} removed, "
        f"{report.unchanged} unchanged; {counted(report.sentences_embedded, 'sentence')} embedded)"
    )
    totals = f"{counted(report.documents_total, 'document')}, {counted(report.sentences_total, 'sentence')}"
    if part is None:
        print(f"{where}: {state}: {totals} {changes}", file=sys.stderr)
        return
    from qa import library

    documents, sentences = library.counts_of([part]).get(part.name, (0, 0))
    what = "this file" if Path(part.path).is_file() else "this folder"
    print(
        f"{where}: {state}: {counted(documents, 'document')}, {counted(sentences, 'sentence')} in {what} "
        f"{changes}; the whole library: {totals}",
        file=sys.stderr,
    )


def run_list(args: argparse.Namespace) -> int:
    from qa import library
    from qa.defaults import library_dir

    if args.paths or args.index is not None:
        raise BadInputError("--list takes no PATH and no --index: it lists your library (qa index --list)")
    found = library.roots()
    if not found:
        print("Your library is empty. Add a folder with: qa index FOLDER (questions meanwhile go to the seeds demo)")
        return 0
    counts = library.counts()
    print(f"Your library ({library_dir()}):")
    for r in found:
        docs, sentences = counts.get(r.name, (0, 0))
        gone = "" if Path(r.path).exists() else "  (folder not found: kept; qa index --remove it to drop it)"
        print(f"  {r.path}  as {r.name}/: {counted(docs, 'document')}, {counted(sentences, 'sentence')}{gone}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from qa import library

    if not args.paths or args.index is not None:
        raise BadInputError("give the library folder(s) to take out: qa index --remove PATH (see qa index --list)")
    for path in args.paths:
        report, root = library.remove(path, lock_wait=args.wait)
        if not args.quiet:
            taken = counted(report.removed, "document")
            print(f"removed {root.path} from your library: {taken} taken out", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    """``qa index --check [DIR]``: list what is wrong with an index; exit 3 unless it is sound."""
    from qa import library
    from qa.defaults import default_index_dir, library_dir
    from qa.index import check_index, rebuild_hint
    from qa.index.check import format_report

    if len(args.paths) > 1 or (args.paths and args.index):
        raise BadInputError("--check takes one index: qa index --check DIR")
    index_dir = args.paths[0] if args.paths else args.index
    if index_dir is None:
        index_dir = library_dir() if library.exists() else default_index_dir()
    elif str(index_dir) == "seeds":
        index_dir = default_index_dir()
    report = check_index(index_dir)
    if report.sound:
        print(format_report(report))
        return 0
    for problem in report.problems:
        print(f"qa: problem: {problem}", file=sys.stderr)
    found = counted(len(report.problems), "problem")
    raise IndexProblem(f"{index_dir} failed the check ({found}); {rebuild_hint(index_dir)}")

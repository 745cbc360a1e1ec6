"""qa chat: the terminal chat app (Textual)."""

from __future__ import annotations

import argparse
import sys

from qa.commands.common import add_index_argument
from qa.errors import BadInputError

HELP = "chat with your documents in a terminal app (the default in a terminal)"
DESCRIPTION = """\
Open the chat app: ask questions, read answers quoted from the documents with
numbered citations, show a citation in context (Escape, then 1-9) or its whole
document (ctrl+o), and ask follow-up questions ("What did he say?"); typing
always goes to the question. ctrl+n starts a new topic, ctrl+p opens the
command palette (ask about one document, add a folder to your library, open
another index, copy, export as Markdown). --doc keeps the whole conversation
inside one document. Runs a bare `qa` in a terminal too.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_index_argument(parser)
    parser.add_argument(
        "--doc",
        metavar="ID_OR_PATH",
        action="append",
        help="keep the whole conversation inside this document: a document id (as citations show it), a folder "
        "prefix of ids, or an indexed file or folder; repeatable (in the app: ctrl+p, ask about all documents)",
    )


def check_scope(index, docs: list[str]) -> None:
    """Refuse a --doc that names no document of the index, before the app opens."""
    from qa import Assistant

    with Assistant.open(index) as assistant:
        assistant.outside(docs)


def run(args: argparse.Namespace) -> int:
    if args.doc:
        check_scope(args.index, args.doc)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadInputError("qa chat needs a terminal; for scripts use qa ask or qa batch")
    from qa.tui.app import run as run_app

    return run_app(args.index, docs=args.doc)

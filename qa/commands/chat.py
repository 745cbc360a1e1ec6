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
another index, copy, export as Markdown). Runs a bare `qa` in a terminal too.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_index_argument(parser)


def run(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadInputError("qa chat needs a terminal; for scripts use qa ask or qa batch")
    from qa.tui.app import run as run_app

    return run_app(args.index)

"""The ``qa`` command line: a thin layer over ``qa.Assistant`` and ``qa.indexing``.

Each subcommand lives in its own module (``qa/commands/<name>.py``) providing
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``. Modules import
heavy libraries inside ``run`` so that ``qa --help`` and ``qa ask`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys

from qa.errors import EXIT_FAILURE, EXIT_INDEX, EXIT_INTERRUPTED, CiteQAError

#: subcommand name -> module under qa.commands
COMMANDS = {
    "index": "index",
    "ask": "ask",
    "batch": "batch",
    "eval": "eval",
    "chat": "chat",
}

DESCRIPTION = """\
Ask questions about your documents and get extractive answers: words taken
verbatim from the sources, each with a citation to the sentence it came from.
Without --index, commands use your library (filled by qa index FOLDER), or the
demo index of the bundled seed articles before there is one (--index seeds).
Malformed input is skipped with a warning naming it, the rest is done, exit 2.

exit codes: 0 ok, 2 bad input or usage, 3 index problem (missing, empty,
corrupt, locked or incompatible), 1 unexpected error, 130 interrupted.
"""

EPILOG = """\
examples:
  qa ask "Who is the deputy mayor of Mariupol?" --index seeds
  qa index ~/notes                       # add a folder to your library
  qa ask "When was the contract signed?" --json
  qa ask "Who signed it?" --doc notes/contracts
  qa index --list
  qa batch questions.jsonl -o answers.jsonl
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from qa import __version__

    parser.add_argument("--version", action="version", version=f"citeqa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"qa.commands.{module_name}")
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        if "chat" in COMMANDS and sys.stdin.isatty() and sys.stdout.isatty():
            return main(["chat"])
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except CiteQAError as e:
        print(f"qa: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except sqlite3.DatabaseError as e:  # damage in the index database found while reading it
        where = getattr(args, "index", None) or "DIR"
        print(
            f"qa: error: the index database is damaged ({e}); check it with: qa index --check {where}, "
            f"then rebuild it with: qa index PATH... --index {where} --rebuild",
            file=sys.stderr,
        )
        return EXIT_INDEX
    except BrokenPipeError:
        # the reader went away (e.g. `qa batch | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # a bug: one line, the traceback only on request
        if os.environ.get("QA_DEBUG"):
            raise
        print(
            f"qa: internal error: {type(e).__name__}: {e} (set QA_DEBUG=1 for a traceback and please report it)",
            file=sys.stderr,
        )
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())

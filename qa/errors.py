"""Errors the CLI turns into one line and an exit code (documented in the README)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # unexpected failure (a bug: please report it)
EXIT_BAD_INPUT = 2  # bad arguments, unreadable or malformed input
EXIT_INDEX = 3  # missing, corrupt, locked or incompatible index
EXIT_INTERRUPTED = 130


class CiteQAError(Exception):
    """An error with a message fit for the user and an exit code."""

    exit_code = EXIT_FAILURE


class BadInputError(CiteQAError):
    exit_code = EXIT_BAD_INPUT


class IndexProblem(CiteQAError):
    """The index is missing, corrupt, locked or built with another model or format."""

    exit_code = EXIT_INDEX

"""Arguments and output helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa.defaults import DEFAULT_THRESHOLD, DEFAULT_TOP_K


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def probability(text: str) -> float:
    """``--threshold``: a number from 0 to 1 (a confidence)."""
    value = finite_float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {text!r}")
    return value


def index_location(text: str) -> Path | str:
    """``--index``: a folder, or ``milvus:URI[?collection=NAME]`` (kept as text)."""
    from qa.index import MILVUS_PREFIX

    return text if text.startswith(MILVUS_PREFIX) else Path(text)


def add_index_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        metavar="DIR",
        type=index_location,
        help="index directory (default: your library, filled by qa index FOLDER; until then, and with "
        "--index seeds, the demo index of the bundled seed articles); or milvus:FILE.db (Milvus Lite) or "
        "milvus:http://HOST:19530 (a Milvus server), with ?collection=NAME (default citeqa)",
    )


def add_answer_arguments(parser: argparse.ArgumentParser) -> None:
    add_index_argument(parser)
    parser.add_argument(
        "--doc",
        metavar="ID_OR_PATH",
        action="append",
        help="answer only from this document: a document id (as citations show it), a folder prefix of ids "
        "(the documents under it), or an indexed file or folder; repeatable",
    )
    parser.add_argument(
        "--top-k",
        metavar="K",
        type=positive_int,
        default=DEFAULT_TOP_K,
        help=f"number of cited sentences to return (default: {DEFAULT_TOP_K})",
    )
    parser.add_argument(
        "--threshold",
        metavar="T",
        type=probability,
        default=DEFAULT_THRESHOLD,
        help=f"abstain when the confidence (0 to 1) is below T (default: {DEFAULT_THRESHOLD})",
    )


def add_retriever_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--retriever",
        metavar="NAME",
        choices=["dense", "bm25", "hybrid", "rerank"],
        default="rerank",
        help="how sentences are ranked: dense (baseline), bm25, hybrid (BM25 + dense), "
        "rerank (hybrid + MaxSim; the default)",
    )


def say_source(args: argparse.Namespace) -> None:
    """Say on stderr which index the command answers from."""
    from qa.library import choose_index

    print(f"qa: answering from {choose_index(args.index).label}", file=sys.stderr)


def open_assistant(args: argparse.Namespace, **options):
    """The assistant over the index the arguments choose; an empty index is refused with how to fill it."""
    from qa import Assistant
    from qa.library import choose_index, refuse_empty

    choice = choose_index(args.index)
    kwargs = {"top_k": args.top_k, "threshold": args.threshold, "retriever": getattr(args, "retriever", "rerank")}
    assistant = Assistant.open(args.index, **{**kwargs, **options})
    try:
        refuse_empty(assistant.store, choice)
        if args.doc:
            assistant.outside(args.doc)  # an entry naming no document: said now, before any work
            assistant.scope = list(args.doc)
    except BaseException:
        assistant.close()
        raise
    return assistant


def warn(message: str) -> None:
    """A warning on stderr (above a progress bar that is drawn)."""
    from qa.progress import say

    say(f"qa: warning: {message}")

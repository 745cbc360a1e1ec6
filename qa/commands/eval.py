"""qa eval: measure retrieval, answers and abstention on a question set."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa.commands.common import add_answer_arguments, positive_int, warn
from qa.errors import BadInputError
from qa.wording import counted

HELP = "measure retrieval, answers and abstention on a question set"
DESCRIPTION = """\
Ask every question of QUESTIONS through the normal pipeline and print:
retrieval measures with trec_eval semantics (R@1/3/5/10 = share of questions
with a relevant sentence in the top k, MRR@10, nDCG@10, MAP over the top
--depth sentences), answer accuracy (a gold answer contained in the answer),
SQuAD exact match and F1, abstention on unanswerable and answerable questions,
and the same by question kind. A sentence is relevant when its span overlaps a
gold quote in the same document, or, for evidence without a quote, when it
belongs to a gold document.

QUESTIONS is JSONL, one question or conversation a line:
  {"id", "question", "answers": [...], "evidence": [{"doc", "quote"?}], "kind"}
  {"id", "doc"?, "turns": [{"question", "answers": [...]}, ...]}
A conversation is scored turn by turn; with "doc" it is asked inside that one
document (QuAC's format), and the summary gives first-turn and follow-up F1,
whether the top citation overlaps a reference in the document, and abstention
on turns without answers (unanswerable). The format, field by field:
docs/eval-format.md in the citeqa source.
--example runs a small question set shipped with citeqa, about the bundled seed
articles, on the seeds demo; the file is a template for your own:
  %(example)s
With --qrels, QUESTIONS is a TREC queries file (QID<TAB>TEXT, or JSONL with
id/_id and question/text) and the qrels give document-level evidence.

Malformed lines and questions whose evidence is not in the index are skipped
with a warning, and the exit code is then 2.
"""

EPILOG = """\
examples:
  qa eval --example                                    # the shipped example, on the seeds demo
  qa eval questions.jsonl                              # on your library (or the seeds demo before there is one)
  qa eval questions.jsonl --index seeds                # on the seeds demo, library or not
  qa eval questions.jsonl --corpus corpus.jsonl        # index the corpus once (cached), then evaluate
  qa eval questions.jsonl --index DIR --run dense.trec --report misses.txt
  qa eval questions.jsonl --index DIR --retriever hybrid --compare dense.trec
  qa eval questions.jsonl --index DIR --exclude-gold   # abstention benchmark
  qa eval questions.jsonl --corpus corpus.jsonl --limit 1000   # a fixed sample: every k-th question
  qa eval conversations.jsonl --corpus corpus.jsonl    # conversations with a "doc": each asked inside it
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from qa.examples import SEEDS_QUESTIONS

    parser.epilog = EPILOG
    parser.description = DESCRIPTION.replace("%(example)s", str(SEEDS_QUESTIONS))
    parser.add_argument(
        "questions",
        nargs="?",
        metavar="QUESTIONS",
        help="question set (JSONL; docs/eval-format.md), or a queries file with --qrels",
    )
    parser.add_argument(
        "--example",
        action="store_true",
        help="evaluate the example question set shipped with citeqa, on the bundled seeds (--index seeds)",
    )
    add_answer_arguments(parser)
    parser.add_argument(
        "--corpus",
        metavar="PATH",
        type=Path,
        help="index PATH (a file or folder) into a cached index first and evaluate on it; re-runs reuse it",
    )
    parser.add_argument(
        "--reindex",
        action="store_true",
        help="with --corpus: rebuild the cached index from scratch (e.g. after an upgrade changed what is indexed)",
    )
    parser.add_argument(
        "--retriever",
        metavar="NAME",
        default=None,
        help="retriever to rank sentences with (default: the pipeline's own); see qa.retrieval.RETRIEVERS",
    )
    parser.add_argument(
        "--depth",
        metavar="N",
        type=positive_int,
        default=100,
        help="ranking depth for MAP/nDCG (asked separately; answers use the normal pipeline; default: 100)",
    )
    parser.add_argument(
        "--units",
        choices=("sentence", "doc"),
        default="sentence",
        help="rank sentences (default), or documents by their best sentence (a document with gold evidence is "
        "relevant; the run file then names documents, as TREC qrels do)",
    )
    parser.add_argument("--qrels", metavar="FILE", type=Path, help="TREC qrels (QID ITER DOCNO REL) for QUESTIONS")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument(
        "--report",
        metavar="FILE",
        type=Path,
        help="write a per-question report (ranks, answers, misses): JSONL if FILE ends in .jsonl, else text",
    )
    parser.add_argument("--run", metavar="FILE", type=Path, help="write the ranking as a TREC run file")
    parser.add_argument(
        "--compare",
        metavar="RUN",
        type=Path,
        help="compare with a TREC run file (e.g. an earlier --run) question by question, with paired tests",
    )
    parser.add_argument(
        "--exclude-gold",
        action="store_true",
        help="abstention benchmark: also ask each answerable question with its own gold documents "
        "excluded, and report how often it abstains, and how often its answer still holds a gold "
        "answer (found in another document)",
    )
    parser.add_argument(
        "--limit",
        metavar="N",
        type=positive_int,
        help="a fixed sample: at most N questions (and N conversations), an even stride through the file",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _open(args: argparse.Namespace):
    from qa.commands.common import open_assistant
    from qa.retrieval import DEFAULT_RETRIEVER, RETRIEVERS

    if args.index is not None and args.corpus is not None:
        raise BadInputError("give --index or --corpus, not both")
    if args.retriever is not None and args.retriever not in RETRIEVERS:
        raise BadInputError(f"unknown retriever {args.retriever!r}; choose from {', '.join(sorted(RETRIEVERS))}")
    if args.corpus is not None:
        from qa.evaluation.corpus import ensure_corpus_index

        args.index = ensure_corpus_index(args.corpus, rebuild=args.reindex)
    elif args.reindex:
        raise BadInputError("--reindex goes with --corpus")
    return open_assistant(args, retriever=args.retriever or DEFAULT_RETRIEVER)


def stride_sample(items: list, limit: int) -> list:
    """At most ``limit`` of ``items``: every k-th, from the first (the same sample on every run)."""
    if len(items) <= limit:
        return items
    return items[:: -(-len(items) // limit)]


def _example(args: argparse.Namespace) -> None:
    """``--example``: the shipped question set, on the seeds demo unless --index names another copy of it."""
    from qa.defaults import SEEDS_INDEX_NAME
    from qa.examples import SEEDS_QUESTIONS

    if args.example:
        if args.questions is not None or args.corpus is not None or args.qrels is not None:
            raise BadInputError(
                "--example is a question set of its own: give it without QUESTIONS, --corpus or --qrels"
            )
        args.questions = str(SEEDS_QUESTIONS)
        if args.index is None:
            args.index = Path(SEEDS_INDEX_NAME)
    elif args.questions is None:
        raise BadInputError("give a QUESTIONS file (its format: docs/eval-format.md), or try: qa eval --example")


def run(args: argparse.Namespace) -> int:
    from qa.evaluation import evaluate, load_question_set

    _example(args)
    from qa.evaluation.report import render_comparison, render_conversations, render_summary, write_report

    qset = load_question_set(args.questions, qrels=args.qrels)
    if args.limit:
        qset.questions = stride_sample(qset.questions, args.limit)
        qset.conversations = stride_sample(qset.conversations, args.limit)
    for note in qset.notes:
        warn(note)
    other_run = None
    if args.compare is not None:
        from qa.evaluation.trec import read_run

        other_run = read_run(args.compare)
    problems = list(qset.problems)
    progress = False if args.no_progress else None
    with _open(args) as assistant:
        from qa.commands.common import say_source

        say_source(args)
        retriever = getattr(assistant.retriever, "name", None) or args.retriever or "default"
        settings = {"questions": str(args.questions), "index": str(assistant.store.location), "retriever": retriever}
        ev = None
        if qset.questions:
            ev = evaluate(
                assistant,
                qset.questions,
                top_k=args.top_k,
                depth=args.depth,
                exclude_gold=args.exclude_gold,
                units=args.units,
                progress=progress,
                settings=settings,
            )
            problems += ev.problems
        conversations = None
        if qset.conversations:
            from qa.evaluation.conversations import evaluate_conversations

            conversations = evaluate_conversations(assistant, qset.conversations, problems)
    comparison = None
    if other_run is not None and ev is not None:
        from qa.evaluation.compare import compare_runs

        comparison = compare_runs(ev, other_run)
    if args.run is not None and ev is not None:
        from qa.evaluation.trec import write_run

        write_run(args.run, ev.run, tag=retriever)
    if args.report is not None:
        write_report(args.report, ev, conversations)
    for p in problems:
        warn(p)
    if args.json:
        out = {}
        if ev is not None:
            out.update(ev.summary())
        if conversations is not None:
            out["conversations"] = conversations["summary"]
        if comparison is not None:
            out["compare"] = {"run": str(args.compare), **comparison}
        if problems:
            out["problems"] = problems
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        parts = []
        if ev is not None:
            parts.append(render_summary(ev.summary(), f"qa eval {args.questions}"))
        if conversations is not None:
            parts.append(render_conversations(conversations))
        if comparison is not None:
            parts.append(render_comparison(comparison, str(args.compare)))
        print("\n\n".join(parts))
    sys.stdout.flush()
    if problems:
        skipped = counted(len(problems), "question or line", "questions or lines")
        raise BadInputError(f"{skipped} skipped (see warnings above)")
    return 0

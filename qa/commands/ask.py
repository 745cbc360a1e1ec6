"""qa ask: answer one question, with citations."""

from __future__ import annotations

import argparse
import json
import sys

from qa.commands.common import add_answer_arguments, add_retriever_argument, open_assistant, say_source, warn
from qa.layout import display_line
from qa.results import SENTENCE_ANSWER_NOTE

HELP = "answer one question, with citations"
DESCRIPTION = """\
Answer QUESTION from the index: the answer is a verbatim span of the best
supporting sentence, found by a reader trained on SQuAD (a yes/no question gets
the evidence sentence itself), followed by numbered citations (file or title, line, page
for PDFs). When nothing answers well enough (confidence below --threshold),
prints "No answer found in the indexed documents" and the closest sentences.
"""

NO_ANSWER = "No answer found in the indexed documents"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", metavar="QUESTION", help="the question, in plain English")
    add_answer_arguments(parser)
    add_retriever_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object in the batch format")


def _style(code: str, text: str, on: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if on else text


def _corroboration_lines(result) -> list[str]:
    """ "Supported by 2 sources [1] [3]", and any other answer other sources give."""
    groups = getattr(result, "corroboration", None) or []
    number = {(c.doc, c.start): n for n, c in enumerate(result.citations, 1)}

    def refs(citations) -> str:
        return " ".join(f"[{number[(c.doc, c.start)]}]" for c in citations if (c.doc, c.start) in number)

    lines = []
    if groups and len(groups[0].citations) > 1:
        lines.append(f"  Supported by {len(groups[0].citations)} sources {refs(groups[0].citations)}")
    for g in groups[1:]:
        lines.append(f"  Another source says: {display_line(g.text)} {refs(g.citations)}")
    return lines


def _indented(text: str, indent: str) -> str:
    """A sentence that spans a line break (wrapped prose) goes on under its first line."""
    return text.replace("\n", "\n" + indent)


def render(result, color: bool) -> str:
    """The human-readable answer: span highlighted in its sentence, then sources. The answer is on one
    line even when it spans a wrapped line's break, a hyphenated word whole (``--json`` keeps the exact text)."""
    lines = []
    if getattr(result, "understood_as", None):
        lines.append(_style("2", f'understood as: "{result.understood_as}"', color))
    if result.answer is None:
        lines.append(_style("1", NO_ANSWER + ".", color))
        if result.citations:
            lines.append("")
            lines.append("Closest matches:")
    else:
        a = result.answer
        c = a.citation
        lines.append(_style("1", display_line(a.text), color) + f"  [1]  (confidence {result.confidence:.2f})")
        if (a.start, a.end) != (c.start, c.end):
            s, e = a.start - c.start, a.end - c.start
            lines.append(_indented("  " + c.text[:s] + _style("1;33", c.text[s:e], color) + c.text[e:], "  "))
        if a.kind == "sentence":
            lines.append(_style("2", f"  ({SENTENCE_ANSWER_NOTE})", color))
        lines += _corroboration_lines(result)
        lines.append("")
        lines.append("Sources:")
    for n, c in enumerate(result.citations, 1):
        lines.append(f" [{n}] {c.label()}  (score {c.score:.2f})")
        lines.append(_indented(f"     {_style('2', c.text, color) if n > 1 else c.text}", "     "))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with open_assistant(args) as assistant:
        question = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in args.question)
        result = assistant.ask(question)  # (lone surrogates: undecodable argv bytes, shown as U+FFFD)
        if not assistant.scope and result.answer is not None:  # "What did he say?" with nothing said before
            from qa.conversation import checked_alone

            result = checked_alone(result)
    say_source(args)
    for note in result.notes:
        warn(note)
    if args.json:
        print(json.dumps(result.to_json("1"), ensure_ascii=False))
    else:
        print(render(result, color=sys.stdout.isatty()))
    return 0

"""qa batch: answer many questions, JSONL in, JSONL out."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from qa.commands.common import add_answer_arguments, add_retriever_argument, open_assistant, say_source, warn
from qa.errors import BadInputError
from qa.jsonl import BadLine, parse_object

HELP = "answer many questions: JSONL or plain lines in, JSONL out"
DESCRIPTION = """\
Answer each question of INPUT and write one JSON object per question, in input
order, streamed as answers come:

  {"id": ..., "question": ..., "answer": {"text", "doc", "start", "end"} | null,
   "confidence": ..., "citations": [{"doc", "start", "end", "text", "score"}, ...]}

INPUT is JSONL ({"id"?, "question", ...}; other fields are ignored) or plain
text with one question per line; "-" or nothing reads standard input. The id is
the input's "id", or the 1-based line number. Malformed lines are skipped with
a warning naming the line, and the exit code is then 2. A question whose
misspelt words were corrected against the index's vocabulary also has
"understood_as" (after "question"): the question as it was read.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="?", default="-", metavar="INPUT", help="questions file, or - for stdin")
    parser.add_argument("-o", "--output", metavar="OUTPUT", help="write JSONL here (default: stdout)")
    add_answer_arguments(parser)
    add_retriever_argument(parser)


def read_questions(lines, problems: list[str]) -> Iterator[tuple[str, str]]:
    """``(id, question)`` pairs from JSONL or plain lines; bad lines go to ``problems``."""
    mode = None
    for lineno, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if lineno == 1:
                line = line.removeprefix("\ufeff")  # a byte-order mark is not part of the question
        except UnicodeDecodeError:
            problems.append(f"line {lineno}: skipped: invalid UTF-8")
            continue
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if mode is None:
            mode = "jsonl" if line.lstrip().startswith("{") else "text"
        if mode == "text":
            yield str(lineno), _no_surrogates(line.strip())
            continue
        try:
            record = parse_object(line)
        except BadLine as e:
            problems.append(f"line {lineno}: skipped: {e}")
            continue
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            problems.append(f'line {lineno}: skipped: missing or empty "question" string')
            continue
        qid = record.get("id", str(lineno))
        if not isinstance(qid, (str, int)) or isinstance(qid, bool):
            problems.append(f'line {lineno}: skipped: "id" must be a string or a number')
            continue
        yield _no_surrogates(str(qid)), _no_surrogates(question)


def _no_surrogates(text: str) -> str:
    """Lone surrogates (JSON escapes such as ``\\ud800``) cannot be written as UTF-8: U+FFFD."""
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


def _open_input(name: str):
    if name == "-":
        return sys.stdin.buffer
    path = Path(name)
    if path.is_dir():
        raise BadInputError(f"{path} is a folder; give a file of questions")
    try:
        return open(path, "rb")
    except OSError as e:
        raise BadInputError(f"cannot read {path}: {e.strerror}") from None


def run(args: argparse.Namespace) -> int:
    problems: list[str] = []
    source = _open_input(args.input)
    try:
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    except OSError as e:
        raise BadInputError(f"cannot write {args.output}: {e.strerror}") from None
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(desc="Answering", unit="q", file=sys.stderr)
    reported = 0
    try:
        with open_assistant(args) as assistant:
            say_source(args)
            for qid, question in read_questions(source, problems):
                try:
                    result = assistant.ask(question)
                except BadInputError as e:
                    problems.append(f"question {qid}: skipped: {e}")
                else:
                    out.write(json.dumps(result.to_json(qid), ensure_ascii=False) + "\n")
                    out.flush()
                    for note in result.notes:
                        warn(f"question {qid}: {note}")
                while reported < len(problems):
                    warn(problems[reported])
                    reported += 1
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if out is not sys.stdout:
            out.close()
        if source is not sys.stdin.buffer:
            source.close()
    for p in problems[reported:]:
        warn(p)
    if problems:
        raise BadInputError(f"{len(problems)} input line(s) skipped (see warnings above)")
    return 0

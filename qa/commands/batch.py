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
from qa.wording import counted

HELP = "answer many questions: JSONL or plain lines in, JSONL out"
DESCRIPTION = """\
Answer each question of INPUT and write one JSON object per question, in input
order, streamed as answers come:

  {"id": ..., "question": ...,
   "answer": {"text", "doc", "start", "end", "kind"} | null,
   "confidence": ...,
   "citations": [{"doc", "start", "end", "text", "score", "line", "page"}, ...]}

"answer" is null when the assistant abstains; its "kind" is "span" (words of the
sentence) or "sentence" (a yes/no question: the evidence sentence itself). Each
"text" is the document's text from "start" to "end"; "line" is 1-based and
"page" is set for PDFs (else null).

INPUT is JSONL ({"id"?, "question", ...}; other fields are ignored) or plain
text with one question per line; "-" or nothing reads standard input. The id is
the input's "id", or the 1-based line number.

Bad input, one policy for both formats: a blank line is not a question and is
skipped silently (the line numbers, and so the ids, still count it). A line
that is not a question (malformed JSON, a record without a "question" or with
an empty one, invalid UTF-8) is skipped with a warning naming the line, the
other questions are answered, and the exit code is then 2.

With -o, answers go to a temporary file beside OUTPUT that replaces OUTPUT only
when the run ends; when no question could be answered, when the run is
interrupted or when the disk is full, OUTPUT is left as it was.
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
    from qa.atomic_output import AtomicTextFile

    problems: list[str] = []
    source = _open_input(args.input)
    out = None
    try:
        out = AtomicTextFile(args.output) if args.output else _Stdout()
        answered, reported = _answer_all(args, source, out, problems)
        for p in problems[reported:]:
            warn(p)
        if answered == 0:
            nothing = f"; {args.output} is left as it was" if args.output else ""
            if problems:
                raise BadInputError(
                    f"no question could be answered: {counted(len(problems), 'input line')} skipped "
                    f"(see warnings above){nothing}"
                )
            raise BadInputError(f"{'standard input' if args.input == '-' else args.input} holds no questions{nothing}")
        out.commit()
        out = None
    finally:
        if out is not None:
            out.discard()
        if source is not sys.stdin.buffer:
            source.close()
    if problems:
        raise BadInputError(f"{counted(len(problems), 'input line')} skipped (see warnings above)")
    return 0


def _answer_all(args: argparse.Namespace, source, out, problems: list[str]) -> tuple[int, int]:
    """Answer every question of ``source`` into ``out``; returns (answers written, problems warned)."""
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(desc="Answering", unit="q", file=sys.stderr)
    answered = reported = 0
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
                    answered += 1
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
    return answered, reported


class _Stdout:
    """Standard output with the interface of ``AtomicTextFile``: each answer streamed as it comes."""

    def write(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def commit(self) -> None:
        pass

    def discard(self) -> None:
        pass

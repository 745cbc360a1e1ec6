"""qa batch: answer many questions, JSONL in, JSONL out."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from qa.commands.common import add_answer_arguments, add_retriever_argument, open_assistant, say_source, warn
from qa.errors import BadInputError
from qa.jsonl import BadLine, parse_object
from qa.wording import counted

HELP = "answer many questions: JSONL or plain lines in, JSONL out"
DESCRIPTION = """\
Answer each question of INPUT and write one JSON object per question, in input
order:

  {"id": ..., "question": ...,
   "answer": {"text", "doc", "start", "end", "kind"} | null,
   "confidence": ...,
   "citations": [{"doc", "start", "end", "text", "score", "line", "page"}, ...]}

"answer" is null when the assistant abstains; its "kind" is "span" (words of the
sentence) or "sentence" (a yes/no question: the evidence sentence itself). Each
"text" is the document's text from "start" to "end"; "line" is 1-based and
"page" is set for PDFs (else null).

INPUT is JSONL ({"id"?, "question", ...}; other fields are ignored) or plain
text with one question per line; "-" or nothing reads standard input. A file
named .jsonl is JSONL; other input is JSONL when its first line is a JSON
object. The id is the input's "id", or the 1-based line number; ids used more
than once are named in a warning (each line is still answered).

Bad input, one policy for both formats: a blank line is not a question and is
skipped silently (the line numbers, and so the ids, still count it). A line
that is not a question (malformed JSON, a record without a "question" or with
an empty one, a JSON object among plain-text questions, invalid UTF-8) is
skipped with a warning naming the line, the other questions are answered, and
the exit code is then 2.

Without -o, answers are streamed to standard output as they come. With -o, each
answer is kept in OUTPUT.partial as soon as it is finished, and OUTPUT is
written whole only when the run ends: when no question could be answered, when
the run is interrupted or when the disk is full, OUTPUT is left as it was and
the answers finished stay in OUTPUT.partial. The same command run again goes on
from them (a question with the same id and text, asked with the same options of
the same index, is not asked again); OUTPUT.partial is removed once OUTPUT is
written. OUTPUT cannot be INPUT.

Progress goes to stderr: a bar on a terminal, else a line every 10 seconds.

A question whose misspelt words were corrected against the index's vocabulary
also has "understood_as" (after "question"): the question as it was read.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="?", default="-", metavar="INPUT", help="questions file, or - for stdin")
    parser.add_argument("-o", "--output", metavar="OUTPUT", help="write JSONL here (default: stdout)")
    add_answer_arguments(parser)
    add_retriever_argument(parser)


class Question(NamedTuple):
    line: int  # 1-based
    id: str
    text: str


def read_questions(lines, problems: list[str], jsonl: bool | None = None) -> Iterator[Question]:
    """The questions of JSONL or plain lines; bad lines go to ``problems``. ``jsonl``: whether
    the lines are JSONL (None: they are when the first one is a JSON object)."""
    mode = None if jsonl is None else "jsonl" if jsonl else "text"
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
            if line.lstrip().startswith("{") and _is_json_object(line):
                problems.append(
                    f"line {lineno}: skipped: a JSON object among plain-text questions "
                    "(JSONL input starts with one, or is named .jsonl)"
                )
                continue
            yield Question(lineno, str(lineno), _no_surrogates(line.strip()))
            continue
        try:
            record = parse_object(line)
        except BadLine as e:
            problems.append(f"line {lineno}: skipped: {e}")
            continue
        if "question" not in record:
            problems.append(f'line {lineno}: skipped: no "question" field')
            continue
        question = record["question"]
        if not isinstance(question, str) or not question.strip():
            problems.append(f'line {lineno}: skipped: "question" must be a string that is not empty')
            continue
        qid = record.get("id", str(lineno))
        if not isinstance(qid, (str, int)) or isinstance(qid, bool):
            problems.append(f'line {lineno}: skipped: "id" must be a string or a number')
            continue
        yield Question(lineno, _no_surrogates(str(qid)), _no_surrogates(question))


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(parse_object(line), dict)
    except BadLine:
        return False


def _no_surrogates(text: str) -> str:
    """Lone surrogates (JSON escapes such as ``\\ud800``) cannot be written as UTF-8: U+FFFD."""
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


def _naming_duplicates(questions: Iterable[Question]) -> Iterator[Question]:
    """``questions`` as they are; once they are all read, a warning names the ids used more than once."""
    lines: dict[str, list[int]] = {}
    for q in questions:
        lines.setdefault(q.id, []).append(q.line)
        yield q
    repeated = [(qid, at) for qid, at in lines.items() if len(at) > 1]
    if repeated:
        shown = ", ".join(
            f'"{qid}" (lines {", ".join(map(str, at[:5]))}{", ..." if len(at) > 5 else ""})' for qid, at in repeated[:5]
        )
        more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
        warn(f"duplicate ids: {shown}{more} (each line is answered)")


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


def _input_stat(source) -> os.stat_result | None:
    try:
        return os.fstat(source.fileno())
    except (OSError, ValueError):  # no file descriptor (a test's stdin)
        return None


def _refuse_writing_over_input(source, args: argparse.Namespace) -> None:
    """OUTPUT, and the side file that keeps its finished answers, must not be INPUT."""
    from qa.resumable_output import side_file

    read = _input_stat(source)
    if read is None or not stat.S_ISREG(read.st_mode):
        return
    where = "standard input" if args.input == "-" else args.input
    for path, what in (
        (args.output, "-o {path} is the input ({where})"),
        (side_file(args.output), "the input ({where}) is the side file of -o {output}"),
    ):
        try:
            written = os.stat(path)  # through a symbolic link; a hard link has the same inode
        except OSError:
            continue
        if (written.st_dev, written.st_ino) == (read.st_dev, read.st_ino):
            said = what.format(path=path, where=where, output=args.output)
            raise BadInputError(
                f"{said}: the answers would replace the questions; nothing written, choose another OUTPUT"
            )


def _questions(source, args: argparse.Namespace, problems: list[str]) -> tuple[Iterable[Question], int | None]:
    """The questions and their number: all read first from a file, streamed from a pipe
    (each answered as it comes; their number is then unknown)."""
    jsonl = None
    if args.input != "-":
        from qa.documents import JSONL_SUFFIXES

        jsonl = Path(args.input).suffix.lower() in JSONL_SUFFIXES or None
    questions = _naming_duplicates(read_questions(source, problems, jsonl))
    read = _input_stat(source)
    if read is None or not stat.S_ISREG(read.st_mode):
        return questions, None
    questions = list(questions)
    return questions, len(questions)


def _fingerprint(args: argparse.Namespace, assistant) -> str:
    """What an answer depends on besides its question: the options, the index's content, citeqa."""
    import hashlib

    from qa import __version__

    what = {
        "citeqa": __version__,
        "top_k": args.top_k,
        "threshold": args.threshold,
        "retriever": args.retriever,
        "doc": args.doc,
        "index": sorted(assistant.store.digests().items()),
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode("utf-8")).hexdigest()


def run(args: argparse.Namespace) -> int:
    from qa.atomic_output import AtomicTextFile, written_in_place

    problems: list[str] = []
    source = _open_input(args.input)
    out = None
    try:
        resumable = False
        if args.output:
            _refuse_writing_over_input(source, args)
            resumable = not written_in_place(args.output)  # checked before any work
        with open_assistant(args) as assistant:
            say_source(args)
            questions, total = _questions(source, args, problems)
            if resumable:
                out = _resumable_output(args, assistant, questions, total)
            else:
                out = _Streamed(AtomicTextFile(args.output) if args.output else None)
            answered, reported = _answer_all(assistant, questions, total, out, problems)
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
            if out.count:
                from qa.progress import say

                say(f"qa: {counted(out.count, 'answer')} kept in {out.path}: the same command goes on from them")
        if source is not sys.stdin.buffer:
            source.close()
    if problems:
        raise BadInputError(f"{counted(len(problems), 'input line')} skipped (see warnings above)")
    return 0


def _resumable_output(args: argparse.Namespace, assistant, questions: Iterable[Question], total: int | None):
    """OUTPUT, written at the end from the side file that keeps each answer when it is finished,
    with those of an interrupted run with the same options (said on stderr)."""
    from qa.resumable_output import ResumableOutput

    out = ResumableOutput(args.output, _fingerprint(args, assistant))
    if out.started_over:
        print(f"qa: {out.path} was kept by a run with other options or another index: starting over", file=sys.stderr)
    if total is not None:
        kept = sum(out.has(q.id, q.text) for q in questions)
        if kept:
            print(f"qa: resuming: {kept} of {counted(total, 'answer')} kept from an interrupted run", file=sys.stderr)
    elif out.count:
        print(
            f"qa: resuming: {counted(out.count, 'answer')} kept from an interrupted run (used for the same questions)",
            file=sys.stderr,
        )
    return out


def _answer_all(assistant, questions: Iterable[Question], total: int | None, out, problems: list[str]):
    """Answer every question into ``out``, or take the answer it kept; returns (answers written, problems warned)."""
    from qa.progress import Progress

    answered = reported = 0

    def report() -> None:
        nonlocal reported
        while reported < len(problems):
            warn(problems[reported])
            reported += 1

    with Progress(total, what="questions answered", desc="Answering", unit="q") as progress:
        for q in questions:
            report()
            if out.use_kept(q.id, q.text):
                answered += 1
            else:
                try:
                    result = assistant.ask(q.text)
                except BadInputError as e:
                    problems.append(f"question {q.id}: skipped: {e}")
                else:
                    out.write(json.dumps(result.to_json(q.id), ensure_ascii=False) + "\n")
                    answered += 1
                    for note in result.notes:
                        warn(f"question {q.id}: {note}")
            report()
            progress.update(1)
    return answered, reported


class _Streamed:
    """Answers written as they come, to standard output or to a device or a pipe (which
    ``AtomicTextFile`` writes in place): the interface of ``ResumableOutput``, nothing kept."""

    count = 0

    def __init__(self, file=None) -> None:
        self._file = file  # None: standard output

    def use_kept(self, qid: str, question: str) -> bool:
        return False

    def write(self, text: str) -> None:
        if self._file is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            self._file.write(text)

    def commit(self) -> None:
        if self._file is not None:
            self._file.commit()

    def discard(self) -> None:
        if self._file is not None:
            self._file.discard()

"""Loading question sets: the JSONL format of ``docs/eval-format.md``, conversations,
and TREC qrels plus a queries file.

Bad lines never abort loading: each one becomes a ``problems`` entry naming the
line, and the caller reports them and exits with code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import BadInputError
from qa.jsonl import BadLine, parse_object
from qa.wording import counted, plural


@dataclass(frozen=True)
class Evidence:
    """Where an answer is supported: a quote in ``doc`` or, without one, all of ``doc``."""

    doc: str
    quote: str | None = None
    #: Relevance grade (1 for the JSONL format; TREC qrels may grade 2, 3...).
    grade: int = 1


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    kind: str = "unanswerable"

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


@dataclass(frozen=True)
class Turn:
    question: str
    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[Turn, ...]
    #: The one document the conversation is about (its turns are answered from it only); None: the whole index.
    doc: str | None = None


@dataclass
class QuestionSet:
    questions: list[Question] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _open_lines(path: Path) -> list[str]:
    path = Path(path)
    if path.is_dir():
        raise BadInputError(f"{path} is a folder; give a question file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadInputError(f"cannot read {path}: {e.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInputError(f"{path}: invalid UTF-8 at byte {e.start}") from None
    return text.splitlines()


def _strings(value, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'"{what}" must be a list of strings')
    return tuple(value)


def _id(record: dict, lineno: int, *keys: str) -> str:
    for key in keys:
        if key in record:
            value = record[key]
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ValueError(f'"{key}" must be a string or a number')
            return str(value)
    return str(lineno)


def _evidence(value) -> tuple[Evidence, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError('"evidence" must be a list')
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("doc"), str) or not item["doc"]:
            raise ValueError('each "evidence" item needs a "doc" string')
        quote = item.get("quote")
        if quote is not None and (not isinstance(quote, str) or not quote):
            raise ValueError('an evidence "quote" must be a non-empty string')
        out.append(Evidence(item["doc"], quote))
    return tuple(out)


def _question(record: dict, lineno: int) -> Question:
    text = record.get("question")
    if not isinstance(text, str) or not text.strip():
        raise ValueError('missing or empty "question" string')
    evidence = _evidence(record.get("evidence"))
    kind = record.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise ValueError('"kind" must be a string')
    return Question(
        id=_id(record, lineno, "id"),
        question=text,
        answers=_strings(record.get("answers"), "answers"),
        evidence=evidence,
        kind=kind or ("answerable" if evidence else "unanswerable"),
    )


def _conversation(record: dict, lineno: int) -> Conversation:
    turns = record.get("turns")
    if not isinstance(turns, list) or not turns:
        raise ValueError('"turns" must be a non-empty list')
    out = []
    for t in turns:
        if not isinstance(t, dict) or not isinstance(t.get("question"), str) or not t["question"].strip():
            raise ValueError('each turn needs a non-empty "question" string')
        out.append(Turn(t["question"], _strings(t.get("answers"), "answers")))
    doc = record.get("doc")
    if doc is not None and (not isinstance(doc, str) or not doc.strip()):
        raise ValueError('"doc" must be a document id (a non-empty string)')
    return Conversation(_id(record, lineno, "id"), tuple(out), doc)


def _records(path: Path, problems: list[str]):
    for lineno, line in enumerate(_open_lines(path), 1):
        if not line.strip():
            continue
        try:
            record = parse_object(line)
        except BadLine as e:
            problems.append(f"{path.name} line {lineno}: skipped: {e}")
            continue
        yield lineno, record


def load_question_set(path: str | Path, qrels: str | Path | None = None) -> QuestionSet:
    """Read ``path``: JSONL questions and/or conversations, or, with ``qrels``, a queries file."""
    path = Path(path)
    if qrels is not None:
        return _load_trec(path, Path(qrels))
    qs = QuestionSet()
    seen: set[str] = set()
    for lineno, record in _records(path, qs.problems):
        try:
            item = _conversation(record, lineno) if "turns" in record else _question(record, lineno)
        except ValueError as e:
            qs.problems.append(f"{path.name} line {lineno}: skipped: {e}")
            continue
        if item.id in seen:
            qs.problems.append(f"{path.name} line {lineno}: skipped: duplicate id {item.id!r}")
            continue
        seen.add(item.id)
        (qs.conversations if isinstance(item, Conversation) else qs.questions).append(item)
    if not qs.questions and not qs.conversations:
        raise BadInputError(f"{path}: no questions found" + (f" ({qs.problems[0]})" if qs.problems else ""))
    return qs


# -- TREC ------------------------------------------------------------------


def read_queries(path: Path, problems: list[str]) -> list[tuple[str, str]]:
    """``(qid, text)`` from a TSV queries file (``qid<TAB>text``) or JSONL (``id``/``_id`` + ``question``/``text``)."""
    lines = _open_lines(path)
    first = next((line for line in lines if line.strip()), "")
    out = []
    if first.lstrip().startswith("{"):
        for lineno, record in _records(path, problems):
            text = record.get("question", record.get("text"))
            try:
                qid = _id(record, lineno, "id", "_id")
            except ValueError as e:
                problems.append(f"{path.name} line {lineno}: skipped: {e}")
                continue
            if not isinstance(text, str) or not text.strip():
                problems.append(f'{path.name} line {lineno}: skipped: missing "question" or "text" string')
                continue
            out.append((qid, text))
        return out
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        qid, sep, text = line.partition("\t")
        if not sep or not qid.strip() or not text.strip():
            problems.append(f"{path.name} line {lineno}: skipped: expected QUERY_ID<TAB>QUERY TEXT")
            continue
        out.append((qid.strip(), text.strip()))
    return out


def read_qrels(path: Path, problems: list[str]) -> dict[str, dict[str, int]]:
    """TREC qrels: ``qid iteration docno relevance`` per line."""
    qrels: dict[str, dict[str, int]] = {}
    for lineno, line in enumerate(_open_lines(path), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            problems.append(f"{path.name} line {lineno}: skipped: expected QID ITER DOCNO REL")
            continue
        try:
            rel = int(parts[3])
        except ValueError:
            problems.append(f"{path.name} line {lineno}: skipped: relevance {parts[3]!r} is not a whole number")
            continue
        qrels.setdefault(parts[0], {})[parts[2]] = rel
    return qrels


def _load_trec(queries_path: Path, qrels_path: Path) -> QuestionSet:
    qs = QuestionSet()
    queries = read_queries(queries_path, qs.problems)
    qrels = read_qrels(qrels_path, qs.problems)
    unjudged = 0
    for qid, text in queries:
        if qid not in qrels:
            unjudged += 1
            continue
        evidence = tuple(Evidence(doc, None, rel) for doc, rel in sorted(qrels[qid].items()) if rel > 0)
        qs.questions.append(Question(qid, text, (), evidence, "judged" if evidence else "unanswerable"))
    if unjudged:
        has = plural(unjudged, "has")
        qs.notes.append(f"{counted(unjudged, 'query')} {has} no judgements in {qrels_path.name}; left out")
    stray = set(qrels) - {qid for qid, _ in queries}
    if stray:
        ids, are = plural(len(stray), "id"), plural(len(stray), "is")
        qs.notes.append(f"{len(stray)} qrels query {ids} {are} not in {queries_path.name}; ignored")
    if not qs.questions:
        raise BadInputError(f"{queries_path}: no judged queries (check that its ids match {qrels_path})")
    return qs

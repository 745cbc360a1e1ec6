"""What answering returns: citations, the answer span, corroborating sources, the result.

Plain data, shared by the answering stages, conversations, the CLI and the TUI.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Citation:
    """A retrieved sentence: ``text == document_text[start:end]``."""

    doc: str
    start: int
    end: int
    text: str
    score: float
    line: int
    page: int | None = None
    title: str | None = None
    sentence_id: int | None = None  # the index's sentence id (not part of the output contract)
    #: The heading the sentence sits under (Markdown and HTML; ``qa.sections``).
    section: str | None = None

    def label(self) -> str:
        """Human-readable source: title or file, section (unless it repeats the title), line, and
        page for PDFs."""
        name = f"{self.title} ({self.doc})" if self.title else self.doc
        if self.section and _plain(self.section) != _plain(self.title or ""):
            name += f" › {self.section}"
        where = f"line {self.line}" + (f", page {self.page}" if self.page else "")
        return f"{name}, {where}"

    def to_json(self) -> dict:
        """The batch contract's fields, then the line (1-based) and page (PDFs; else null) shown in text output."""
        return {
            "doc": self.doc,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(self.score, 6),
            "line": self.line,
            "page": self.page,
        }


def _plain(text: str) -> str:
    """Text compared without case or spacing: a page's ``<h1>`` is often its title."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Answer:
    """The answer: a verbatim span of ``citation``'s sentence, or all of it.

    ``kind`` is ``"span"`` for a span the reader extracted, ``"sentence"`` when the
    question has no span answer (yes/no questions): the evidence sentence is the answer."""

    text: str
    doc: str
    start: int
    end: int
    citation: Citation
    kind: str = "span"

    def to_json(self) -> dict:
        return {"text": self.text, "doc": self.doc, "start": self.start, "end": self.end, "kind": self.kind}


#: Shown with an answer of kind "sentence".
SENTENCE_ANSWER_NOTE = "a yes/no question has no short answer: the evidence sentence is shown; judge it yourself"


@dataclass(frozen=True)
class Corroboration:
    """One answer variant and the citations (from distinct documents) that support it."""

    text: str
    citations: list[Citation]


@dataclass
class Result:
    question: str
    answer: Answer | None
    confidence: float
    citations: list[Citation]
    notes: list[str] = field(default_factory=list)
    #: Answer variants found across the cited sentences: the first supports ``answer``
    #: ("2 sources"); further ones disagree with it (another number, another spelling).
    corroboration: list[Corroboration] = field(default_factory=list)
    #: The question as it was understood when misspelt words were corrected (``qa.spelling``);
    #: None when it was read as written. ``question`` stays as asked.
    understood_as: str | None = None
    #: In a conversation: the question as it was asked on its own, with what it leans on from
    #: earlier turns (``qa.conversation``); None when it was asked as typed.
    resolved: str | None = None
    #: The confidence model's inputs (for inspection and fitting; not part of ``to_json``).
    features: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def abstained(self) -> bool:
        return self.answer is None

    def to_json(self, id: str) -> dict:
        """The batch format (a contract: keep the fields exactly). After ``question``:
        ``understood_as`` only when misspelt words were corrected, and ``resolved`` only for a
        follow-up of a conversation asked otherwise than typed (the question as it was asked)."""
        out = {"id": id, "question": self.question}
        if self.understood_as is not None:
            out["understood_as"] = self.understood_as
        if self.resolved is not None and self.resolved != self.question:
            out["resolved"] = self.resolved
        out.update(
            answer=self.answer.to_json() if self.answer else None,
            confidence=round(self.confidence, 6),
            citations=[c.to_json() for c in self.citations],
        )
        return out

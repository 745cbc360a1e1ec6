"""Messages the chat app's workers and widgets post (dataclass messages, as in Posting), and
``error_message``: the one line for the user that a worker's error becomes."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class AssistantLoaded(Message):
    """The model and index are ready."""

    assistant: object
    description: str


@dataclass
class AssistantFailed(Message):
    """Opening the index failed; ``error`` is a one-line message for the user."""

    error: str


@dataclass
class AnswerReady(Message):
    card_id: str
    result: object


@dataclass
class AnswerFailed(Message):
    card_id: str
    error: str


@dataclass
class CitationChosen(Message):
    """A citation was selected in an answer card: show it in the sources panel."""

    citation: object
    answer: object | None


@dataclass
class TypedAhead(Message):
    """A printable key pressed outside the question input: it belongs in the question."""

    character: str


@dataclass
class IndexingProgress(Message):
    done: int
    total: int


@dataclass
class IndexingFinished(Message):
    index_dir: str
    summary: str


@dataclass
class IndexingFailed(Message):
    error: str


def error_message(error: BaseException) -> str:
    from qa.errors import CiteQAError

    if isinstance(error, CiteQAError):
        return str(error)
    return f"unexpected error: {type(error).__name__}: {error}"

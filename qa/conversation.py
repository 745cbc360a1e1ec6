"""Follow-up questions: a ``Conversation`` asks each question in the light of the earlier turns.

1. **Resolving** (``qa.resolver``, a trained model). The history is what CANARD's is: the
   title and section heading of the document the conversation is about (the scoped
   document, else the last answer's), then the earlier questions and answers, oldest first.
   The resolver gives the question as it should be asked on its own ("What did he say?"
   → "What did he say? Serhiy Orlov"), and the probability that it leans on the history.
2. **Nothing to lean on.** A question that leans on history (``needs_history`` ≥
   ``NEEDS_HISTORY``) asked with none (the first question of a topic, not inside a
   document) is not guessed at: the result has no answer, a note that says so, and the
   closest matches.
3. **Answers of a conversation are sentences** (``"kind": "sentence"``). Measured on the fit
   half of quac-dev (``benchmarks/conversation_accuracy.py``), the reader's span scored F1
   .36 against the references and its whole sentence .46, and the sentence won for every
   question word and every span length; single questions (``Assistant.ask``) keep spans.
4. **No repeats.** An answer sentence already given in this conversation is not given
   again ("What else did he say?"): the question is asked again without those sentences,
   and the next best one answers if it passes the confidence threshold.

The ``Result`` keeps the question as typed; ``resolved`` (and a note) say how it was asked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from qa.assistant import clean_question
from qa.resolver import Resolution, resolve, resolve_turn
from qa.results import Answer, Result

#: A question whose probability of leaning on history is at least this, asked with none, is not
#: guessed at (the model's probability: the even odds, not a cut fitted to any set).
NEEDS_HISTORY = 0.5
#: How a turn without an answer reads in the history (CANARD's convention, as the resolver was trained).
NO_ANSWER = "I don't know."
NOTHING_TO_LEAN_ON = (
    "this question leans on something said before, and nothing was (new topic): "
    "ask again with what it is about; the closest matches are below"
)
#: Whether a conversation answers with the cited sentence (item 3 of the docstring) and skips answer
#: sentences already given (item 4); switches for ``benchmarks/conversation_accuracy.py``.
SENTENCE_ANSWERS = True
NO_REPEATS = True
REPEAT_NOTE = "the answer found was already given in this conversation; no other passage answers it"


@dataclass(frozen=True)
class Turn:
    """One question of the conversation: as typed, as asked, how the resolver read it, its result."""

    question: str
    resolved: str
    result: Result
    resolution: Resolution | None = None


class Conversation:
    """Questions asked in sequence, each resolved against the earlier ones.

    ``ask(question)`` returns a ``Result`` (see the module's docstring); ``reset()`` starts a
    new topic; ``turns`` holds the questions so far; ``docs`` keeps every question inside
    those documents (as ``Assistant.ask``'s ``docs``).
    """

    def __init__(self, assistant, docs: list[str] | None = None) -> None:
        self.assistant = assistant
        self.docs = list(docs) if docs else None
        self.turns: list[Turn] = []
        self._scoped: tuple[tuple[str, ...], object] | None = None  # (docs, their one document)

    def reset(self) -> None:
        self.turns.clear()

    def history(self) -> list[str]:
        """The conversation so far in CANARD's format: the document's title and section heading
        (those it has), then the questions as typed and their answers, alternating."""
        out = self._titles()
        for turn in self.turns:
            answer = turn.result.answer
            out += [turn.question, answer.text if answer is not None else NO_ANSWER]
        return out

    def ask(self, question: str, top_k: int | None = None) -> Result:
        text, _ = clean_question(question)
        resolution = resolve_turn(text, self.history())
        leans_on_nothing = not self.turns and not self.docs and resolution.needs_history >= NEEDS_HISTORY
        asked = resolution.resolved
        if leans_on_nothing:
            result = self._nothing_to_lean_on(question, top_k)
        else:
            result = self._answer(asked, top_k)
            notes = list(result.notes)
            if asked != text:
                notes.append(f"understood as: {asked}")
            result = dataclasses.replace(
                result, question=question, resolved=asked if asked != text else None, notes=notes
            )
        self.turns.append(Turn(text, asked, result, resolution))
        return result

    # -- answering ---------------------------------------------------------

    def _answer(self, asked: str, top_k: int | None) -> Result:
        result = self.assistant.ask(asked, top_k=top_k, docs=self.docs)
        given = self._given_sentences()
        answer = result.answer
        if NO_REPEATS and answer is not None and answer.citation.sentence_id in given:
            result = self.assistant.ask(asked, top_k=top_k, docs=self.docs, exclude_sentences=given)
            if result.answer is None:
                result.notes.append(REPEAT_NOTE)
        return _as_sentence(result) if SENTENCE_ANSWERS else result

    def _given_sentences(self) -> set[int]:
        """The index ids of the sentences that answered earlier turns."""
        out = set()
        for turn in self.turns:
            answer = turn.result.answer
            if answer is not None and answer.citation.sentence_id is not None:
                out.add(answer.citation.sentence_id)
        return out

    def _nothing_to_lean_on(self, question: str, top_k: int | None) -> Result:
        return withheld(self.assistant.ask(question, top_k=top_k, docs=self.docs))

    def _titles(self) -> list[str]:
        """The title and section heading of the document the conversation is about: the scoped
        document (when the scope is one document), else the last answer's."""
        last = next((t.result for t in reversed(self.turns) if t.result.citations), None)
        cited = None
        if last is not None:
            cited = last.answer.citation if last.answer is not None else last.citations[0]
        title = section = None
        if self.docs:
            scoped = self._scoped_document()
            if scoped is None:
                return []
            title = scoped.title
            if cited is not None and cited.doc == scoped.id:
                section = cited.section
        elif cited is not None:
            title, section = cited.title, cited.section
        return [t for t in (title, section) if t]

    def _scoped_document(self):
        """The one document the scope names, or None (a folder of several, or none)."""
        key = tuple(self.docs or ())
        if self._scoped is None or self._scoped[0] != key:
            outside = self.assistant.outside(self.docs)
            inside = [d for d in self.assistant.store.documents() if d.id not in outside]
            self._scoped = (key, inside[0] if len(inside) == 1 else None)
        return self._scoped[1]


def withheld(result: Result) -> Result:
    """``result`` without its answer, saying that the question leans on something never said; its
    citations stay as the closest matches."""
    return Result(result.question, None, result.confidence, result.citations, notes=[*result.notes, NOTHING_TO_LEAN_ON])


def checked_alone(result: Result) -> Result:
    """A question asked on its own (``qa ask``), withheld when it leans on history (``NEEDS_HISTORY``)."""
    if resolve_turn(result.question.strip(), []).needs_history >= NEEDS_HISTORY:
        return withheld(result)
    return result


def _as_sentence(result: Result) -> Result:
    """``result`` with its answer widened to the whole cited sentence (see the module's docstring)."""
    answer = result.answer
    if answer is None or answer.kind == "sentence":
        return result
    c = answer.citation
    return dataclasses.replace(result, answer=Answer(c.text, c.doc, c.start, c.end, c, kind="sentence"))


__all__ = ["Conversation", "Resolution", "Turn", "checked_alone", "resolve", "resolve_turn", "withheld"]

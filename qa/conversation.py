"""Follow-up questions: a ``Conversation`` asks each question in the light of the earlier turns.

1. **Resolving** (``qa.resolver``, a trained model). The history is what CANARD's is: the
   title and section heading of the document the conversation is about (the scoped
   document, else the last answer's), then the earlier questions and answers, oldest first.
   The resolver rewrites the question as it should be asked on its own ("What did he say?"
   → "What did Serhiy Orlov say?"), and gives the probability that it leans on the history.
2. **Nothing to lean on.** A question that leans on history (``needs_history`` ≥
   ``NEEDS_HISTORY``) asked with none (the first question of a topic, not inside a
   document) is not guessed at: the result has no answer, a note that says so, and the
   closest matches.
3. **Answers inside a document are sentences** (``"kind": "sentence"``). In a conversation
   kept inside documents (``docs``), measured on the fit half of quac-dev
   (``benchmarks/conversation_accuracy.py``), the reader's span scored F1 .36 against the
   references and its whole sentence .46, and the sentence won for every question word and
   every span length. Elsewhere (a conversation over the whole library, single questions)
   the answer stays the reader's span: the seed conversations' references are short spans.
4. **No repeats.** An answer already given in this conversation (the reader's span overlaps
   an earlier one's) is not given again ("What else did he say?"): the question is asked
   again without its sentence, and the next best one answers if it passes the confidence
   threshold; if none does, the answer given before stands, with a note. (Skipping every
   sentence already given, rather than the span, cost .008 follow-up F1 on the fit half.)

The ``Result`` keeps the question as typed; ``resolved`` (and a note) say how it was asked.
A follow-up asked both as resolved and as typed runs the two asks at once (``ASK_AT_ONCE``); over a
whole library the one as typed stays inside the last answer's document (``TYPED_IN_LAST_DOCUMENT``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from qa.question import clean_question
from qa.resolver import Resolution, resolve, resolve_turn
from qa.results import Answer, Result

#: A question whose probability of leaning on history is at least this, asked with none, is not
#: guessed at. The resolver learnt ``needs_history`` on CANARD, where nearly every question gains
#: words in its rewrite, so stand-alone questions score high too. The cut is the lowest that holds
#: back at most 1% of stand-alone questions on fitting data (even lines of the SQuAD dev stride
#: sample, and seeds-dev), re-chosen for each shipped model by ``benchmarks/needs_history_cut.py``:
#: for the rewriting model it catches 47% of CANARD's fitting-half questions whose rewrite differs
#: (docs/conversations.md).
NEEDS_HISTORY = 0.999
#: How a turn without an answer reads in the history (CANARD's convention, as the resolver was trained).
NO_ANSWER = "I don't know."
NOTHING_TO_LEAN_ON = (
    "cannot tell what this question refers to: it leans on something said before, and nothing was; "
    "ask again naming it (the closest matches are below)"
)
#: Whether a conversation answers with the cited sentence (item 3 of the docstring) and skips answer
#: sentences already given (item 4); switches for ``benchmarks/conversation_accuracy.py``.
SENTENCE_ANSWERS = True
NO_REPEATS: str | None = "span"
#: Also ask a rewritten follow-up as typed, and keep the more confident result. On the quac-dev fit half,
#: follow-up F1 / overlap with the rewriting resolver: the rewrite only .313 / .397, both .383 / .449; asking
#: as typed only when the rewrite is unsure saves nothing (benchmarks/pooling_cut.py, docs/conversations.md).
POOL_TYPED = True
#: Run those two asks at once (``Assistant.ask`` is safe to call from two threads; onnxruntime, FAISS,
#: SQLite and numpy let go of the GIL); the result is the same as one after the other. What it saves
#: depends on an idle core: none measured on the loaded 2-core machine (docs/conversations.md).
#: A switch for the benchmark (``--one-after-another``).
ASK_AT_ONCE = True
#: Over a whole library (no ``docs``), the question as typed is asked inside the last answer's document,
#: where follow-ups mostly stay; the rewrite is asked over the library. As typed over the library, a "he"
#: question drifts to other documents. quac-dev fit half asked over all its documents, follow-up F1 /
#: overlap with both asks: .190 / .215 → .206 / .277; SQuAD dev follow-up conversations, follow-up F1
#: .668 → .691 (docs/conversations.md).
TYPED_IN_LAST_DOCUMENT = True
REPEAT_NOTE = "this answer was given before in this conversation; no other passage answers the question"


@dataclass(frozen=True)
class Turn:
    """One question of the conversation: as typed, as asked, how the resolver read it, its result."""

    question: str
    resolved: str
    result: Result
    resolution: Resolution | None = None
    #: The answer's span as the reader found it ``(doc, start, end)``, before it was widened to its sentence.
    found: tuple[str, int, int] | None = None


class Conversation:
    """Questions asked in sequence, each resolved against the earlier ones.

    ``ask(question)`` returns a ``Result`` (see the module's docstring); ``reset()`` starts a
    new topic; ``turns`` holds the questions so far; ``docs`` keeps every question inside
    those documents (as ``Assistant.ask``'s ``docs``); ``resolver`` stands in for the model.
    """

    def __init__(self, assistant, docs: list[str] | None = None, resolver=None) -> None:
        self.assistant = assistant
        self.docs = list(docs) if docs else None
        #: ``resolve_turn(question, history) -> Resolution``: the trained model's unless given.
        self.resolver = resolver
        self.turns: list[Turn] = []

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
        resolution = (self.resolver or resolve_turn)(text, self.history())
        leans_on_nothing = not self.turns and not self.docs and resolution.needs_history >= NEEDS_HISTORY
        asked = resolution.resolved
        found = None
        if leans_on_nothing:
            result = self._nothing_to_lean_on(question, top_k)
        else:
            result, found = self._answer(text, asked, top_k)
            notes = list(result.notes)
            if asked != text:
                notes.append(f"understood as: {asked}")
            result = dataclasses.replace(
                result, question=question, resolved=asked if asked != text else None, notes=notes
            )
        self.turns.append(Turn(text, asked, result, resolution, found))
        return result

    # -- answering ---------------------------------------------------------

    def _answer(self, typed: str, asked: str, top_k: int | None) -> tuple[Result, tuple[str, int, int] | None]:
        """The result for the question as asked, and the span the reader found (before an answer
        is widened to its sentence)."""
        ask = functools.partial(self.assistant.ask, top_k=top_k, docs=self.docs)
        if POOL_TYPED and asked != typed:
            last = self._last_answer_doc() if TYPED_IN_LAST_DOCUMENT and not self.docs else None
            typed_docs = [last] if last else self.docs
            as_typed = functools.partial(self.assistant.ask, typed, top_k=top_k, docs=typed_docs)
            result, as_typed = _both(functools.partial(ask, asked), as_typed)
            if as_typed.confidence > result.confidence:
                result = as_typed
        else:
            result = ask(asked)
        skipped = self._repeated(result)
        other = result
        while skipped and len(skipped) <= len(self.turns):  # each earlier answer skipped once at most
            other = self.assistant.ask(asked, top_k=top_k, docs=self.docs, exclude_sentences=skipped)
            again = self._repeated(other)
            if not again:
                break
            skipped |= again
        if other is not result:
            if other.answer is not None and not self._repeated(other):
                result = other
            else:
                result.notes.append(REPEAT_NOTE)
        found = (result.answer.doc, result.answer.start, result.answer.end) if result.answer is not None else None
        return (_as_sentence(result) if SENTENCE_ANSWERS and self.docs else result), found

    def _last_answer_doc(self) -> str | None:
        """The document of the conversation's last answer, if any and still in the index."""
        doc = next((t.result.answer.doc for t in reversed(self.turns) if t.result.answer is not None), None)
        if doc is None:
            return None
        try:
            self.assistant.store.document(doc)
        except KeyError:  # gone from the index since (the library was synced mid-conversation)
            return None
        return doc

    def _repeated(self, result: Result) -> set[int]:
        """The sentence (index id) of ``result``'s answer when that answer was given before in this
        conversation (its span overlaps an earlier one's; with ``NO_REPEATS == "sentence"``: the
        same sentence); else nothing."""
        answer = result.answer
        if not NO_REPEATS or answer is None or answer.citation.sentence_id is None:
            return set()
        for turn in self.turns:
            if turn.found is None or turn.found[0] != answer.doc:
                continue
            if NO_REPEATS == "sentence":
                before = turn.result.answer.citation if turn.result.answer is not None else None
                same = before is not None and before.sentence_id == answer.citation.sentence_id
            else:
                same = turn.found[1] < answer.end and answer.start < turn.found[2]
            if same:
                return {answer.citation.sentence_id}
        return set()

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
        scoped = self._scoped_document()
        if scoped is not None:
            title = scoped.title
            if cited is not None and cited.doc == scoped.id:
                section = cited.section
        elif cited is not None:
            title, section = cited.title, cited.section
        return [t for t in (title, section) if t]

    def _scoped_document(self):
        """The document the scope names when it is one document id, else None (a folder, several)."""
        if not self.docs or len(self.docs) != 1:
            return None
        try:
            return self.assistant.store.document(self.docs[0])
        except KeyError:  # a folder prefix or a path: the last answer's document titles the history
            return None


def _both(first: Callable[[], Result], second: Callable[[], Result]) -> tuple[Result, Result]:
    """``(first(), second())``: at once with ``ASK_AT_ONCE`` (``second`` on a thread of its own, waited
    for even when ``first`` fails), else one after the other."""
    if not ASK_AT_ONCE:
        return first(), second()
    with ThreadPoolExecutor(1, thread_name_prefix="conversation") as pool:
        other = pool.submit(second)
        return first(), other.result()


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

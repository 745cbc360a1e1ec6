"""Follow-up questions: a ``Conversation`` answers a question in the light of earlier turns.

"What death toll did he give?" after "Who is the deputy mayor of Mariupol?" needs
the conversation: on its own, "he" could be anyone. Generic rules, on text alone:

1. Resolving. A personal pronoun (he, she, his, her, him) is replaced by the most
   recent person-like name: the previous answer when it is one, then names in the
   previous (resolved) question, then in the previous answer's sentence. "it",
   "its", a lone "this"/"that" are replaced by the previous answer when it is a
   short span. An elliptical question ("And in Kyiv?", "What about Kharkiv?")
   becomes the previous question with its last name swapped for the new one.
   A pronoun after a name in the same question refers to that name ("What did
   Kuleba say he would do?") and is left alone.
2. Retrieving. Substituting a name often hurts retrieval, because documents say
   "he" too ("He spoke via a satellite phone"). So a follow-up is asked several
   ways: as typed, as typed followed by the previous question's words (without
   its question words), and as resolved. The cited sentences are pooled and
   ranked by their scores (scaled 0..1 per way of asking; the typed question
   weighs most when a person pronoun is resolved), plus a bonus when the
   sentence (or one of the two before it) names the person the pronoun points
   to, or, with no person to follow, when it is near the previous answer.
3. Answering. The result of the first way of asking (resolved, as typed, with
   context) whose top citation is the winner is returned: the assistant's own
   answer, confidence and corroboration. When none put it on top, its answer span
   is extracted from it with the resolved question.

A question that leans on nothing is asked as it is. The ``Result`` keeps the
user's question, and its ``notes`` say how it was understood.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from qa.results import Result

#: Pronouns that refer to a person (or people) mentioned before.
_PERSON_PRONOUNS = {
    "he": "{name}",
    "him": "{name}",
    "his": "{name}'s",
    "she": "{name}",
    "hers": "{name}'s",
    "himself": "{name}",
    "herself": "{name}",
}
#: Pronouns that may refer to a thing, a place or a group mentioned before.
_THING_PRONOUNS = {"it", "its", "this", "that", "these", "those", "they", "them", "their", "there"}
_WORD = re.compile(r"[A-Za-z][\w’'-]*")
#: Runs of capitalised words, allowing "of", "the", "de" inside ("Bank of England").
_NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:(?:of|the|de|al|von|van)\s+)*[A-Z][\w’'-]*)*")
_POSSESSIVE = re.compile(r"[’']s?$")
_TITLECASE = re.compile(r"^[A-Z][a-z’'-]+$")
#: Words that make a capitalised run an organisation, place or title rather than a person.
_NOT_PERSON = set(
    "committee cross nations union council ministry army forces party bank company corporation university street "
    "city republic kingdom states agency organization organisation news times post office department court house "
    "parliament government federation institute association church square river sea ocean mountain county state "
    "province region airport station hospital school college club league group foundation fund service centre "
    "center revolution war crisis treaty agreement act airlines times point bay lake island islands hill hills park "
    "bridge road avenue lane valley cape port harbour harbor castle tower lighthouse market hall palace cathedral "
    "mount peninsula coast gulf strait canal desert forest beach airport museum library theatre theater stadium "
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december".split()
)
#: Capitalised words that open questions or sentences rather than name anything.
_OPENERS = set(
    "who whom whose what which when where why how is are was were do does did can could will would should has have "
    "had and but or the a an in on at for from to of by with as after before during while if then so speaking "
    "according however also yet still tell give describe explain name list show find please".split()
)
_ELLIPSIS = re.compile(
    r"^\s*(?:and|what about|how about|and what about|and how about)\b[\s,]*(?P<rest>.*?)[\s?.!]*$", re.I
)
_WHO_IS = re.compile(r"\s*(?i:who\s+(?:is|was|are|were))\s+([A-Z][^?]*)\?*\s*$")
_PREPOSITION = re.compile(r"^(?:in|on|at|for|to|from|with|of|about)\s+", re.I)
#: Verbs after which "so" stands for something said before ("Who said so?").
_SAYING = {"said", "say", "says", "think", "thinks", "thought", "claim", "claims", "claimed", "believe", "believes"}
#: Words that make a question a question; left out when it becomes context for the next.
_QUESTION_WORDS = set(
    "who whom whose what which when where why how is are was were do does did has have had can could will would "
    "many much".split()
)
#: Candidates pooled from each way of asking a follow-up.
_POOL = 20
#: Weight of the question as typed when its pronoun points to a person.
_TYPED_WEIGHT = 0.5
#: A sentence naming the person a pronoun points to (or just after one) is about them.
_MENTION_BONUS = 0.25
_MENTION_WINDOW = 2
#: A follow-up without a person to follow ("Who asked for it?") is usually answered near the previous answer.
_NEAR_BONUS = 0.1
_NEAR_SENTENCES = 3
#: An answer longer than this many words is a sentence, not something a pronoun points to.
_SHORT_ANSWER_WORDS = 8


@dataclass(frozen=True)
class Turn:
    """One question of the conversation: as asked, as resolved, and its result."""

    question: str
    resolved: str
    result: Result
    #: The people this turn is about, most likely first: the one its pronoun pointed
    #: to, then person-like names of its answer, its question and its cited sentence.
    people: tuple[str, ...] = ()


def names(text: str) -> list[str]:
    """Capitalised runs of ``text`` that may name something, in order of appearance."""
    out = []
    for m in _NAME.finditer(text):
        words = m.group().split()
        while words and words[0].lower() in _OPENERS:  # "Speaking to", "Who"
            words = words[1:]
        while words and words[-1].lower() in {"of", "the", "de", "al", "von", "van"}:
            words = words[:-1]
        if words:
            out.append(_POSSESSIVE.sub("", " ".join(words)))
    return out


def is_person_name(name: str, single: bool = False) -> bool:
    """A guess from the shape alone: two or more title-case words, none of them an
    organisation or place word ("Serhiy Orlov" yes; "NATO", "Red Cross", "Mariupol" no).
    With ``single``, one title-case word will do (where the user asks about a person:
    "Who is Holmes?")."""
    words = name.split()
    if len(words) < (1 if single else 2) or any(w.lower() in {"of", "the", "de"} for w in words):
        return False
    words = [_POSSESSIVE.sub("", w) for w in words]
    if any(w.lower() in _NOT_PERSON for w in words):
        return False
    return all(_TITLECASE.match(w) for w in words)


def _people_in(question: str, result: Result) -> list[str]:
    """Person-like names of the answer span, the question, then the answer's sentence (those
    sharing words with the question first: "Who is the Ukrainian foreign minister?")."""
    answer = result.answer
    candidates = []
    expected: set[str] = set()  # a one-word name will do where the user asks about a person
    if answer is not None and _is_short_span(answer.text):
        candidates += names(answer.text)
    subject = _WHO_IS.match(question)
    if subject:
        expected.update(names(subject.group(1)))
    candidates += names(question)
    top = answer.citation if answer is not None else None  # not a closest match: it may be off topic
    if top is not None:
        asked = {w.lower() for w in _WORD.findall(question)}
        in_sentence = names(top.text)
        candidates += sorted(in_sentence, key=lambda n: -len({w.lower() for w in n.split()} & asked))
    if _mentions_person(question):  # "Where did he meet Lavrov?" is not about Lavrov
        named = {w.lower() for w in _WORD.findall(question)}
        candidates.sort(key=lambda n: n.split()[-1].lower() in named)
    out: list[str] = []
    for name in candidates:
        if is_person_name(name, single=name in expected) and name not in out:
            out.append(name)
    return out


def with_context(question: str, previous: str) -> str:
    """The question followed by the previous one's words, without its question words: they
    steer retrieval to the topic, and mark as known what a span should not repeat, without
    changing the kind of answer wanted ("What death toll did he give? (the deputy mayor of
    Mariupol)" still wants a number, not a name)."""
    words = [w for w in previous.rstrip("?.! ").split() if w.lower().strip(",;:") not in _QUESTION_WORDS]
    if not words:
        return question
    return f"{question.rstrip()} ({' '.join(words)})"


def _normalised(scores: dict) -> dict:
    """Scores mapped onto 0..1 within one ranking (retrievers' scales differ: cosines, fused z-scores)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-9:
        return {k: 1.0 for k in scores}
    return {k: (v - low) / (high - low) for k, v in scores.items()}


def _anchor(result: Result):
    """Where the previous turn was answered: its answer's sentence, or its closest match."""
    if result.answer is not None:
        return result.answer.citation
    return result.citations[0] if result.citations else None


def _mentions_person(question: str) -> bool:
    return any(m.group().lower() in _PERSON_PRONOUNS or m.group().lower() == "her" for m in _WORD.finditer(question))


def _is_short_span(answer_text: str) -> bool:
    return 0 < len(answer_text.split()) <= _SHORT_ANSWER_WORDS


class Conversation:
    """Questions asked in sequence, each resolved against the earlier ones.

    ``conversation.ask(question)`` returns a ``Result`` of ``assistant.ask`` (see
    the module's docstring for how a follow-up is asked); ``reset()`` starts a new
    topic; ``turns`` holds the questions so far.
    """

    def __init__(self, assistant) -> None:
        self.assistant = assistant
        self.turns: list[Turn] = []
        self._doc_sentences: dict[str, list] = {}
        self._doc_order: dict[str, dict[int, int]] = {}

    def reset(self) -> None:
        self.turns.clear()

    def ask(self, question: str, top_k: int | None = None) -> Result:
        resolved = self.resolve(question)
        if not self.turns or not self.is_follow_up(question):
            result = self.assistant.ask(question, top_k=top_k)
        else:
            result = self._ask_in_context(question, resolved, top_k)
        person, from_conversation = self._referent(question)
        if from_conversation:
            confirmed = self._confirmed(person, result)
            if confirmed != person:  # say who the answer is about, not the first guess
                guessed = f"understood as: {resolved}"
                resolved = self.resolve(question, person=confirmed)
                notes = [f"understood as: {resolved}" if n == guessed else n for n in result.notes]
                result = dataclasses.replace(result, notes=notes)
                person = confirmed
        people = ([person] if person else []) + [p for p in _people_in(question, result) if p != person]
        self.turns.append(Turn(question, resolved, result, tuple(people)))
        return result

    # -- answering with context --------------------------------------------

    def _ask_in_context(self, question: str, resolved: str, top_k: int | None) -> Result:
        """Ask the question several ways, pool the cited sentences and rank them, with a
        bonus for being about the conversation's subject (see the module's docstring)."""
        k = max(top_k or self.assistant.top_k, _POOL)
        previous = self.turns[-1]
        variants = [question]
        variants.append(with_context(question, previous.resolved))
        if resolved != question:
            variants.append(resolved)
        results = [self.assistant.ask(v, top_k=k) for v in variants]
        pool: dict[tuple[str, int], object] = {}
        scores: list[dict[tuple[str, int], float]] = []
        for r in results:
            scores.append(_normalised({(c.doc, c.start): c.score for c in r.citations}))
            for c in r.citations:
                pool.setdefault((c.doc, c.start), c)
        person, from_conversation = self._referent(question)
        anchor = _anchor(previous.result)

        # With a person pronoun resolved, the question as typed matches the documents best
        # (they say "he" too); the other ways of asking only break ties towards the topic.
        weights = [_TYPED_WEIGHT] + [(1 - _TYPED_WEIGHT) / (len(scores) - 1)] * (len(scores) - 1)
        if not from_conversation:
            weights = [1 / len(scores)] * len(scores)

        def rank(key) -> float:
            base = sum(w * s.get(key, 0.0) for w, s in zip(weights, scores, strict=True))
            return base + self._context_bonus(pool[key], person, anchor)

        best_key = max(pool, key=rank) if pool else None
        chosen = self._answer_from(results, best_key, pool, resolved)
        k_out = max(1, top_k or self.assistant.top_k)
        notes = [n for n in chosen.notes if not n.startswith("question truncated")] + (
            [f"understood as: {resolved}"] if resolved != question else [f"follow-up to: {previous.resolved}"]
        )
        return dataclasses.replace(chosen, question=question, citations=chosen.citations[:k_out], notes=notes)

    def _answer_from(self, results: list[Result], best_key, pool: dict, resolved: str) -> Result:
        """The result to show: the first way of asking that put the winner on top, in the order
        resolved (the question made explicit), as typed, with context (extra words); else the
        winner moved to the top of the typed question's result."""
        if best_key is None:
            return results[0]
        for r in [*results[2:], results[0], results[1]]:
            if r.citations and (r.citations[0].doc, r.citations[0].start) == best_key:
                return r
        return self._with_top(results[0], pool[best_key], resolved)

    def _with_top(self, result: Result, citation, resolved: str) -> Result:
        """``result`` with ``citation`` moved to the top and the answer taken from it."""
        citations = [citation] + [c for c in result.citations if (c.doc, c.start) != (citation.doc, citation.start)]
        answer = result.answer
        if answer is not None:  # keep the assistant's decision to answer or abstain
            answer = self.assistant.extract(resolved, citation)
        return dataclasses.replace(result, answer=answer, citations=citations, corroboration=[])

    def _confirmed(self, person: str, result: Result) -> str:
        """The person a pronoun turned out to mean: the guess, unless the sentence that answered
        is about someone else (names them, and neither it nor the two before name the guess)."""
        top = _anchor(result)
        if top is None or top.start not in self._sentence_order(top.doc) or self._mentions(top, person):
            return person
        others = [n for n in names(top.text) if is_person_name(n)]
        return others[0] if others else person

    def _mentions(self, citation, person: str) -> bool:
        """Whether ``citation``'s sentence, or one of the two before it, names ``person``."""
        here = self._sentence_order(citation.doc).get(citation.start)
        if here is None:
            return False
        sentences = self._doc_sentences[citation.doc]
        window = " ".join(s.text for s in sentences[max(0, here - _MENTION_WINDOW) : here + 1])
        return re.search(rf"\b{re.escape(person.split()[-1])}\b", window) is not None

    def _context_bonus(self, citation, person: str | None, anchor) -> float:
        bonus = 0.0
        order = self._sentence_order(citation.doc)
        here = order.get(citation.start)
        if person and here is not None:
            if self._mentions(citation, person):
                bonus += _MENTION_BONUS
        elif anchor is not None and anchor.doc == citation.doc and here is not None:
            # without a person to follow, the previous answer's place is the context
            there = order.get(anchor.start)
            if there is not None and abs(here - there) <= _NEAR_SENTENCES:
                bonus += _NEAR_BONUS
        return bonus

    def _sentence_order(self, doc: str) -> dict[int, int]:
        if doc not in self._doc_order:
            sentences = self.assistant.store.document_sentences(doc)
            self._doc_sentences[doc] = sentences
            self._doc_order[doc] = {s.start: i for i, s in enumerate(sentences)}
        return self._doc_order[doc]

    def is_follow_up(self, question: str) -> bool:
        """Whether the question leans on earlier turns (a pronoun, or "And in Kyiv?")."""
        if _ELLIPSIS.match(question) and len(_ELLIPSIS.match(question).group("rest").split()) <= 6:
            return True
        tokens = list(_WORD.finditer(question))
        for i, m in enumerate(tokens):
            w = m.group().lower()
            if w in _PERSON_PRONOUNS or w == "her" or w in _THING_PRONOUNS - {"this", "that"}:
                return True
            if w in {"this", "that"} and self._is_pronoun(tokens, i):
                return True
            if w == "so" and i == len(tokens) - 1 and i and tokens[i - 1].group().lower() in _SAYING:
                return True  # "Who said so?"
        return False

    # -- resolving ---------------------------------------------------------

    def resolve(self, question: str, person: str | None = None) -> str:
        """The question with its pronouns (or ellipsis) filled in from earlier turns, where
        they can be resolved; otherwise the question as it is. Retrieval for a follow-up
        also uses the previous question (see ``_ask_in_context``). ``person`` overrides
        whom "he"/"she" is taken to be."""
        question = question.strip()
        if not self.turns:
            return question
        ellipsis = self._resolve_ellipsis(question)
        if ellipsis is not None:
            return ellipsis
        words = [m.group().lower() for m in _WORD.finditer(question)]
        if not any(w in _PERSON_PRONOUNS or w == "her" or w in _THING_PRONOUNS for w in words):
            return question
        if person is None:
            person, from_conversation = self._referent(question)
            if not from_conversation:
                person = None
        thing = self._antecedent_thing()
        out: list[str] = []
        pos = 0
        tokens = list(_WORD.finditer(question))
        for i, m in enumerate(tokens):
            word = m.group().lower()
            replacement = None
            if word in _PERSON_PRONOUNS or word == "her":
                if person:  # the first pronoun only: "How did Ada Quill send her message?"
                    named, person = person, None
                    if word == "her":
                        following = tokens[i + 1].group().lower() if i + 1 < len(tokens) else ""
                        possessive = following and following not in _OPENERS and not following.endswith(("ed", "ing"))
                        replacement = f"{named}'s" if possessive else named
                    else:
                        replacement = _PERSON_PRONOUNS[word].format(name=named)
            elif word in {"it", "its"} or (word in {"this", "that"} and self._is_pronoun(tokens, i)):
                if thing:
                    replacement = thing if word != "its" else f"{thing}'s"
            if replacement is not None:
                out.append(question[pos : m.start()])
                out.append(replacement)
                pos = m.end()
        out.append(question[pos:])
        return "".join(out)

    @staticmethod
    def _is_pronoun(tokens: list[re.Match], i: int) -> bool:
        """"this"/"that" alone ("Who asked for this?"), not a determiner ("this week") or a conjunction."""
        if i + 1 >= len(tokens):
            return True
        nxt = tokens[i + 1].group().lower()
        prev = tokens[i - 1].group().lower() if i else ""
        return nxt in _OPENERS and prev not in {"said", "says", "say", "think", "know", "believe", "so"}

    def _referent(self, question: str) -> tuple[str | None, bool]:
        """Who the question's first personal pronoun refers to, and whether that came from
        the conversation (rather than a name earlier in the question itself)."""
        for m in _WORD.finditer(question):
            if m.group().lower() in _PERSON_PRONOUNS or m.group().lower() == "her":
                before = [n for n in names(question[: m.start()])]
                if before:
                    return before[-1], False
                person = self._antecedent_person(question)
                return person, person is not None
        return None, False

    def _antecedent_person(self, question: str) -> str | None:
        """The person "he"/"she" in ``question`` points to: the most recent one the conversation
        was about, other than someone the question names itself ("Where did he meet Lavrov?")."""
        named = {w.lower() for w in _WORD.findall(question)}
        for turn in reversed(self.turns):
            for person in turn.people:
                if person.split()[-1].lower() not in named:
                    return person
        return None

    def _antecedent_thing(self) -> str | None:
        last = self.turns[-1]
        answer = last.result.answer
        if answer is not None and _is_short_span(answer.text) and not is_person_name(answer.text):
            return answer.text.strip(" .,;:")
        return None

    def _resolve_ellipsis(self, question: str) -> str | None:
        m = _ELLIPSIS.match(question)
        if not m or not m.group("rest"):
            return None
        rest = m.group("rest")
        if len(rest.split()) > 6:  # "And who ordered the strike?" is a full question
            return None
        fragment = _PREPOSITION.sub("", rest)
        previous = self.turns[-1].resolved
        old = names(previous)
        new = names(fragment)
        if old and new:
            return previous.replace(old[-1], new[0]) if old[-1] in previous else f"{previous} {fragment}"
        return f"{previous.rstrip('?')} {rest}?"


__all__ = ["Conversation", "Turn", "is_person_name", "names"]

"""Training labels for the rewriting resolver, made from a question and a person's rewrite of it.

The rewrite is aligned with the question word by word (``difflib.SequenceMatcher`` on lower-cased
words). Each edit (a run of question words replaced, or words inserted between two question words)
brings new words; a rewrite that puts "'s" after them ("his" -> "Zappa's") makes the edit
possessive (the "'s" is not one of the new words). For each edit, the run of its new words that the
history holds (contiguous, case-insensitive) with the most content words, the longest of equals, is
looked for at its newest occurrence: the latest history item, and within it the last. The turn's
edits are the (at most two) whose found runs hold the most content words; when no edit's words are
in the history, the edit with the most content words, with no span.

CANARD's people often open a rewrite with what the answer should leave out ("Besides the
altercation, are there any other ...?"). The model can only copy history spans, not the "Besides",
so it learns to put a bare span in front of the question ("Corran Estuary bridge What else ...?").
With ``skip_excluding`` (``train_resolver.py --skip-excluding 1``) such an opening, when it goes in
before the question's first word, is not an edit. ``EXCLUDING`` lists those openings.

The stopword list (scikit-learn's, the one ``benchmarks/canard.py`` scores with) and ``EXCLUDING``
only label data; they stay here, in training: the product writes no rewrite from a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

#: The question-side tags (``qa.resolver.TAGS``): what happens at each question word, and at the end
#: of the question (where only the insertions apply).
KEEP, REPLACE, REPLACE_POSSESSIVE, INSERT, INSERT_POSSESSIVE = range(5)
#: Openings of a rewrite that say what to leave out (lower-cased words).
EXCLUDING = (("besides",), ("other", "than"), ("in", "addition", "to"), ("apart", "from"), ("aside", "from"))


@dataclass(frozen=True)
class Edit:
    """Question words ``[q_start, q_end)`` replaced (``q_start == q_end``: words put in before
    question word ``q_start``, or at the end when it is the number of words) by the rewrite's
    ``new`` words (lower-cased, without a possessive "'s"); ``text`` is them as the rewrite has them."""

    q_start: int
    q_end: int
    new: tuple[str, ...]
    text: str
    possessive: bool
    content: int  # how many of ``new`` are content words the question lacks


@dataclass(frozen=True)
class Span:
    """Where the words that go in are in the history: item, first and last word (inclusive)."""

    item: int
    first: int
    last: int


def edits(
    question: list[str], rewrite: str, rewrite_words: list[tuple[str, int, int]], stop, skip_excluding: bool = False
) -> list[Edit]:
    """The rewrite's edits of the question (lower-cased ``question`` words; the rewrite's words with
    their offsets). Deletions are not edits: nothing goes in; with ``skip_excluding``, neither is an
    ``EXCLUDING`` opening before the first word."""
    r = [w.lower() for w, _, _ in rewrite_words]
    in_question = set(question)
    out = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, question, r, autojunk=False).get_opcodes():
        if op not in ("replace", "insert"):
            continue
        possessive = False
        if j2 - j1 >= 2 and r[j2 - 1] == "s":
            between = rewrite[rewrite_words[j2 - 2][2] : rewrite_words[j2 - 1][1]]
            if between in ("'", "\u2019"):
                possessive = True
                j2 -= 1
        new = tuple(r[j1:j2])
        if skip_excluding and i1 == 0 and any(new[: len(x)] == x for x in EXCLUDING):
            continue  # "Besides X, ..." before the first word: not something a span can say
        content = sum(1 for w in new if w not in stop and w not in in_question)
        text = rewrite[rewrite_words[j1][1] : rewrite_words[j2 - 1][2]]
        out.append(Edit(i1, i2, new, text, possessive, content))
    return out


def newest_occurrence(run: tuple[str, ...], history: list[list[str]]) -> Span | None:
    """The newest contiguous occurrence of ``run`` (lower-cased words) in the history's words."""
    n = len(run)
    for item in range(len(history) - 1, -1, -1):
        words = history[item]
        for first in range(len(words) - n, -1, -1):
            if tuple(words[first : first + n]) == run:
                return Span(item, first, first + n - 1)
    return None


def found_run(edit: Edit, history: list[list[str]], in_question: set[str], stop) -> tuple[int, Span] | None:
    """The run of ``edit``'s new words in the history with the most content words (the longest of
    equals; at its newest occurrence) and how many content words it holds; None if none is there."""
    best = None
    for i in range(len(edit.new)):
        for j in range(i + 1, len(edit.new) + 1):
            run = edit.new[i:j]
            content = sum(1 for w in run if w not in stop and w not in in_question)
            if content == 0 or (best is not None and (content, j - i) <= best[0]):
                continue
            span = newest_occurrence(run, history)
            if span is not None:
                best = ((content, j - i), span)
    return (best[0][0], best[1]) if best else None


def label(
    question: list[str],
    rewrite: str,
    rewrite_words: list[tuple[str, int, int]],
    history: list[list[str]],
    stop,
    most: int,
    skip_excluding: bool = False,
) -> list[tuple[Edit, Span | None]]:
    """The turn's edits (at most ``most``) and where their words are in the history (``question``
    and ``history``: lower-cased words); none when the rewrite brings no content word in."""
    found = edits(question, rewrite, rewrite_words, stop, skip_excluding)
    in_question = set(question)
    located = [(run, e) for e in found if e.content and (run := found_run(e, history, in_question, stop))]
    if located:
        located.sort(key=lambda x: x[0][0], reverse=True)
        return [(e, span) for (_, span), e in located[:most]]
    main = max(found, key=lambda e: e.content, default=None)
    return [(main, None)] if main is not None and main.content > 0 else []


def question_tags(n_words: int, edits: list[Edit]) -> list[int]:
    """A tag per question word and one more for the end of the question."""
    tags = [KEEP] * (n_words + 1)
    for edit in edits:
        if edit.q_start > n_words:
            continue
        if edit.q_start < edit.q_end:
            for i in range(edit.q_start, min(edit.q_end, n_words)):
                tags[i] = REPLACE_POSSESSIVE if edit.possessive else REPLACE
        else:
            tags[edit.q_start] = INSERT_POSSESSIVE if edit.possessive else INSERT
    return tags

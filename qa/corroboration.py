"""Corroboration: which cited documents agree with the answer, and which give another one.

The first group holds the answer and every cited sentence, one per document, that states the
same answer to the same question ("2 sources"): it contains the answer, the reader's best span
in it for the question is the answer (normalised), the reader is sure it holds an answer (its
margin over no answer is at least ``SUPPORT_MARGIN``), and it is about the question (it covers
nearly as many of the question's content words as the answer's sentence does). A sentence that
merely mentions the answer ("built at the Dunmore factory" for "Where was the first garage?")
does not count. The cuts were chosen on the fit half of a labelled sample and checked on the
other (``benchmarks/corroboration.py``, ``docs/corroboration.md``). A cited sentence from
another document that is about the same question (it covers as much of the
question's wording as the top sentence does, nearly) but whose own answer of
the same kind differs (another number, another spelling) starts another group,
so the reader sees the disagreement. Rival answers are numbers or dates when the answer is
one, or close spellings of the same name ("Sergey" / "Sergei"); other differing spans
are not counted as disagreement.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from qa.results import Corroboration
from qa.text import content_words
from qa.text import normalize_answer as normalise


#: The reader's margin (best span over no answer) from which a sentence states an answer, and how
#: much smaller a share of the question's content words it may cover than the answer's sentence.
#: Chosen on the fit half of the labelled supports (``benchmarks/labels/``): the cuts that keep the
#: most true supports with precision >= .95 there; the check half is in ``docs/corroboration.md``.
SUPPORT_MARGIN = 5.5
SUPPORT_COVER_GAP = 0.35


def _contains(sentence: str, answer: str) -> bool:
    a = normalise(answer)
    return bool(a) and f" {a} " in f" {normalise(sentence)} "


def _is_quantity(text: str) -> bool:
    return bool(re.search(r"\d", text)) or bool(_QUANTITY.fullmatch(text.strip()))


_QUANTITY = re.compile(
    r"(?i)(?:one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?)(?:\s+\w+)?"
)


def _conflicts(answer: str, other: str) -> bool:
    """Whether ``other`` is a rival value for ``answer``: another number or date when the
    answer is one, or another spelling of the same name (close but not equal)."""
    if _is_quantity(answer):
        return _is_quantity(other)
    return difflib.SequenceMatcher(None, normalise(answer), normalise(other)).ratio() >= 0.75


def corroborate(
    question: str,
    answer,
    citations: list,
    extract: Callable,
    margin: Callable | None = None,
) -> list:
    """Group ``answer`` and the variants found in ``citations`` (see the module docstring).

    ``extract(question, citation)`` returns the ``Answer`` a citation would give and
    ``margin(citation)`` the reader's margin for it; without ``margin``, a sentence about the
    question whose answer is the same supports it.
    Returns a list of ``qa.results.Corroboration``; the first supports ``answer``.
    """
    if answer is None or not citations:
        return []
    q_words = content_words(question)

    def coverage(text: str) -> float:
        return len(q_words & content_words(text)) / len(q_words) if q_words else 0.0

    top = answer.citation
    top_cover = coverage(top.text)
    typed = answer.kind == "span"
    support = [top]
    groups: dict[str, list] = {}
    labels: dict[str, str] = {}
    used_docs = {top.doc}

    def states_answer(c) -> bool:
        if coverage(c.text) < top_cover - SUPPORT_COVER_GAP:
            return False
        said = extract(question, c)
        if said.kind != "span" or normalise(said.text) != normalise(answer.text):
            return False
        return margin is None or margin(c) >= SUPPORT_MARGIN

    for c in citations:
        if c.doc in used_docs:
            continue
        if typed and _contains(c.text, answer.text):
            if states_answer(c):
                support.append(c)
                used_docs.add(c.doc)
            continue
        if not typed:
            if normalise(c.text) == normalise(top.text):
                support.append(c)
                used_docs.add(c.doc)
            continue
        cover_c = coverage(c.text)
        if cover_c < 0.5 or cover_c < top_cover - 0.2:
            continue
        other = extract(question, c)
        if other.kind == "sentence":
            continue  # no typed answer in it
        key = normalise(other.text)
        if not key or key == normalise(answer.text):
            continue
        if not _conflicts(answer.text, other.text):
            continue
        groups.setdefault(key, []).append(c)
        labels.setdefault(key, other.text)
        used_docs.add(c.doc)
    out = [Corroboration(answer.text, support)]
    out += [Corroboration(labels[k], cs) for k, cs in groups.items()]
    return out

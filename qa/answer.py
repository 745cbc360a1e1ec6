"""Choosing the answer span inside the best supporting sentence.

Candidates are verbatim spans of the sentence: numbers and quantities, dates,
runs of capitalised words (names, places, organisations) and quoted phrases.
The question's wording decides which kind it wants ("how many" a number,
"when" a date, "who" a name). Candidates that repeat the question's own words
are dropped, and ties go to the candidate nearest to the words the question
shares with the sentence. When no candidate fits, the answer is the whole
sentence, which is always a correct (if long) extractive answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|dozens|half"
)

PATTERNS = {
    "date": re.compile(
        rf"\b(?:(?:{_DAYS}),?\s+)?(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:,\s*\d{{4}})?|\d{{1,2}}\s+(?:{_MONTHS})(?:\s+\d{{4}})?"
        rf"|(?:{_MONTHS})\s+\d{{4}}|(?:in\s+)?(?:1[6-9]|20)\d\d|{_DAYS})\b"
    ),
    "number": re.compile(
        rf"(?:[$€£]\s?)?\b\d[\d,.]*(?:\s?%|\s+(?:percent|million|billion|thousand|hundred))?"
        rf"(?:[-\s](?:[a-z]+))?|\b(?:{_NUMBER_WORDS})(?:\s+(?:of\s+)?(?:{_NUMBER_WORDS}))*\b",
        re.IGNORECASE,
    ),
    "name": re.compile(
        r"\b(?:[A-Z][\w’'-]*\.?)(?:\s+(?:of\s+the\s+|of\s+|de\s+|al-\s*)?[A-Z][\w’'-]*\.?)*"
    ),
    "quote": re.compile(r"[“\"]([^”\"]{3,200})[”\"]"),
}

_WH = [
    ("number", re.compile(r"\bhow (many|much|long|old|far|often)\b|\bwhat (number|percentage|figure|amount)\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat (year|day|date|month|time)\b|\bwhich (year|day|date|month)\b", re.I)),
    ("name", re.compile(r"\bwho(m|se)?\b|\bwhere\b|\bwhich (country|city|town|outlet|organi[sz]ation|company|person|newspaper|network)\b", re.I)),
]

_STOP = set(
    "a an the of to in on at for by with from and or but is are was were be been being has have had do does did "
    "what which who whom whose when where why how many much that this these those it its his her their he she they "
    "as into about than then there said says say tell told according not no".split()
)
_WORD = re.compile(r"[\w’']+")


@dataclass(frozen=True)
class Span:
    start: int  # offsets into the sentence text
    end: int
    kind: str
    score: float


def _content_words(text: str) -> set[str]:
    return {w.lower().strip("’'") for w in _WORD.findall(text) if w.lower() not in _STOP}


def question_kind(question: str) -> str | None:
    for kind, pattern in _WH:
        if pattern.search(question):
            return kind
    return None


def _candidates(sentence: str) -> list[tuple[int, int, str]]:
    out = []
    for kind, pattern in PATTERNS.items():
        for m in pattern.finditer(sentence):
            s, e = (m.start(1), m.end(1)) if kind == "quote" else (m.start(), m.end())
            s, e = _trim(sentence, s, e)
            if e > s:
                out.append((s, e, kind))
    return out


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while e > s and text[e - 1] in " ,.;:’'\"”)":
        if text[e - 1] == "." and re.search(r"\b[A-Z]\.$|\b(?:U\.S|a\.m|p\.m)\.$", text[s:e]):
            break
        e -= 1
    while s < e and text[s] in " ,;:“\"(":
        s += 1
    return s, e


def extract_span(question: str, sentence: str) -> Span | None:
    """The best answer span of ``sentence`` for ``question``, or None to use the whole sentence."""
    wanted = question_kind(question)
    if wanted is None:
        return None
    q_words = _content_words(question)
    anchors = [m.start() for m in _WORD.finditer(sentence) if m.group().lower().strip("’'") in q_words]
    best: Span | None = None
    for s, e, kind in _candidates(sentence):
        if kind != wanted and not (wanted == "number" and kind == "date"):
            continue
        words = _content_words(sentence[s:e])
        if not words or words <= q_words:
            continue  # repeats the question
        if words & q_words:
            continue
        # sentence-initial capitalised words are often not names
        if kind == "name" and s == 0 and len(words) == 1 and e - s < 4:
            continue
        distance = min((abs(a - s) for a in anchors), default=len(sentence))
        score = (2.0 if kind == wanted else 1.0) - distance / (len(sentence) + 1)
        if best is None or score > best.score:
            best = Span(s, e, kind, score)
    return best

"""Synthetic follow-ups whose subject is the newest one: the previous answer names it.

From SQuAD train: on one paragraph, question B's answer (a name: one to five words, one of them
capitalised) occurs in a later question C, and another question A does not mention it. The history
is ``[article title, A, A's answer, B, B's answer]`` (half of them without the title; an answer is
the paragraph's sentence that holds it, as a reader answers in a conversation); the follow-up
is C with B's answer replaced by a pronoun; C as asked is the rewrite. So the referent is in the
newest item, an answer, after another subject (A's). The pronoun: for a "who" question B, "he" or
"she" by which of them (with "his", "him"; "her", "hers") the paragraph uses more ("they" when
neither); else "it"; the possessive form when C has the name followed by "'s", the object form
after a preposition (C is skipped when an article comes before the name).

These word lists only make training data: they stay here, in training/.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

MALE = {"he", "his", "him", "himself"}
FEMALE = {"she", "her", "hers", "herself"}
POSSESSIVE = {"he": "his", "she": "her", "it": "its", "they": "their"}
OBJECT = {"he": "him", "she": "her", "it": "it", "they": "them"}
ARTICLES = {"the", "a", "an"}
PREPOSITIONS = {"of", "to", "by", "with", "for", "from", "about", "against", "on", "at", "in", "into", "than"}


def pronoun_for(b: dict) -> str:
    if not b["question"].lower().startswith("who"):
        return "it"
    words = re.findall(r"[a-z]+", b["context"].lower())
    male, female = sum(w in MALE for w in words), sum(w in FEMALE for w in words)
    return "he" if male > female else "she" if female > male else "they"


def is_name(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 5 and any(w[:1].isupper() for w in words)


def follow_up(a: dict, b: dict, c: dict) -> tuple[str, str] | None:
    """C with B's answer replaced by a pronoun, and C as asked; None when C does not name B's answer
    (not as its first words) or A does."""
    name = b["answers"][0]["text"].strip()
    if not is_name(name) or name in a["question"] or name in b["question"] or name in answer_sentence(a):
        return None
    question = c["question"]
    at = question.find(name)
    if at <= 0:
        return None
    before = question[:at].split()[-1:]
    if before and before[0].lower() in ARTICLES:
        return None
    pronoun = pronoun_for(b)
    rest = question[at + len(name) :]
    if rest.startswith(("'s", "\u2019s")):
        pronoun, rest = POSSESSIVE[pronoun], rest[2:]
    elif before and before[0].lower() in PREPOSITIONS:
        pronoun = OBJECT[pronoun]
    return question[:at] + pronoun + rest, question


def answer_sentence(r: dict) -> str:
    """The sentence of ``r``'s paragraph that holds its answer."""
    from qa.sentences import split_sentences

    at = r["answers"][0]["start"]
    for start, end in split_sentences(r["context"]):
        if start <= at < end:
            return r["context"][start:end]
    return r["answers"][0]["text"]


def synthetic_follow_ups(path: Path, limit: int, rng: random.Random) -> list[dict]:
    """Up to ``limit`` follow-ups ``{"question", "history", "rewrite"}``, at most one a paragraph."""
    by_paragraph: dict[str, list[dict]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            by_paragraph.setdefault(r["context"], []).append(r)
    paragraphs = [rows for rows in by_paragraph.values() if len(rows) >= 3]
    rng.shuffle(paragraphs)
    out = []
    for rows in paragraphs:
        if len(out) >= limit:
            break
        triples = [(a, b, c) for b in rows for c in rows if c is not b for a in rows if a is not b and a is not c]
        rng.shuffle(triples)
        for a, b, c in triples[:200]:
            made = follow_up(a, b, c)
            if made is None:
                continue
            history = [a["question"], answer_sentence(a), b["question"], answer_sentence(b)]
            if rng.random() < 0.5:
                history = [a["title"], *history]
            out.append({"question": made[0], "history": history, "rewrite": made[1]})
            break
    return out

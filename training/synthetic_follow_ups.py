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

``title_follow_ups`` makes the other kind: the referent is the article's subject, named only by the
title. C names the title (the whole of it, or, for a title of two or three capitalised words, its last
word: a person's surname); A, B and their answers do not, and B's answer is no name (so no newer
subject is in play). The history is ``[title, A, A's answer, B, B's answer]``; the pronoun is "he" or
"she" when the title reads as a person's name (two to four capitalised words) and the paragraph uses
that pronoun more than the other and "it"; else "it".

These word lists only make training data: they stay here, in training/.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

MALE = {"he", "his", "him", "himself"}
FEMALE = {"she", "her", "hers", "herself"}
POSSESSIVE = {"he": "his", "she": "her", "it": "its", "they": "their"}
OBJECT = {"he": "him", "she": "her", "it": "it", "they": "them"}
ARTICLES = {"the", "a", "an"}
#: The words a name may follow in a title follow-up: scikit-learn's stopwords (which label CANARD's rewrites),
#: and the auxiliaries they lack
STOPWORDS = ENGLISH_STOP_WORDS | {"did", "does"}
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


def with_pronoun(question: str, at: int, name: str, pronoun: str) -> str | None:
    """``question`` with ``name`` (at ``at``) replaced by ``pronoun``, in the form its place needs; None
    when the name opens the question or follows an article."""
    if at <= 0:
        return None
    before = question[:at].split()[-1:]
    if before and before[0].lower() in ARTICLES:
        return None
    rest = question[at + len(name) :]
    if rest.startswith(("'s", "\u2019s")):
        pronoun, rest = POSSESSIVE[pronoun], rest[2:]
    elif before and before[0].lower() in PREPOSITIONS:
        pronoun = OBJECT[pronoun]
    return question[:at] + pronoun + rest


def follow_up(a: dict, b: dict, c: dict) -> tuple[str, str] | None:
    """C with B's answer replaced by a pronoun, and C as asked; None when C does not name B's answer
    (not as its first words) or A does."""
    name = b["answers"][0]["text"].strip()
    if not is_name(name) or name in a["question"] or name in b["question"] or name in answer_sentence(a):
        return None
    question = c["question"]
    made = with_pronoun(question, question.find(name), name, pronoun_for(b))
    return (made, question) if made is not None else None


def answer_sentence(r: dict) -> str:
    """The sentence of ``r``'s paragraph that holds its answer."""
    from qa.sentences import split_sentences

    at = r["answers"][0]["start"]
    for start, end in split_sentences(r["context"]):
        if start <= at < end:
            return r["context"][start:end]
    return r["answers"][0]["text"]


def synthetic_follow_ups(path: Path, limit: int, rng: random.Random) -> list[dict]:
    """Up to ``limit`` follow-ups ``{"question", "history", "rewrite", "source"}``, at most one a paragraph;
    ``source`` holds the ids of the SQuAD questions A, B and C."""
    return _made(path, limit, rng, follow_up, always_title=False)


def _made(path: Path, limit: int, rng: random.Random, make, always_title: bool) -> list[dict]:
    """Up to ``limit`` follow-ups made by ``make(a, b, c)``, at most one a paragraph; the title opens
    the history always, or half the time."""
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
            made = make(a, b, c)
            if made is None:
                continue
            history = [a["question"], answer_sentence(a), b["question"], answer_sentence(b)]
            if always_title or rng.random() < 0.5:
                history = [a["title"], *history]
            source = [a["id"], b["id"], c["id"]]
            out.append({"question": made[0], "history": history, "rewrite": made[1], "source": source})
            break
    return out


def title_mention(title: str, question: str) -> re.Match | None:
    """Where ``question`` names ``title``: the whole title, or the last word of a title of two or three
    capitalised words."""
    words = title.split()
    names = [title]
    if 2 <= len(words) <= 3 and all(w[:1].isupper() and w.isalpha() for w in words):
        names.append(words[-1])
    for name in names:
        found = re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", question)
        if found:
            return found
    return None


def title_follow_up(a: dict, b: dict, c: dict) -> tuple[str, str] | None:
    """C with the title's subject replaced by a pronoun, and C as asked; None unless C names the
    title as a noun of its own (after a stopword, not joined to other words by a hyphen or quotes)
    and A, B and their answers do not, and B's answer is no name."""
    title, question = c["title"], c["question"]
    found = title_mention(title, question)
    if found is None or is_name(b["answers"][0]["text"].strip()):
        return None
    before, after = question[: found.start()].split()[-1:], question[found.end() :]
    if not before or before[0].lower() not in STOPWORDS or before[0][-1:] in "-\"'\u201c\u2018":
        return None
    if after[:1] in ("-", '"', "\u201d") or (after[:1] == "'" and not after.startswith("'s")):
        return None
    for other in (a["question"], answer_sentence(a), b["question"], answer_sentence(b)):
        if title_mention(title, other) is not None:
            return None
    words = re.findall(r"[a-z]+", c["context"].lower())
    male, female, it = (sum(w in group for w in words) for group in (MALE, FEMALE, {"it", "its"}))
    pronoun = "it"
    if 2 <= len(title.split()) <= 4 and all(w[:1].isupper() and w.isalpha() for w in title.split()):  # a person's name?
        pronoun = "he" if male > max(female, it) else "she" if female > max(male, it) else "it"
    made = with_pronoun(question, found.start(), found.group(0), pronoun)
    return (made, question) if made is not None else None


def title_follow_ups(path: Path, limit: int, rng: random.Random) -> list[dict]:
    """Up to ``limit`` follow-ups whose referent the title names, at most one a paragraph."""
    return _made(path, limit, rng, title_follow_up, always_title=True)

"""Answer measures: gold contained in the answer, SQuAD exact match and F1.

Normalisation is SQuAD's (lower case, drop punctuation and the articles a/an/the,
collapse whitespace), with Unicode punctuation (curly quotes, dashes) dropped
as well as ASCII, so that "city’s" and "city's" compare equal.
"""

from __future__ import annotations

from collections import Counter

from qa.text import normalize_answer as normalize


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize(prediction) == normalize(gold))


def f1(prediction: str, gold: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains(prediction: str, gold: str) -> float:
    """1 when the normalised gold answer occurs in the normalised prediction (word-aligned)."""
    g, p = normalize(gold), normalize(prediction)
    return float(bool(g) and f" {g} " in f" {p} ")


def score_answer(prediction: str | None, golds) -> dict[str, float]:
    """Best ``contains``/``em``/``f1`` of ``prediction`` (None: abstained, scores 0) over ``golds``."""
    golds = [g for g in golds if normalize(g)]
    if not golds:
        raise ValueError("no gold answers")
    prediction = prediction or ""
    return {
        "contains": max(contains(prediction, g) for g in golds),
        "em": max(exact_match(prediction, g) for g in golds),
        "f1": max(f1(prediction, g) for g in golds),
    }

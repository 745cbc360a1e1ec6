"""Answer measures: gold contained in the answer, SQuAD exact match and F1.

Normalisation and containment are exactly those of the shared checker
(``../shared/eval/score.py``), so that ``qa eval`` and it agree: SQuAD's
normalisation (lower case, drop ASCII punctuation, the curly quotes and the
en and em dashes, then the articles a/an/the, collapse whitespace), and a gold
answer is contained in an answer when its normalised text occurs in the
answer's (``Red Cross`` in ``Red Cross’s delegation``).
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
    """1 when the normalised gold answer occurs in the normalised prediction (as the shared checker)."""
    g, p = normalize(gold), normalize(prediction)
    return float(bool(g) and g in p)


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

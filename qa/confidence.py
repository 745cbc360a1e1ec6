"""Calibrated confidence that the index answers the question, and so when to abstain.

A logistic model over cheap features of the ranked sentences and of the reader's
reading of them: how close the best sentence is (cosine, and its margin over the
2nd and 10th), how much of the question's vocabulary it and its neighbours cover
(weighted by inverse document frequency, so it does not depend on the corpus
size), whether the question's names appear near the top at all, and how sure the
reader is that the cited sentence holds an answer (its best span's score over its
no-answer score).

The weights live in ``qa/confidence_weights.py`` as plain numbers, fitted by
``benchmarks/fit_confidence.py`` on dev data only: answerable questions against the full
corpus as positives; as negatives, the same questions with their own story (NarrativeQA)
or paragraph (SQuAD dev split) removed, and SQuAD 2.0's unanswerable questions (its fitting
articles; docs/abstention.md). The output is a probability;
``qa.defaults.DEFAULT_THRESHOLD`` is the abstention cut-off.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from qa.confidence_weights import FEATURES, INTERCEPT, MEANS, SCALES, WEIGHTS
from qa.text import WORD, content_words, norm_word, question_names


@functools.lru_cache(maxsize=64)
def _document_words(text: str) -> frozenset[str]:
    return frozenset(norm_word(w) for w in WORD.findall(text))


def idf_coverage(store, question: str, texts: list[str]) -> float:
    """Share of the question's stemmed-term IDF mass found in ``texts`` (0..1)."""
    from qa.index.bm25 import tokenize

    terms = set(tokenize([question])[0])
    idf = store.term_weights(question)
    if not terms or not idf:
        return 0.0
    found = set()
    for t in tokenize(texts):
        found.update(t)
    weights = {t: idf.get(t, 0.0) for t in terms}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in found) / total if total > 0 else 0.0


def _bm25_norm(store, question: str, hit) -> float:
    """BM25 of the top sentence over the most any sentence could score (the sum of the
    question terms' IDFs times (k1 + 1), over the same terms the search used, a country's other
    form included), so it does not depend on the corpus size."""
    idf = store.term_weights(question)
    if not idf:
        return 0.0
    top = sum(idf.values()) * (store.bm25_k1 + 1)
    return float(hit.bm25) / top if top > 0 else 0.0


def features(store, question: str, hits, texts: list[str], window: list[str], coverage, reading) -> dict[str, float]:
    """Confidence features for ``hits`` (in retrieval order) whose cited sentence texts are
    ``texts`` (the answer's sentence first); ``window`` is that sentence with its neighbours;
    ``coverage`` is each question content token's best cosine in that sentence and in its
    window (``qa.rerank.token_coverage``), when token vectors are stored; ``reading`` is the
    reader's (``qa.assistant.Reading``)."""
    cos = [h.cosine for h in hits] or [0.0]
    top = cos[0]
    q_words = content_words(question)
    top_words = content_words(texts[0]) if texts else set()
    names = question_names(question)
    seen = set()
    for t in texts[:5]:
        seen |= {norm_word(w) for w in WORD.findall(t)}
    doc_words: frozenset[str] = frozenset()
    if hits:
        top_doc = store.sentences([hits[0].sentence_id])
        if top_doc:
            doc_words = _document_words(store.text(top_doc[0].doc))
    maxsims = [h.maxsim for h in hits if h.maxsim]
    cover1, cover_window = coverage if coverage is not None and len(coverage[0]) else (np.ones(1), np.ones(1))
    cited = reading.citations[0].sentence_id if reading.citations else None
    span = reading.spans.get(cited)
    margins = reading.margins or [0.0]
    return {
        "tokcover_min1": float(cover1.min()),
        "tokcover_low2_1": float(np.sort(cover1)[:2].mean()),
        "tokcover_min_window": float(cover_window.min()),
        "maxsim1": hits[0].maxsim if hits else 0.0,
        "maxsim1_minus_mean": (hits[0].maxsim - float(np.mean(maxsims))) if hits and maxsims else 0.0,
        "bm25_norm1": _bm25_norm(store, question, hits[0]) if hits else 0.0,
        "names_missing_doc": len(names - doc_words) / len(names) if names else 0.0,
        "words_missing_doc": len(q_words - doc_words) / len(q_words) if q_words else 0.0,
        "cos1": top,
        "cos1_minus_cos2": top - (cos[1] if len(cos) > 1 else 0.0),
        "cos1_minus_cos10": top - (cos[min(9, len(cos) - 1)] if len(cos) > 1 else 0.0),
        "cos_max": max(cos),
        "idf_cover1": idf_coverage(store, question, texts[:1]) if texts else 0.0,
        "idf_cover_window": idf_coverage(store, question, window) if window else 0.0,
        "idf_cover5": idf_coverage(store, question, texts[:5]) if texts else 0.0,
        "word_cover1": len(q_words & top_words) / len(q_words) if q_words else 0.0,
        "names_missing5": len(names - seen) / len(names) if names else 0.0,
        "has_names": float(bool(names)),
        "question_words": math.log1p(len(q_words)),
        "read_margin": _squash(span.margin) if span else 0.0,
        "read_score": _squash(span.score) if span else 0.0,
        "read_margin_max": _squash(max(margins)),
        "read_margins_positive": sum(m > 0 for m in margins) / len(margins),
        "yes_no": float(reading.yes_no),
        "read_null": _squash(span.null) if span else 0.0,
    }


def _squash(x: float) -> float:
    """Reader logits (unbounded) into a range a linear model handles: x / (1 + |x| / 10)."""
    if not math.isfinite(x):
        return -10.0 if x < 0 else 10.0
    return x / (1 + abs(x) / 10)


def probability(feats: dict[str, float]) -> float:
    x = np.array([feats[f] for f in FEATURES], dtype=np.float64)
    z = INTERCEPT + float(np.dot((x - np.array(MEANS)) / np.array(SCALES), np.array(WEIGHTS)))
    return 1.0 / (1.0 + math.exp(-z))

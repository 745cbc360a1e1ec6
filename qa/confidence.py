"""Calibrated confidence that the index answers the question, and so when to abstain.

A logistic model over cheap features of the ranked sentences: how close the
best sentence is (cosine, and its margin over the 2nd and 10th), how much of
the question's vocabulary it and its neighbours cover (weighted by inverse
document frequency, so it does not depend on the corpus size), whether the
question's names appear near the top at all, and whether the answer type the
question asks for ("how many", "when", "who") is present in the top sentence.

Near misses, where the right document is there but does not say what is asked
("Who *mediated* the talks between Lavrov and Kuleba?" against an article about
the talks), get two answer-type checks of their own (``near_miss_features``):
whether a "who"/"where" question's answer span is a name at all (not a
description, and for "who" not a nationality such as "Russian"), and whether a
"how many X" question's number in the top sentence counts X.

The weights live in ``qa/confidence_weights.py`` as plain numbers, fitted by
``benchmarks/fit_confidence.py`` on half of the NarrativeQA stories (answerable
questions against the full corpus as positives, the same questions with their
own story removed as negatives) and checked on the other half. The output is a
probability; ``qa.defaults.DEFAULT_THRESHOLD`` is the abstention cut-off.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np

from qa.confidence_weights import FEATURES, INTERCEPT, MEANS, SCALES, WEIGHTS

_WORD = re.compile(r"[\w’']+")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+)*")
_STOP = set(
    "a an the of to in on at for by with from and or but is are was were be been being has have had do does did "
    "what which who whom whose when where why how many much that this these those it its his her their he she they "
    "as into about than then there not no i you we me my your our him them".split()
)


def _norm(word: str) -> str:
    """Lower case, straight apostrophes, no possessive: "Ukraine’s" -> "ukraine"."""
    w = word.lower().replace("’", "'").strip("'")
    return w[:-2] if w.endswith("'s") else w


def content_words(text: str) -> set[str]:
    return {_norm(w) for w in _WORD.findall(text) if _norm(w) not in _STOP and len(w) > 1}


def question_names(question: str) -> set[str]:
    """Capitalised words of the question past its first word (likely names)."""
    words = _WORD.findall(question)
    return {_norm(w) for w in words[1:] if w[:1].isupper() and _norm(w) not in _STOP}


@functools.lru_cache(maxsize=64)
def _document_words(text: str) -> frozenset[str]:
    return frozenset(_norm(w) for w in _WORD.findall(text))


def idf_coverage(store, question: str, texts: list[str]) -> float:
    """Share of the question's stemmed-term IDF mass found in ``texts`` (0..1)."""
    from qa.lexical import tokenize

    bm25 = store.bm25
    terms = set(tokenize([question])[0])
    if not terms or bm25.model is None:
        return 0.0
    found = set()
    for t in tokenize(texts):
        found.update(t)
    weights = {t: bm25.idf(t) for t in terms}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in found) / total if total > 0 else 0.0


def _bm25_norm(store, question: str, hit) -> float:
    """BM25 of the top sentence over the most any sentence could score (the sum of the
    question terms' IDFs times (k1 + 1), over the same terms the search used, a country's other
    form included), so it does not depend on the corpus size."""
    from qa.lexical import query_terms

    bm25 = store.bm25
    terms = set(query_terms(question))
    if not terms or bm25.model is None:
        return 0.0
    top = sum(bm25.idf(t) for t in terms) * (bm25.model.k1 + 1)
    return float(hit.bm25) / top if top > 0 else 0.0


def features(
    store,
    question: str,
    hits,
    texts: list[str],
    window: list[str],
    answer_typed: bool,
    coverage: tuple[np.ndarray, np.ndarray] | None = None,
    span: tuple[str, str] | None = None,
) -> dict[str, float]:
    """Confidence features for ``hits`` (best first) whose sentence texts are ``texts``;
    ``window`` is the top sentence with its neighbours; ``coverage`` is each question
    content token's best cosine in the top sentence and in its window
    (``qa.rerank.token_coverage``), when token vectors are stored; ``span`` is the top
    sentence's answer span as ``(text, kind)`` (``near_miss_features``)."""
    cos = [h.cosine for h in hits] or [0.0]
    top = cos[0]
    q_words = content_words(question)
    top_words = content_words(texts[0]) if texts else set()
    names = question_names(question)
    seen = set()
    for t in texts[:5]:
        seen |= {_norm(w) for w in _WORD.findall(t)}
    doc_words: frozenset[str] = frozenset()
    if hits:
        top_doc = store.sentences([hits[0].sentence_id])
        if top_doc:
            doc_words = _document_words(store.text(top_doc[0].doc))
    maxsims = [h.maxsim for h in hits if h.maxsim]
    cover1, cover_window = coverage if coverage is not None and len(coverage[0]) else (np.ones(1), np.ones(1))
    near = near_miss_features(question, texts[0] if texts else "", span)
    return near | {
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
        "answer_typed": float(answer_typed),
        "question_words": math.log1p(len(q_words)),
    }


_QWORD = re.compile(r"[\w’'-]+")
_HOW_MANY = re.compile(r"\bhow many ([\w’'-]+)(?:\s+([\w’'-]+))?", re.I)
_COUNT = re.compile(
    r"\d[\d,.]*|(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|hundreds|thousand|thousands|million|millions|dozens)\b",
    re.I,
)
#: A nationality or language adjective ("Russian", "Chinese", "British"): not who did something.
_DEMONYM = re.compile(r"[A-Z][a-z]+(?:ian|ean|ese|ish)")


#: Nouns so general that the sentence may count the same thing by another name ("How many
#: *people* ..." against "47 bodies", "1,000 residents"): the check does not apply to them.
_GENERIC_COUNTED = set("people persons men women children times things ones".split())


def count_not_of_asked(question: str, sentence: str) -> float:
    """1.0 when a "how many X" question's sentence has no number followed (within four
    words) by X ("How many soldiers ..." against "the city's figure for those killed is
    1,207"), else 0.0 (also for other questions, and for a general noun: "How many people ...")."""
    from qa.answer import STOP_WORDS as SPAN_STOP
    from qa.answer import norm_word, word_key

    m = _HOW_MANY.search(question)
    if not m or norm_word(m.group(1)) in _GENERIC_COUNTED:
        return 0.0
    heads = {word_key(m.group(1))}
    if m.group(2) and norm_word(m.group(2)) not in SPAN_STOP and not m.group(2)[:1].isupper():
        heads.add(word_key(m.group(2)))
    words = _QWORD.findall(sentence)
    keys = [word_key(w) for w in words]
    for i, w in enumerate(words):
        if _COUNT.match(w) and heads & set(keys[i + 1 : i + 5]):
            return 0.0
    return 1.0


def span_matters(question: str) -> bool:
    """Whether the features look at the answer span (``answer_not_a_name``): only for
    "who"/"where" questions, so the others need not extract it before deciding."""
    from qa.answer import wh_word

    return wh_word(question) in ("who", "whom", "where")


def answer_not_a_name(question: str, span_text: str | None, span_kind: str | None) -> float:
    """1.0 when a "who" or "where" question's answer span is not a name (a description
    naming no one, or no span: the whole sentence), or a "who" question's is a nationality
    adjective ("Who mediated the talks?" answered "Russian"); 0.0 otherwise (also for other
    questions, and for a description holding a name: "Russian troops and fighters from Donbas")."""
    from qa.answer import wh_word

    if not span_matters(question):
        return 0.0
    wh = wh_word(question)
    if span_kind == "description":  # "Who is Orlov?" answered "the city's deputy mayor"
        return 0.0
    if span_text is None or span_kind not in ("name", "run", "speaker"):
        return 1.0
    if span_kind in ("run", "speaker"):
        # a description holding a name ("Russian troops and fighters from Donbas", "The mayor of Kyiv") passes
        return 0.0 if any(w[:1].isupper() and not _DEMONYM.fullmatch(w) for w in _QWORD.findall(span_text)) else 1.0
    return float(wh != "where" and bool(_DEMONYM.fullmatch(span_text.strip())))


def near_miss_features(question: str, sentence: str, span: tuple[str, str] | None) -> dict[str, float]:
    """The answer-type checks for the top ``sentence``, whose answer span is ``span``
    (``(text, kind)``; None: no span, the whole sentence)."""
    return {
        "answer_not_a_name": answer_not_a_name(question, *(span or (None, None))),
        "count_not_of_asked": count_not_of_asked(question, sentence),
    }


def probability(feats: dict[str, float]) -> float:
    x = np.array([feats[f] for f in FEATURES], dtype=np.float64)
    z = INTERCEPT + float(np.dot((x - np.array(MEANS)) / np.array(SCALES), np.array(WEIGHTS)))
    return 1.0 / (1.0 + math.exp(-z))

"""Retrieval measures with trec_eval semantics, computed by ir-measures over pytrec_eval.

ir-measures was chosen over ranx: it imports in ~0.1 s (ranx ~5 s, numba) and
its pytrec_eval provider *is* trec_eval, so ties are broken the trec_eval way
(score descending, then docno descending) and the rank column of a run is ignored.

Recall@k here is the success rate at k (trec_eval ``success_k``): the share of
questions with at least one relevant sentence in the top k. That is what the
project's tables and ``eval/score.py`` call Recall@k (with span evidence a
question has one or two relevant sentences). MRR@10 is ``recip_rank`` over the
top 10 of the run, nDCG@10 is ``ndcg_cut_10`` and MAP is ``map`` at the run's depth.
As with ``trec_eval -c``, a judged question the run has nothing for scores 0.
"""

from __future__ import annotations

MEASURES = ("R@1", "R@3", "R@5", "R@10", "MRR@10", "nDCG@10", "MAP")


def trec_order(ranking: dict[str, float]) -> list[str]:
    """The order trec_eval reads a run in: score descending, ties by docno descending."""
    return [doc for doc, _ in sorted(ranking.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]


def per_query(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """``{qid: {measure: value}}`` for every question with at least one relevant unit."""
    import ir_measures
    from ir_measures import AP, RR, Success, nDCG

    judged = {q: rels for q, rels in qrels.items() if any(r > 0 for r in rels.values())}
    out = {q: dict.fromkeys(MEASURES, 0.0) for q in judged}
    ranked = {q: {d: float(s) for d, s in run[q].items()} for q in judged if run.get(q)}
    if not ranked:
        return out
    names = {Success @ 1: "R@1", Success @ 3: "R@3", Success @ 5: "R@5", Success @ 10: "R@10",
             nDCG @ 10: "nDCG@10", AP: "MAP"}
    qrels_in = {q: judged[q] for q in ranked}
    for m in ir_measures.pytrec_eval.iter_calc(list(names), qrels_in, ranked):
        out[m.query_id][names[m.measure]] = float(m.value)
    top10 = {q: {d: ranked[q][d] for d in trec_order(ranked[q])[:10]} for q in ranked}
    for m in ir_measures.pytrec_eval.iter_calc([RR], qrels_in, top10):
        out[m.query_id]["MRR@10"] = float(m.value)
    return out


def mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def aggregate(scores: dict[str, dict[str, float]], qids=None) -> dict[str, float | None]:
    """Mean of each measure over ``qids`` (default: all scored questions)."""
    rows = [scores[q] for q in (scores if qids is None else qids) if q in scores]
    return {m: mean(r[m] for r in rows) for m in MEASURES}

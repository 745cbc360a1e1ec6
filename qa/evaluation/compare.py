"""``--compare RUN``: score a saved TREC run against this run's judgements, question by question."""

from __future__ import annotations

from qa.evaluation.metrics import MEASURES, mean, per_query
from qa.evaluation.relevance import parse_unit
from qa.evaluation.runner import EvalRun, extend_qrels
from qa.evaluation.significance import paired_tests


def compare_runs(current: EvalRun, other_run: dict[str, dict[str, float]], resamples: int = 10000) -> dict:
    """Per measure: this run's mean, the other run's, the difference and paired p-values.

    Both runs are scored with the same qrels (spans of the other run that overlap
    a gold quote count as relevant, as for this run) over the questions both judged;
    a judged question the other run lacks scores 0 there.
    """
    qids = [q for q in current.scores]
    qrels = {}
    for q in qids:
        units = [u for u, _ in current.run.get(q, [])] + list(other_run.get(q, {}))
        if current.settings.get("units") == "doc":
            qrels[q] = current.judged[q].doc_qrels
        else:
            qrels[q] = extend_qrels(current.judged[q], units)
    mine = per_query(qrels, {q: dict(current.run.get(q, [])) for q in qids})
    theirs = per_query(qrels, {q: other_run.get(q, {}) for q in qids})
    missing = sum(1 for q in qids if not other_run.get(q))
    doc_units = current.settings.get("units") == "doc"
    names = [u for q in qids for u in other_run.get(q, {})]
    foreign = sum((parse_unit(u) is not None) == doc_units for u in names)
    warnings = []
    if names and foreign > len(names) / 2:
        want, got = ("documents", "sentences") if doc_units else ("sentences", "documents")
        warnings.append(f"the other run ranks {got} but this evaluation ranks {want} (use the same --units)")
    rows = {}
    for m in MEASURES:
        a = [mine[q][m] for q in qids]
        b = [theirs[q][m] for q in qids]
        p = paired_tests(a, b, resamples=resamples)
        rows[m] = {
            "this": mean(a),
            "other": mean(b),
            "delta": (mean(a) - mean(b)) if qids else None,
            "p_t_test": p["t_test"],
            "p_randomisation": p["randomisation"],
            "better": sum(x > y for x, y in zip(a, b, strict=True)),
            "worse": sum(x < y for x, y in zip(a, b, strict=True)),
        }
    return {"questions": len(qids), "missing_in_other": missing, "warnings": warnings, "measures": rows}

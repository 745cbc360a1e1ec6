"""Rendering results: the summary table, the comparison, and the per-question report."""

from __future__ import annotations

import json
from pathlib import Path

from qa.errors import BadInputError
from qa.evaluation.metrics import MEASURES
from qa.evaluation.runner import EvalRun
from qa.wording import counted, plural


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_p(p) -> str:
    if p is None:
        return "-"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _table(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for i, row in enumerate([header, *rows]):
        cells = [
            str(c).ljust(w) if j == 0 else str(c).rjust(w) for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(indent + "  ".join(cells).rstrip())
        if i == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return lines


def _count(rate, n) -> str:
    if rate is None:
        return "-"
    return f"{rate:.3f} ({round(rate * n)}/{n})"


def render_summary(summary: dict, title: str) -> str:
    s = summary
    st = s["settings"]
    lines = [
        title,
        f"  {counted(s['questions'], 'question')}: {s['answerable']} answerable, {s['unanswerable']} unanswerable; "
        f"retriever {st.get('retriever')}, top-k {st['top_k']}, ranking depth {st['depth']}",
        f"  index: {st.get('index')}",
        "",
        f"Retrieval ({s['answerable']} answerable {plural(s['answerable'], 'question')}; "
        + ("documents ranked by their best sentence; a document holding evidence is relevant)"
           if st.get("units") == "doc" else "a sentence is relevant when it overlaps the evidence)"),
    ]
    lines += _table(list(MEASURES), [[fmt(s["retrieval"][m]) for m in MEASURES]])
    a = s["answers"]
    lines += ["", f"Answers ({counted(s['with_gold_answers'], 'question')} with gold answers)"]
    lines += _table(
        ["contains gold", "EM", "F1", "top sentence contains gold"],
        [[fmt(a["contains"]), fmt(a["em"]), fmt(a["f1"]), fmt(a["top_sentence_contains"])]],
    )
    ab = s["abstention"]
    lines += ["", "Abstention"]
    lines.append(f"  abstained when unanswerable   {_count(ab['abstained_when_unanswerable'], s['unanswerable'])}")
    lines.append(f"  abstained when answerable     {_count(ab['abstained_when_answerable'], s['answerable'])}")
    if "abstained_without_gold_docs" in ab:
        lines.append(
            f"  abstained without gold docs   {_count(ab['abstained_without_gold_docs'], s['answerable'])}"
            "  (each answerable question asked with its own documents excluded)"
        )
    if ab.get("right_without_gold_docs") is not None:
        lines.append(
            f"  right without gold docs       {_count(ab['right_without_gold_docs'], s['answerable'])}"
            "  (answered all the same, with a gold answer found in another document)"
        )
    if "by_kind" in s:
        lines += ["", "By kind"]
        header = ["kind", "n", "R@1", "R@5", "R@10", "MRR@10", "contains", "EM", "F1", "abstained"]
        rows = []
        for kind, k in s["by_kind"].items():
            which = "abstained_when_answerable" if k["answerable"] else "abstained_when_unanswerable"
            ab_rate = k["abstention"][which]
            rows.append([kind, str(k["questions"]), *(fmt(k["retrieval"][m]) for m in ("R@1", "R@5", "R@10", "MRR@10")),
                         fmt(k["answers"]["contains"]), fmt(k["answers"]["em"]), fmt(k["answers"]["f1"]), fmt(ab_rate)])
        lines += _table(header, rows)
    c = s["citations"]
    lat = s["latency_ms"]
    lines += [
        "",
        f"Citations: {c['checked']} checked, {c['wrong']} do not reproduce their text",
        f"Latency per question (normal pipeline, warm): p50 {fmt(lat['p50'], 1)} ms, p95 {fmt(lat['p95'], 1)} ms",
    ]
    return "\n".join(lines)


def render_conversations(conv: dict) -> str:
    s = conv["summary"]
    lines = [f"Conversations ({counted(s['conversations'], 'conversation')}, {s['scored_turns']} scored "
             f"{plural(s['scored_turns'], 'turn')}; "
             "a turn is right when its answer contains a gold answer)"]
    lines += _table(
        ["turn accuracy", "first turns", "follow-ups", "all turns right", "EM", "F1"],
        [[fmt(s["turn_accuracy"]), fmt(s["first_turn_accuracy"]), fmt(s["follow_up_accuracy"]),
          fmt(s["conversations_all_correct"]), fmt(s["em"]), fmt(s["f1"])]],
    )
    lines += ["", "  By turn (F1: SQuAD token F1, best over the references; overlap: the top cited sentence "
              "overlaps a reference in the document)"]
    lines += _table(
        ["turns", "F1", "overlap"],
        [["first turns", fmt(s["first_turn_f1"]), fmt(s["first_turn_overlap"])],
         ["follow-ups", fmt(s["follow_up_f1"]), fmt(s["follow_up_overlap"])]],
    )
    answerable = s["turns"] - s["unanswerable_turns"]
    lines += ["", "  Abstention"]
    unanswerable = _count(s["abstained_when_unanswerable"], s["unanswerable_turns"])
    lines.append(f"    abstained when unanswerable   {unanswerable}")
    lines.append(f"    abstained when answerable     {_count(s['abstained_when_answerable'], answerable)}")
    return "\n".join(lines)


def render_comparison(cmp: dict, other: str) -> str:
    lines = [f"Compared with {other} ({cmp['questions']} judged questions; paired t-test and "
             "randomisation test, two-sided)"]
    for w in cmp.get("warnings", []):
        lines.append(f"  warning: {w}")
    if cmp["missing_in_other"]:
        lines.append(f"  {cmp['missing_in_other']} of them are missing from {other} (scored 0 there)")
    rows = []
    for m, r in cmp["measures"].items():
        rows.append([m, fmt(r["this"]), fmt(r["other"]), f"{r['delta']:+.3f}" if r["delta"] is not None else "-",
                     fmt_p(r["p_t_test"]), fmt_p(r["p_randomisation"]), f"{r['better']}/{r['worse']}"])
    lines += _table(["measure", "this", "other", "delta", "p (t-test)", "p (random.)", "better/worse"], rows)
    return "\n".join(lines)


def _report_text(ev: EvalRun) -> str:
    misses = [r for r in ev.records if r.answerable and (r.rank is None or r.rank > 1)]
    wrong = [r for r in ev.records if r.answer_scores is not None and not r.answer_scores["contains"]]
    bad_abstain = [r for r in ev.records if r.abstained == r.answerable]
    out = ["# qa eval: per-question report", ""]
    out.append(f"Retrieval misses (first relevant sentence not at rank 1): {len(misses)}")
    depth = ev.settings["depth"]
    for r in misses:
        out.append(f"  {r.id}  rank {r.rank or f'> {depth}'}  {r.question}")
    out.append(f"Answers without a gold answer: {len(wrong)}")
    for r in wrong:
        out.append(f"  {r.id}  {r.question}  -> {r.answer!r}  (gold: {' | '.join(r.answers)})")
    out.append(f"Wrong abstention decisions: {len(bad_abstain)}")
    for r in bad_abstain:
        what = "abstained on an answerable question" if r.answerable else "answered an unanswerable question"
        out.append(f"  {r.id}  {what} (confidence {r.confidence:.3f})  {r.question}")
    out += ["", "## Every question", ""]
    for r in ev.records:
        m = ev.scores.get(r.id)
        out.append(f"{r.id}  [{r.kind}]  {r.question}")
        if r.answerable:
            out.append(f"  rank of first relevant sentence: {r.rank or 'not retrieved'}"
                       + (f"   RR@10 {m['MRR@10']:.3f}  nDCG@10 {m['nDCG@10']:.3f}  AP {m['MAP']:.3f}" if m else ""))
            for g in r.gold:
                out.append(f"  gold: {g['doc']} [{g['start']}:{g['end']}]")
        out.append(f"  answer: {'(abstained)' if r.abstained else repr(r.answer)}  confidence {r.confidence:.3f}"
                   + (f"  gold answers: {' | '.join(r.answers)}" if r.answers else ""))
        if r.answer_scores:
            s = r.answer_scores
            out.append(f"  contains gold {s['contains']:.0f}  EM {s['em']:.0f}  F1 {s['f1']:.3f}")
        if r.abstained_without_gold is not None:
            outcome = "abstained" if r.abstained_without_gold else "answered"
            if r.right_without_gold:
                outcome += " (with a gold answer)"
            out.append(f"  without its gold documents: {outcome}")
        for n, c in enumerate(r.citations[:3], 1):
            out.append(f"  [{n}] {c['doc']} [{c['start']}:{c['end']}] {c['score']:.3f}  {c['text'][:100]!r}")
        out.append("")
    return "\n".join(out)


def write_report(path: str | Path, ev: EvalRun | None, conversations: dict | None = None) -> None:
    """``.jsonl``/``.json``: one JSON object per question (then per conversation turn); otherwise
    readable text. Either part may be missing (a file of conversations only has no questions)."""
    path = Path(path)
    if path.suffix.lower() in {".jsonl", ".json"}:
        lines = [json.dumps(r.to_json(ev.scores.get(r.id)), ensure_ascii=False) for r in ev.records] if ev else []
        if conversations:
            lines += [json.dumps({"type": "turn", **t}, ensure_ascii=False) for t in conversations["turns"]]
        text = "\n".join(lines) + "\n"
    else:
        text = _report_text(ev) if ev else ""
        if conversations:
            text += "\n## Conversations\n\n"
            for t in conversations["turns"]:
                text += _turn_text(t)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise BadInputError(f"cannot write {path}: {e.strerror}") from None


def _turn_text(t: dict) -> str:
    """One conversation turn of the text report."""
    scores = t.get("answer_scores")
    if scores is None:
        mark = "unanswerable: " + ("abstained (right)" if t["abstained"] else "ANSWERED")
    else:
        mark = ("right" if scores["contains"] else "WRONG") + f", F1 {scores['f1']:.2f}"
        if "overlap" in t:
            mark += ", top citation " + ("overlaps" if t["overlap"] else "DOES NOT overlap") + " a reference"
    out = f"{t['conversation']} turn {t['turn']}: {t['question']}\n"
    if t.get("resolved"):
        out += f"  understood as: {t['resolved']}\n"
    out += f"  answer: {t['answer']!r}" + (f" ({t['kind']})" if t.get("kind") else "") + f"  [{mark}]\n"
    if t["gold_answers"]:
        out += f"  gold: {' | '.join(t['gold_answers'])}\n"
    for note in t.get("notes", []):
        if not note.startswith("understood as: "):
            out += f"  note: {note}\n"
    return out

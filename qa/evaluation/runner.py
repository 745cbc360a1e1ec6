"""Ask every question of a set through the real pipeline and score it.

Each question is asked once with the normal pipeline (``top_k`` citations: the
answer, abstention and latency come from this call, as ``qa batch`` would give
them) and, when it has evidence and ``depth`` is larger, once more with
``top_k=depth`` for the ranking that MAP and nDCG need. The retrievers rank a deeper
list by going on below the normal one (``HybridRetriever.deepened``), so its first ranks
are the citations the normal call shows.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field

from qa.errors import BadInputError
from qa.evaluation.answers import score_answer
from qa.evaluation.metrics import MEASURES, aggregate, mean, per_query
from qa.evaluation.questions import Question
from qa.evaluation.relevance import Judged, RelevanceJudge, doc_unit, unit_id
from qa.evaluation.trec import monotone

DEFAULT_DEPTH = 100


@dataclass
class QuestionRecord:
    id: str
    question: str
    kind: str
    answerable: bool
    answers: tuple[str, ...]
    answer: str | None
    confidence: float
    #: 1-based rank of the first relevant sentence in the deep ranking (None: not retrieved).
    rank: int | None
    citations: list[dict]
    latency_ms: float
    gold: list[dict] = field(default_factory=list)
    answer_scores: dict[str, float] | None = None
    #: With ``exclude_gold``: whether it abstained when asked without its gold documents.
    abstained_without_gold: bool | None = None
    #: With ``exclude_gold``: whether it answered then, and its answer contains a gold answer
    #: all the same (the answer is also written in another document).
    right_without_gold: bool | None = None

    @property
    def abstained(self) -> bool:
        return self.answer is None

    def to_json(self, measures: dict[str, float] | None = None) -> dict:
        out = {
            "id": self.id,
            "kind": self.kind,
            "question": self.question,
            "answerable": self.answerable,
            "gold_answers": list(self.answers),
            "answer": self.answer,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 6),
            "rank": self.rank,
            "latency_ms": round(self.latency_ms, 3),
            "gold": self.gold,
            "citations": self.citations,
        }
        if self.answer_scores is not None:
            out["answer_scores"] = self.answer_scores
        if measures is not None:
            out["measures"] = {k: round(v, 6) for k, v in measures.items()}
        if self.abstained_without_gold is not None:
            out["abstained_without_gold"] = self.abstained_without_gold
        if self.right_without_gold is not None:
            out["right_without_gold"] = self.right_without_gold
        return out


@dataclass
class EvalRun:
    records: list[QuestionRecord]
    #: ``{qid: {unit: grade}}`` for the answerable questions.
    qrels: dict[str, dict[str, int]]
    #: ``{qid: [(unit, score), ...]}``: the ranking scored, scores strictly decreasing.
    run: dict[str, list[tuple[str, float]]]
    #: per-question retrieval measures (answerable questions only).
    scores: dict[str, dict[str, float]]
    #: ``{qid: Judged}``: gold spans, to judge units of another run (``--compare``).
    judged: dict[str, Judged] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    citations_checked: int = 0
    citations_wrong: int = 0

    def summary(self) -> dict:
        out = {"settings": self.settings, **summarize(self.records, self.scores)}
        out["citations"] = {"checked": self.citations_checked, "wrong": self.citations_wrong}
        kinds = sorted({r.kind for r in self.records})
        if len(kinds) > 1:
            out["by_kind"] = {k: summarize([r for r in self.records if r.kind == k], self.scores) for k in kinds}
        return out


def _rate(flags) -> float | None:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else None


def summarize(records: list[QuestionRecord], scores: dict[str, dict[str, float]]) -> dict:
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    with_gold = [r for r in records if r.answer_scores is not None]
    judged = [r.id for r in answerable if r.id in scores]
    latencies = [r.latency_ms for r in records]
    excluded = [r for r in answerable if r.abstained_without_gold is not None]
    out = {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "with_gold_answers": len(with_gold),
        "retrieval": aggregate(scores, judged) if judged else dict.fromkeys(MEASURES),
        "answers": {
            m: mean(r.answer_scores[m] for r in with_gold) if with_gold else None
            for m in ("contains", "em", "f1", "top_sentence_contains")
        },
        "abstention": {
            "abstained_when_unanswerable": _rate(r.abstained for r in unanswerable),
            "abstained_when_answerable": _rate(r.abstained for r in answerable),
        },
        "latency_ms": {
            "p50": statistics.median(latencies) if latencies else None,
            "p95": statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else None,
        },
    }
    if excluded:
        out["abstention"]["abstained_without_gold_docs"] = _rate(r.abstained_without_gold for r in excluded)
        scored = [r for r in excluded if r.right_without_gold is not None]
        if scored:
            out["abstention"]["right_without_gold_docs"] = _rate(r.right_without_gold for r in scored)
    return out


def extend_qrels(judged: Judged, units) -> dict[str, int]:
    """The question's qrels plus any retrieved span that overlaps a gold span but is not an indexed sentence."""
    qrels = dict(judged.qrels)
    for u in units:
        if u not in qrels:
            g = judged.grade(u)
            if g > 0:
                qrels[u] = g
    return qrels


def _progress(total: int, enabled: bool | None, desc: str):
    on = sys.stderr.isatty() if enabled is None else enabled
    if not on or total < 2:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="q", file=sys.stderr, leave=False)


class _CitationCheck:
    """Counts citations (and answers) whose text is not ``document_text[start:end]``."""

    def __init__(self, store) -> None:
        self.store = store
        self.checked = 0
        self.wrong = 0

    def __call__(self, items) -> None:
        for doc, start, end, text in items:
            self.checked += 1
            try:
                ok = self.store.text(doc)[start:end] == text
            except KeyError:
                ok = False
            self.wrong += not ok


def evaluate(
    assistant,
    questions: list[Question],
    *,
    top_k: int = 5,
    depth: int = DEFAULT_DEPTH,
    exclude_gold: bool = False,
    units: str = "sentence",
    progress: bool | None = None,
    settings: dict | None = None,
) -> EvalRun:
    """Ask each question through ``assistant`` and score retrieval, answers and abstention.

    ``units="sentence"`` ranks the cited sentences; ``units="doc"`` ranks documents
    by their best cited sentence (a document holding gold evidence is relevant).
    """
    if units not in ("sentence", "doc"):
        raise ValueError(f"units must be 'sentence' or 'doc', not {units!r}")
    judge = RelevanceJudge(assistant.store)
    check = _CitationCheck(assistant.store)
    depth = max(top_k, depth)
    records: list[QuestionRecord] = []
    qrels: dict[str, dict[str, int]] = {}
    judgements: dict[str, Judged] = {}
    run: dict[str, list[tuple[str, float]]] = {}
    problems: list[str] = []
    unresolved = 0
    if questions:  # load the model and caches first, so that latencies are warm
        try:
            assistant.ask(questions[0].question, top_k=top_k)
        except BadInputError:
            pass
    bar = _progress(len(questions), progress, "Evaluating")
    try:
        for q in questions:
            if bar is not None:
                bar.update(1)
            try:
                judged = judge.judge(q) if q.answerable else None
            except ValueError as e:
                problems.append(f"question {q.id}: skipped: {e}")
                unresolved += 1
                continue
            try:
                t0 = time.perf_counter()
                result = assistant.ask(q.question, top_k=top_k)
                latency = (time.perf_counter() - t0) * 1000
                deep = assistant.ask(q.question, top_k=depth) if judged and depth > top_k else result
            except BadInputError as e:
                problems.append(f"question {q.id}: skipped: {e}")
                continue
            for res in (result, deep) if deep is not result else (result,):
                check((c.doc, c.start, c.end, c.text) for c in res.citations)
                if res.answer is not None:
                    a = res.answer
                    check([(a.doc, a.start, a.end, a.text)])
                for variant in getattr(res, "corroboration", None) or []:
                    check((c.doc, c.start, c.end, c.text) for c in variant.citations)
            ranking: list[tuple[str, float]] = []
            seen: set[str] = set()
            for c in deep.citations:
                unit = unit_id(c.doc, c.start, c.end) if units == "sentence" else doc_unit(c.doc)
                if unit not in seen:
                    seen.add(unit)
                    ranking.append((unit, c.score))
            ranking = list(zip([u for u, _ in ranking], monotone([s for _, s in ranking]), strict=True))
            run[q.id] = ranking
            rank = None
            if judged is not None:
                judgements[q.id] = judged
                qrels[q.id] = extend_qrels(judged, [u for u, _ in ranking]) if units == "sentence" else judged.doc_qrels
                rank = next((i for i, (u, _) in enumerate(ranking, 1) if qrels[q.id].get(u, 0) > 0), None)
            record = QuestionRecord(
                id=q.id,
                question=q.question,
                kind=q.kind,
                answerable=q.answerable,
                answers=q.answers,
                answer=result.answer.text if result.answer is not None else None,
                confidence=float(result.confidence),
                rank=rank,
                citations=[c.to_json() for c in result.citations],
                latency_ms=latency,
                gold=[{"doc": d, "start": s, "end": e} for d, s, e, _ in judged.spans] if judged else [],
            )
            if q.answerable and any(a.strip() for a in q.answers):
                try:
                    record.answer_scores = score_answer(record.answer, q.answers)
                    top = result.citations[0].text if result.citations else None
                    # retrieval's share of the answer: the gold answer is in the top sentence (even when abstaining)
                    record.answer_scores["top_sentence_contains"] = score_answer(top, q.answers)["contains"]
                except ValueError:
                    pass
            if exclude_gold and judged is not None:
                without = assistant.ask(q.question, top_k=top_k, exclude_docs=judged.docs)
                check((c.doc, c.start, c.end, c.text) for c in without.citations)
                record.abstained_without_gold = without.answer is None
                if record.answer_scores is not None:
                    text = without.answer.text if without.answer is not None else None
                    record.right_without_gold = bool(score_answer(text, q.answers)["contains"])
            records.append(record)
    finally:
        if bar is not None:
            bar.close()
    answerable = sum(q.answerable for q in questions)
    if answerable and unresolved == answerable:
        raise BadInputError(
            f"none of the questions' evidence resolves in the index {assistant.store.location} "
            f"({problems[0].split(': skipped: ', 1)[-1]}); is this the right --index or --corpus?"
        )
    scores = per_query(qrels, {q: dict(r) for q, r in run.items()})
    return EvalRun(
        records=records,
        qrels=qrels,
        run=run,
        scores=scores,
        judged=judgements,
        settings=dict(settings or {}, top_k=top_k, depth=depth, exclude_gold=exclude_gold, units=units),
        problems=problems,
        citations_checked=check.checked,
        citations_wrong=check.wrong,
    )

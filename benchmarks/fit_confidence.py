"""Fit the abstention model (``qa/confidence_weights.py``) on half the NarrativeQA stories.

Positives: answerable NarrativeQA questions asked against the whole corpus.
Negatives: the same questions asked with their own story left out (the corpus
then does not answer them). Stories are split in two by a hash of their id
(``devsets.story_half``): the model is fitted on half 0 and checked on half 1;
the seeds' answerable/unanswerable questions are a further check. Near misses
(``benchmarks/near_miss.py``) are further negatives: the questions against the
corpus with their answering sentences cut out (``--near-miss-index``), and the
questions with another story's names put in (``--transplant-weight``, the weight of
each in the fit). The threshold
is the highest probability cut that abstains wrongly on at most ``--max-wrong``
of the fit half's answerable questions.

    python benchmarks/fit_confidence.py --index /tmp/A-idx-nqa --seeds-index /tmp/A-idx-seeds \
        --near-miss-index /tmp/A-idx-nearmiss --transplant-weight 0.25 --max-wrong 0.04 [--write]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import EVAL, load_questions, question_half, story_half  # noqa: E402
from near_miss import transplanted  # noqa: E402

from qa import Assistant  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ALL_FEATURES = [
    "cos1",
    "cos1_minus_cos2",
    "cos1_minus_cos10",
    "idf_cover1",
    "idf_cover_window",
    "idf_cover5",
    "word_cover1",
    "names_missing5",
    "has_names",
    "answer_typed",
    "question_words",
    "maxsim1",
    "maxsim1_minus_mean",
    "bm25_norm1",
    "names_missing_doc",
    "words_missing_doc",
    "tokcover_min1",
    "tokcover_low2_1",
    "tokcover_min_window",
    "answer_not_a_name",
    "count_not_of_asked",
]


def collect(assistant, questions, exclude: bool):
    X = []
    for q in questions:
        r = assistant.ask(q.question, top_k=10, exclude_docs=q.docs if exclude else None)
        X.append([r.features.get(f, 0.0) for f in ALL_FEATURES])
    return np.array(X, dtype=np.float64)


def _wrapped(values: list) -> str:
    """A list literal wrapped to the project's line length."""
    import pprint

    return pprint.pformat(values, width=100, compact=True)


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    scores = np.concatenate([pos, neg])
    ranks = scores.argsort().argsort() + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True, help="index of ../shared/eval/narrativeqa/corpus.jsonl")
    ap.add_argument("--seeds-index", help="index of the seeds (extra check)")
    ap.add_argument(
        "--near-miss-index",
        help="index of benchmarks/near_miss.py's redacted corpus: its questions are extra negatives (near misses)",
    )
    ap.add_argument(
        "--transplant-weight",
        type=float,
        default=0.25,
        help="weight in the fit of the questions with another story's names put in (near_miss.transplanted); 0: none",
    )
    ap.add_argument(
        "--max-wrong", type=float, default=0.04, help="the most wrong abstentions the threshold allows on the fit half"
    )
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--write", action="store_true", help="write qa/confidence_weights.py")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    assistant = Assistant.open(args.index, threshold=0.0)
    qs = [q for q in load_questions(EVAL / "narrativeqa" / "questions.jsonl", assistant.store) if q.answerable]
    half = np.array([question_half(q) for q in qs])
    pos, neg = collect(assistant, qs, False), collect(assistant, qs, True)
    fit = half == 0
    near = np.zeros((0, len(ALL_FEATURES)))
    near_half = np.zeros(0, dtype=int)
    if args.near_miss_index:
        redacted = Assistant.open(args.near_miss_index, threshold=0.0)
        present = {d.id for d in redacted.store.documents()}

        def answer_gone(q) -> bool:
            """The story is still there, but none of the question's answers is."""
            docs = q.docs & present
            texts = [redacted.store.text(d).lower() for d in docs]
            return bool(docs) and not any(a.lower() in t for t in texts for a in q.answers if a.strip())

        gone = [q for q in qs if answer_gone(q)]
        near = collect(redacted, gone, False)
        near_half = np.array([question_half(q) for q in gone])
        print(f"near misses: {len(gone)} of {len(qs)} questions have no answer left in their story")
    moved = np.zeros((0, len(ALL_FEATURES)))
    moved_half = np.zeros(0, dtype=int)
    if args.transplant_weight > 0:
        swapped = transplanted(qs, assistant.store, story_half)
        moved = collect(assistant, swapped, False)
        moved_half = np.array([question_half(q) for q in swapped])
        print(f"transplanted: {len(swapped)} questions with another story's names")
    X = np.vstack([pos[fit], neg[fit], near[near_half == 0], moved[moved_half == 0]])
    y = np.concatenate(
        [np.ones(fit.sum()), np.zeros(fit.sum()), np.zeros((near_half == 0).sum()), np.zeros((moved_half == 0).sum())]
    )
    weight = np.concatenate(
        [np.ones(2 * fit.sum() + (near_half == 0).sum()), np.full((moved_half == 0).sum(), args.transplant_weight)]
    )
    means, scales = X.mean(axis=0), X.std(axis=0) + 1e-9
    model = LogisticRegression(C=args.C, max_iter=2000).fit((X - means) / scales, y, sample_weight=weight)
    w, b = model.coef_[0], float(model.intercept_[0])

    def prob(A):
        return 1 / (1 + np.exp(-(b + ((A - means) / scales) @ w)))

    print("feature AUCs (fit half):")
    for i, f in enumerate(ALL_FEATURES):
        print(f"  {f:18s} {auc(pos[fit][:, i], neg[fit][:, i]):.3f}  weight {w[i]:+.3f}")
    p_pos, p_neg, p_near = prob(pos), prob(neg), prob(near) if len(near) else np.zeros(0)
    p_moved = prob(moved) if len(moved) else np.zeros(0)
    cuts = np.sort(p_pos[fit])
    threshold = float(cuts[int(np.floor(args.max_wrong * len(cuts)))])
    print(f"threshold (<= {args.max_wrong:.1%} wrong abstentions on the fit half): {threshold:.3f}")
    for name, m in (("fit", fit), ("check", ~fit), ("all", np.ones_like(fit))):
        print(
            f"  {name:5s} n={m.sum():4d} AUC {auc(p_pos[m], p_neg[m]):.3f}  abstain on unanswerable "
            f"{(p_neg[m] < threshold).mean():.3f}  wrong abstentions {(p_pos[m] < threshold).mean():.3f}"
        )
    for name, h in (("fit", 0), ("check", 1)):
        if len(near):
            print(f"  near misses, {name} half: abstained {(p_near[near_half == h] < threshold).mean():.3f}")
        if len(moved):
            print(f"  transplanted, {name} half: abstained {(p_moved[moved_half == h] < threshold).mean():.3f}")
    if args.seeds_index:
        seeds = Assistant.open(args.seeds_index, threshold=0.0)
        sq = load_questions(EVAL / "seeds-dev.jsonl", seeds.store)
        ps = [prob(np.array([[seeds.ask(q.question).features.get(f, 0.0) for f in ALL_FEATURES]]))[0] for q in sq]
        ans = [p for p, q in zip(ps, sq, strict=True) if q.answerable]
        una = [p for p, q in zip(ps, sq, strict=True) if not q.answerable]
        print(
            f"  seeds: abstain on unanswerable {np.mean([p < threshold for p in una]):.3f} ({len(una)}), "
            f"wrong abstentions {np.mean([p < threshold for p in ans]):.3f} ({len(ans)}); "
            f"unanswerable p={[round(p, 2) for p in una]}"
        )
    if args.write:
        path = ROOT / "qa" / "confidence_weights.py"
        path.write_text(
            '"""Fitted weights of the confidence model (written by ``benchmarks/fit_confidence.py``; '
            'do not edit by hand)."""\n\nfrom __future__ import annotations\n\n'
            f"FEATURES = {_wrapped(ALL_FEATURES)}\n"
            f"MEANS = {_wrapped([round(float(x), 6) for x in means])}\n"
            f"SCALES = {_wrapped([round(float(x), 6) for x in scales])}\n"
            f"WEIGHTS = {_wrapped([round(float(x), 6) for x in w])}\n"
            f"INTERCEPT = {round(b, 6)!r}\n"
            f"#: Abstain below this probability (at most {args.max_wrong:.1%} wrong abstentions on the fit half).\n"
            f"THRESHOLD = {round(threshold, 3)!r}\n",
            encoding="utf-8",
        )
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

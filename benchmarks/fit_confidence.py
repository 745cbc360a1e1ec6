"""Fit the abstention model (``qa/confidence_weights.py``) on dev data only, and check it.

Positives: answerable questions asked against their whole corpus. Negatives: the same
questions asked with their own document removed, so that the corpus no longer answers
them. Two dev sets, each split in two halves by a hash of the document (NarrativeQA: the
story; SQuAD dev split: the article title): the model and its threshold are fitted on the
halves 0 and checked on the halves 1.

* NarrativeQA (``../shared/eval/narrativeqa``): its own story removed. Optionally near
  misses (``--near-miss-index``, the corpus with the answering sentences cut out, built by
  ``benchmarks/near_miss.py``) and questions with another story's names put in
  (``--transplant-weight``).
* SQuAD dev split (``../shared/squad/dev``): its own paragraph removed (the other paragraphs
  of the article stay: near misses by construction). ``--squad-limit`` questions, a stride sample.
* SQuAD 2.0 (``../shared/squad/v2-dev``, 15 articles split by a hash of the title): the
  unanswerable questions, written against their paragraph to look answerable, as negatives, and
  the answerable ones as positives, all asked against the 15 articles.

Every domain is checked on its own halves 1 with the one threshold: abstained on the
negatives, wrongly abstained on the positives, and calibration (expected calibration error over
ten equal-width bins, and a reliability table with ``--reliability``).

The threshold is the highest probability cut that abstains wrongly on at most ``--max-wrong``
of the fit halves' answerable questions.

    python benchmarks/fit_confidence.py --squad-limit 2000 [--features runs/confidence.npz] [--write]

``--features`` keeps the asked features, so that refitting (another ``--C``, ``--max-wrong`` or
``--v2-weight``) takes seconds; delete the file after a change to the pipeline or the reader.
``--inner-folds`` checks on the odd rows of the fit halves instead of the check halves: for choosing
a setting without looking at the check halves.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import EVAL, SHARED, load_questions, question_half, story_half, v2_articles  # noqa: E402
from near_miss import transplanted  # noqa: E402

from qa import Assistant  # noqa: E402
from qa.evaluation.corpus import ensure_corpus_index  # noqa: E402

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
    "question_words",
    "maxsim1",
    "maxsim1_minus_mean",
    "bm25_norm1",
    "names_missing_doc",
    "words_missing_doc",
    "tokcover_min1",
    "tokcover_low2_1",
    "tokcover_min_window",
    "read_margin",
    "read_score",
    "read_margin_max",
    "read_margins_positive",
    "yes_no",
    "read_null",
]


def collect(assistant, questions, exclude: bool):
    from tqdm import tqdm

    X = []
    for q in tqdm(questions, desc="asking", unit="q", leave=False, file=sys.stderr):
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
    ap.add_argument("--squad-limit", type=int, default=2000, help="SQuAD dev questions (0: all; stride sample)")
    ap.add_argument("--near-miss-index", help="NarrativeQA near misses: index of near_miss.py's redacted corpus")
    ap.add_argument("--transplant-weight", type=float, default=0.25, help="weight of transplanted questions; 0: none")
    ap.add_argument("--max-wrong", type=float, default=0.04, help="most wrong abstentions allowed on the fit halves")
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--reliability", action="store_true", help="print each domain's reliability table")
    ap.add_argument("--write", action="store_true", help="write qa/confidence_weights.py")
    ap.add_argument(
        "--features",
        type=Path,
        help="an .npz of the groups' features: read it when it exists (no asking), else write it after asking",
    )
    ap.add_argument("--v2-weight", type=float, default=1.0, help="weight of the SQuAD 2.0 groups in the fit")
    ap.add_argument(
        "--inner-folds",
        action="store_true",
        help="for choosing settings: fit on the even rows of the fit halves and check on their odd rows "
        "(the check halves unused); writes nothing",
    )
    ap.add_argument(
        "--compare-models",
        action="store_true",
        help="also fit non-linear models (an MLP, gradient-boosted trees) and print how well each separates "
        "answerable from removed on the check halves; writes nothing",
    )
    args = ap.parse_args()
    if args.features and args.features.exists():
        groups = load_groups(args.features)
    else:
        groups = ask_groups(args)
        if args.features:
            save_groups(args.features, groups)
    groups = [(n, X, y, h, args.v2_weight if n.startswith("v2") else w) for n, X, y, h, w in groups]
    if args.inner_folds:
        args.write = False
        groups = [(n, X, y, np.where(h == 0, np.arange(len(h)) % 2, 2), w) for n, X, y, h, w in groups]
        print("inner folds: 'fit' below is the even rows of the fit halves, 'check' their odd rows")

    if args.compare_models:
        compare_models(groups, args.max_wrong)
        return 0
    fit(args, groups)
    return 0


def compare_models(groups: list, max_wrong: float) -> None:
    """For the logistic model and two non-linear ones, on the check halves: AUC, the removed
    questions abstained on at the cut that abstains wrongly on 5% of the answerable ones, and the
    answerable ones abstained on at the cut chosen on the fit halves (``--max-wrong``, as ``fit``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    X = np.vstack([X_[h == 0] for _, X_, _, h, _ in groups])
    y = np.concatenate([np.full((h == 0).sum(), y_) for _, _, y_, h, _ in groups])
    weight = np.concatenate([np.full((h == 0).sum(), w) for _, _, _, h, w in groups])
    means, scales = X.mean(axis=0), X.std(axis=0) + 1e-9
    models = {
        "logistic": LogisticRegression(C=1.0, max_iter=5000),
        "MLP (32 units)": MLPClassifier((32,), alpha=1.0, max_iter=2000, random_state=0),
        "boosted trees": HistGradientBoostingClassifier(
            max_iter=200, max_leaf_nodes=15, learning_rate=0.05, random_state=0
        ),
    }
    pairs = [(a, n) for a in groups if a[2] == 1 for n in groups if n[2] == 0 and n[0].split()[0] == a[0].split()[0]]
    print(f"{'model':16s} {'removed group':32s} {'AUC':>6s} {'abstained at 5% wrong':>22s} {'wrong at fit cut':>17s}")
    for name, model in models.items():
        if isinstance(model, MLPClassifier):  # no sample weights
            model.fit((X - means) / scales, y)
        else:
            model.fit((X - means) / scales, y, sample_weight=weight)
        fit_pos = np.sort(model.predict_proba((X[y == 1] - means) / scales)[:, 1])
        fit_cut = fit_pos[int(np.floor(max_wrong * len(fit_pos)))]
        for answerable, removed in pairs:
            pa = model.predict_proba((answerable[1][answerable[3] == 1] - means) / scales)[:, 1]
            pn = model.predict_proba((removed[1][removed[3] == 1] - means) / scales)[:, 1]
            cut = np.sort(pa)[int(0.05 * len(pa))]
            print(
                f"{name:16s} {removed[0]:32s} {auc(pa, pn):>6.3f} {(pn < cut).mean():>22.3f} "
                f"{(pa < fit_cut).mean():>17.3f}"
            )


def save_groups(path: Path, groups: list) -> None:
    arrays = {}
    for i, (name, X, y, h, w) in enumerate(groups):
        arrays.update({f"{i}_X": X, f"{i}_y": np.array(y), f"{i}_half": h, f"{i}_weight": np.array(w)})
    np.savez(path, names=np.array([g[0] for g in groups]), features=np.array(ALL_FEATURES), **arrays)


def load_groups(path: Path) -> list:
    data = np.load(path)
    if list(data["features"]) != ALL_FEATURES:
        raise SystemExit(f"{path} holds other features than this script's: ask again without it")
    return [
        (str(name), data[f"{i}_X"], int(data[f"{i}_y"]), data[f"{i}_half"], float(data[f"{i}_weight"]))
        for i, name in enumerate(data["names"])
    ]


def ask_groups(args) -> list:
    """(name, X, y, half, weight) per group of questions, from asking the pipeline."""
    groups = []
    nqa = Assistant.open(ensure_corpus_index(EVAL / "narrativeqa" / "corpus.jsonl", quiet=True), threshold=0.0)
    qs = [q for q in load_questions(EVAL / "narrativeqa" / "questions.jsonl", nqa.store) if q.answerable]
    half = np.array([question_half(q) for q in qs])
    groups.append(("nqa answerable", collect(nqa, qs, False), 1, half, 1.0))
    groups.append(("nqa own story removed", collect(nqa, qs, True), 0, half, 1.0))
    if args.near_miss_index:
        redacted = Assistant.open(args.near_miss_index, threshold=0.0)
        present = {d.id for d in redacted.store.documents()}

        def answer_gone(q) -> bool:
            """The story is still there, but none of the question's answers is."""
            docs = q.docs & present
            texts = [redacted.store.text(d).lower() for d in docs]
            return bool(docs) and not any(a.lower() in t for t in texts for a in q.answers if a.strip())

        gone = [q for q in qs if answer_gone(q)]
        groups.append(
            ("nqa near misses", collect(redacted, gone, False), 0, np.array([question_half(q) for q in gone]), 1.0)
        )
    if args.transplant_weight > 0:
        swapped = transplanted(qs, nqa.store, story_half)
        groups.append(
            (
                "nqa transplanted names",
                collect(nqa, swapped, False),
                0,
                np.array([question_half(q) for q in swapped]),
                args.transplant_weight,
            )
        )

    squad = Assistant.open(ensure_corpus_index(SHARED / "squad" / "dev" / "corpus.jsonl", quiet=True), threshold=0.0)
    sq = [q for q in load_questions(SHARED / "squad" / "dev" / "questions.jsonl", squad.store) if q.answerable]
    if args.squad_limit and len(sq) > args.squad_limit:
        sq = sq[:: len(sq) // args.squad_limit][: args.squad_limit]

    def article_half(q) -> int:
        return story_half(squad.store.document(sorted(q.docs)[0]).title or sorted(q.docs)[0])

    half = np.array([article_half(q) for q in sq])
    groups.append(("squad answerable", collect(squad, sq, False), 1, half, 1.0))
    groups.append(("squad own paragraph removed", collect(squad, sq, True), 0, half, 1.0))

    v2_dir = SHARED / "squad" / "v2-dev"
    v2 = Assistant.open(ensure_corpus_index(v2_dir / "corpus.jsonl", quiet=True), threshold=0.0)
    qs = load_questions(v2_dir / "questions.jsonl", v2.store)
    half = np.array([story_half(t) for t in v2_articles(v2_dir / "questions.jsonl", v2.store)])
    answerable = np.array([q.answerable for q in qs])
    X = collect(v2, qs, False)
    groups.append(("v2 answerable", X[answerable], 1, half[answerable], 1.0))
    groups.append(("v2 unanswerable", X[~answerable], 0, half[~answerable], 1.0))
    return groups


def calibration(p: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[float, list[tuple[str, int, float, float]]]:
    """Expected calibration error over ``bins`` equal-width bins of ``p``, and the reliability
    table: (bin, questions, mean confidence, share answerable) for each non-empty bin."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            conf, acc = float(p[inside].mean()), float(y[inside].mean())
            ece += inside.sum() / len(p) * abs(conf - acc)
            rows.append((f"{edges[b]:.1f}-{edges[b + 1]:.1f}", int(inside.sum()), conf, acc))
    return float(ece), rows


def domains(groups: list) -> dict[str, tuple[list, list]]:
    """Groups by domain (the name's first word): (positive groups, negative groups)."""
    out: dict[str, tuple[list, list]] = {}
    for g in groups:
        pos, neg = out.setdefault(g[0].split()[0], ([], []))
        (pos if g[2] == 1 else neg).append(g)
    return out


def shipped_model():
    """The shipped confidence model as (probability function over ``ALL_FEATURES`` rows, threshold)."""
    from qa import confidence_weights as cw

    cols = [ALL_FEATURES.index(f) for f in cw.FEATURES]
    means, scales, w = np.array(cw.MEANS), np.array(cw.SCALES), np.array(cw.WEIGHTS)

    def prob(A):
        return 1 / (1 + np.exp(-(cw.INTERCEPT + ((A[:, cols] - means) / scales) @ w)))

    return prob, cw.THRESHOLD


def domain_table(groups: list, prob, threshold: float, reliability: bool) -> None:
    """Per domain, on the check halves: negatives abstained, answerable wrongly abstained, ECE."""
    print(f"{'domain':8s} {'negatives abstained':>20s} {'answerable wrongly abstained':>29s} {'ECE':>6s}")
    for name, (pos, neg) in domains(groups).items():
        pp = np.concatenate([prob(X_[h == 1]) for _, X_, _, h, _ in pos])
        pn = np.concatenate([prob(X_[h == 1]) for _, X_, _, h, _ in neg])
        ece, rows = calibration(np.concatenate([pp, pn]), np.concatenate([np.ones(len(pp)), np.zeros(len(pn))]))
        print(f"{name:8s} {(pn < threshold).mean():>20.3f} {(pp < threshold).mean():>29.3f} {ece:>6.3f}")
        if reliability:
            print(f"  {'bin':9s} {'n':>5s} {'confidence':>10s} {'answerable':>10s}")
            for b, n, conf, acc in rows:
                print(f"  {b:9s} {n:>5d} {conf:>10.3f} {acc:>10.3f}")


def fit(args, groups: list) -> None:
    """Fit on the halves 0, print the check on the halves 1 (and the seeds smoke test), write."""
    from sklearn.linear_model import LogisticRegression

    fit_rows = [(X[h == 0], y, w) for _, X, y, h, w in groups]
    X = np.vstack([x for x, _, _ in fit_rows])
    y = np.concatenate([np.full(len(x), y) for x, y, _ in fit_rows])
    weight = np.concatenate([np.full(len(x), w) for x, _, w in fit_rows])
    means, scales = X.mean(axis=0), X.std(axis=0) + 1e-9
    model = LogisticRegression(C=args.C, max_iter=5000).fit((X - means) / scales, y, sample_weight=weight)
    w, b = model.coef_[0], float(model.intercept_[0])

    def prob(A):
        return 1 / (1 + np.exp(-(b + ((A - means) / scales) @ w)))

    pos_fit = np.concatenate([prob(X_[h == 0]) for _, X_, y_, h, _ in groups if y_ == 1])
    neg_fit = np.concatenate([prob(X_[h == 0]) for _, X_, y_, h, _ in groups if y_ == 0])
    print("feature AUCs (fit halves, answerable vs removed):")
    P = np.vstack([X_[h == 0] for _, X_, y_, h, _ in groups if y_ == 1])
    N = np.vstack([X_[h == 0] for _, X_, y_, h, _ in groups if y_ == 0])
    for i, f in enumerate(ALL_FEATURES):
        print(f"  {f:22s} {auc(P[:, i], N[:, i]):.3f}  weight {w[i]:+.3f}")
    cuts = np.sort(pos_fit)
    threshold = float(cuts[int(np.floor(args.max_wrong * len(cuts)))])
    print(
        f"threshold (<= {args.max_wrong:.1%} wrong abstentions on the fit halves): {threshold:.3f}; "
        f"AUC fit {auc(pos_fit, neg_fit):.3f}"
    )
    print(f"{'group':32s} {'n fit':>6s} {'abstained fit':>13s} {'n check':>8s} {'abstained check':>15s}")
    for name, X_, _, h, _ in groups:
        p = prob(X_)
        cells = [
            f"{(h == k).sum():>6d} {(p[h == k] < threshold).mean() if (h == k).any() else 0:>13.3f}" for k in (0, 1)
        ]
        print(f"{name:32s} {cells[0]} {cells[1].replace('  ', ' ', 1):>24s}")
    print("\nper domain, check halves, one threshold: this fit")
    domain_table(groups, prob, threshold, args.reliability)
    print("\nthe same with the shipped weights (qa/confidence_weights.py), for comparison")
    domain_table(groups, *shipped_model(), args.reliability)
    seeds = Assistant.open(ensure_corpus_index(ROOT / "seeds", quiet=True), threshold=0.0)
    sdev = load_questions(EVAL / "seeds-dev.jsonl", seeds.store)
    ps = [prob(np.array([[seeds.ask(q.question).features.get(f, 0.0) for f in ALL_FEATURES]]))[0] for q in sdev]
    ans = [p for p, q in zip(ps, sdev, strict=True) if q.answerable]
    una = [p for p, q in zip(ps, sdev, strict=True) if not q.answerable]
    print(
        f"seeds (smoke test): abstained on unanswerable {np.mean([p < threshold for p in una]):.3f} ({len(una)}), "
        f"on answerable {np.mean([p < threshold for p in ans]):.3f} ({len(ans)})"
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
            f"#: Abstain below this probability (at most {args.max_wrong:.1%} wrong abstentions on the fit halves).\n"
            f"THRESHOLD = {round(threshold, 3)!r}\n",
            encoding="utf-8",
        )
        print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())

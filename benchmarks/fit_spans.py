"""Fit the answer-span scorer (``qa/span_weights.py``) on half the NarrativeQA stories.

For each answerable question whose gold answer occurs in the sentence holding
its evidence, every candidate span of that sentence (``qa.answer.candidate_features``)
is labelled with the SQuAD token F1 against the gold answers of the answer it would
give (``qa.answer.finish_span``: a list cut short is completed). A linear model
predicting that F1 is fitted on story half 0 and checked on half 1 (and on the
seeds): the reported EM/F1 are those of the top-scored candidate, given the
right sentence. The weights in use are scored the same way first ("current
weights"), so a change of candidates or rules can be measured without a refit.
The model family (``FAMILIES``) is chosen by a 5-fold cross-validation over all
the stories (folds by story), the steadier estimate; its weights are then fitted
on half 0 only, so half 1 stays a check of them.

    python benchmarks/fit_spans.py --index NQA_INDEX --seeds-index SEEDS_INDEX [--write]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import EVAL, load_questions, question_half  # noqa: E402

from embeddings.model import load_encoder  # noqa: E402
from qa.answer import FEATURES, Span, candidate_features, finish_span  # noqa: E402
from qa.assistant import Assistant  # noqa: E402
from qa.evaluation.answers import exact_match, f1  # noqa: E402
from qa.span_vectors import FEATURES as TOKEN_FEATURES  # noqa: E402
from qa.span_weights import PLAIN_WEIGHTS, WEIGHTS  # noqa: E402
from qa.store import IndexStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def gold_sentence(store, q):
    """The indexed sentence overlapping the evidence that contains an answer verbatim."""
    for doc, s, e in q.gold:
        if s is None:
            continue
        for sent in store.document_sentences(doc):
            if sent.start < e and s < sent.end and any(a and a in sent.text for a in q.answers):
                return sent
    return None


def dataset(store, questions, encoder):
    """Per question, the candidates of its gold sentence: features (with the token views the
    product uses: the question encoded, the sentence's vectors as stored in the index), F1, EM."""
    assistant = Assistant(store, encoder)
    groups = []
    for q in questions:
        if not q.answers:
            continue
        sent = gold_sentence(store, q)
        if sent is None:
            continue
        text = sent.text
        views = assistant.token_views(q.question, assistant.citation(sent, 0.0))
        cands = candidate_features(q.question, text, views)
        X = np.zeros((len(cands), len(FEATURES)))
        y = np.zeros(len(cands))
        em = np.zeros(len(cands))
        for i, (s, e, k, f) in enumerate(cands):
            for name, v in f.items():
                X[i, FEATURES.index(name)] = v
            # labelled by what the answer would show: the span completed (a list cut short goes on)
            e = finish_span(q.question, text, Span(s, e, k, 0.0)).end
            y[i] = max(f1(text[s:e], a) for a in q.answers)
            em[i] = max(exact_match(text[s:e], a) for a in q.answers)
        groups.append((q, X, y, em))
    return groups


def pick_scores(groups, w):
    ems, f1s, oracle = [], [], []
    for _q, X, y, em in groups:
        j = int(np.argmax(X @ w))
        ems.append(em[j])
        f1s.append(y[j])
        oracle.append(y.max())
    return 100 * np.mean(ems), 100 * np.mean(f1s), 100 * np.mean(oracle)


def listwise(groups, l2: float, power: float) -> np.ndarray:
    """Conditional-logit fit: softmax over each question's candidates towards F1**power."""
    from scipy.optimize import minimize

    data = []
    for _q, X, y, _em in groups:
        t = y**power
        if t.sum() <= 0:
            continue
        data.append((X, t / t.sum()))
    dim = data[0][0].shape[1]

    def loss(w):
        total, grad = 0.5 * l2 * w @ w, l2 * w
        for X, t in data:
            z = X @ w
            z = z - z.max()
            p = np.exp(z)
            p /= p.sum()
            total -= float(t @ np.log(p + 1e-12))
            grad = grad + X.T @ (p - t)
        return total / len(data), grad / len(data)

    res = minimize(loss, np.zeros(dim), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x


def fit_family(name: str, groups) -> np.ndarray:
    """Weights of one model family (see ``FAMILIES``) fitted on ``groups``."""
    from sklearn.linear_model import Ridge

    kind, param, power = FAMILIES[name]
    if kind == "ridge":
        X = np.vstack([g[1] for g in groups])
        y = np.concatenate([g[2] for g in groups])
        return Ridge(alpha=param, fit_intercept=False).fit(X, y).coef_
    return listwise(groups, param, power)


#: Candidate model families: ridge regression on each candidate's F1, or a listwise
#: (softmax over a question's candidates) fit towards F1**power.
FAMILIES = {
    "ridge a=1": ("ridge", 1.0, 1.0),
    "ridge a=10": ("ridge", 10.0, 1.0),
    "listwise l2=0.1 F1^1": ("listwise", 0.1, 1.0),
    "listwise l2=0.1 F1^4": ("listwise", 0.1, 4.0),
    "listwise l2=1 F1^4": ("listwise", 1.0, 4.0),
    "listwise l2=0.03 F1^4": ("listwise", 0.03, 4.0),
    "listwise l2=0.1 F1^8": ("listwise", 0.1, 8.0),
}


def cross_validated(name: str, groups, folds: int = 3) -> float:
    """EM + F1 of family ``name`` over ``folds`` story folds of ``groups`` (fit on the others)."""
    total = []
    for k in range(folds):
        train = [g for g in groups if hash_story(g[0]) % folds != k]
        test = [g for g in groups if hash_story(g[0]) % folds == k]
        em, f, _ = pick_scores(test, fit_family(name, train))
        total.append(em + f)
    return float(np.mean(total))


def hash_story(q) -> int:
    """A stable fold number from the question's story (its evidence document)."""
    import zlib

    return zlib.crc32(q.gold[0][0].encode()) if q.gold else 0


def without_tokens(groups):
    """The same data with the token-vector features zeroed (indexes stored without them)."""
    cols = [FEATURES.index(f) for f in TOKEN_FEATURES]
    out = []
    for q, X, y, em in groups:
        X = X.copy()
        X[:, cols] = 0.0
        out.append((q, X, y, em))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--seeds-index")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()

    encoder = load_encoder("onnx")
    store = IndexStore.open(args.index)
    qs = [q for q in load_questions(EVAL / "narrativeqa" / "questions.jsonl", store) if q.answerable]
    groups = dataset(store, qs, encoder)
    seeds = []
    if args.seeds_index:
        s_store = IndexStore.open(args.seeds_index)
        seeds = dataset(
            s_store, [q for q in load_questions(EVAL / "seeds-dev.jsonl", s_store) if q.answerable], encoder
        )
    chosen = {}
    for label, transform in (("with token vectors", lambda g: g), ("without token vectors", without_tokens)):
        fit = transform([g for g in groups if question_half(g[0]) == 0])
        check = transform([g for g in groups if question_half(g[0]) == 1])
        seed_groups = transform(seeds)
        print(
            f"\n{label}: questions with a gold sentence: fit {len(fit)}, check {len(check)}, seeds {len(seed_groups)}"
        )
        print(f"{'model':22s} | fit-half CV EM+F1 | check EM/F1 | seeds EM/F1 | check oracle F1 | all-story CV EM+F1")
        current = WEIGHTS if label == "with token vectors" else PLAIN_WEIGHTS
        w_now = np.array([current.get(f, 0.0) for f in FEATURES])
        ce, cf, _ = pick_scores(check, w_now)
        fe, ff, _ = pick_scores(fit, w_now)
        se, sf, _ = pick_scores(seed_groups, w_now) if seed_groups else (0, 0, 0)
        print(f"{'current weights':22s} | fit half {fe:4.1f}/{ff:4.1f} | {ce:4.1f}/{cf:4.1f}   | {se:4.1f}/{sf:4.1f}")
        best = None
        for name in FAMILIES:
            cv = cross_validated(name, fit)
            w = fit_family(name, fit)
            ce, cf, co = pick_scores(check, w)
            se, sf, _ = pick_scores(seed_groups, w) if seed_groups else (0, 0, 0)
            cv_all = cross_validated(name, transform(groups), folds=5)
            print(
                f"{name:22s} | {cv:17.1f} | {ce:4.1f}/{cf:4.1f}   | {se:4.1f}/{sf:4.1f}   | {co:15.1f} | {cv_all:18.1f}"
            )
            if best is None or cv_all > best[0]:
                best = (cv_all, name, w)
        print(f"chosen by the 5-fold cross-validation over all stories: {best[1]} (weights fitted on half 0)")
        chosen[label] = best
    if args.write:

        def body(w):
            weights = {f: round(float(v), 5) for f, v in zip(FEATURES, w, strict=True) if abs(v) > 1e-6}
            return "\n".join(f"    {k!r}: {v!r}," for k, v in weights.items())

        full, plain = chosen["with token vectors"], chosen["without token vectors"]
        (ROOT / "qa" / "span_weights.py").write_text(
            '"""Fitted span-scorer weights (written by ``benchmarks/fit_spans.py``; do not edit by hand)."""\n\n'
            "from __future__ import annotations\n\n"
            f"#: {full[1]}, fitted on NarrativeQA story half 0, with the token-vector features\n"
            f"WEIGHTS = {{\n{body(full[2])}\n}}\n\n"
            f"#: {plain[1]}, fitted on NarrativeQA story half 0, for indexes stored without token vectors\n"
            f"PLAIN_WEIGHTS = {{\n{body(plain[2])}\n}}\n",
            encoding="utf-8",
        )
        print("wrote qa/span_weights.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Choose the hybrid fusion weights and the rerank mix on half the NarrativeQA stories.

For every question it pools the dense and BM25 top lists (as ``qa.retrieval``
does), records cosine, BM25 and the rerank features for each pooled sentence
(MaxSim of the question's non-name words in the sentence and its one- and
two-sentence windows, of its names in the two windows, and the passage prior),
then sweeps the first-stage weights offline with the rerank mix
``qa.retrieval.RERANK_MIX``. With ``--fit-mix`` it instead fits the rerank
mix itself (a listwise softmax over each question's top candidates, towards the
relevant ones, weights non-negative) on the fit half.
Prints R@1/R@5/MRR on the fit half and the check half (split by story,
``benchmarks.devsets.story_half``).

    python benchmarks/tune_retrieval.py --index NQA_INDEX \
        --questions ../shared/eval/narrativeqa/questions.jsonl --content-tokens [--fit-mix]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import load_questions, question_half, recall_table  # noqa: E402

from qa.index import open_index  # noqa: E402
from qa.rerank import TokenRoles, context_best, weighted_maxsim  # noqa: E402
from qa.retrieval import (  # noqa: E402
    PASSAGE_PRIOR,
    RERANK_DEPTH,
    RERANK_MIX,
    RerankRetriever,
    _zscore,
    neighbour_ids,
)

CONTENT_TOKENS = False


def collect(store, questions, encoder, pool: int):
    """Per question: relevance of the pooled candidates, the candidates, and the raw rerank
    features (``MIX_KEYS``, and the passage prior's parts) of each, computed as
    ``qa.retrieval`` does (with ``--content-tokens``, the question's tokens and their roles
    from ``Assistant.encode_question``)."""
    from qa.assistant import Assistant
    from qa.question import clean_question

    assistant = Assistant(store, encoder)
    retriever = RerankRetriever(store, pool=pool)
    tokens = store.token_vectors
    rows = []
    for q in questions:
        text, _ = clean_question(q.question)
        qv, qt, roles = assistant.encode_question(text)
        if CONTENT_TOKENS is False:  # every token, one weight, no names (the old MaxSim)
            hidden, mask = encoder.token_vectors([text])
            n = int(mask[0].sum())
            qt = hidden[0, 1 : n - 1] / np.linalg.norm(hidden[0, 1 : n - 1], axis=1, keepdims=True)
            roles = TokenRoles.plain(len(qt))
        c = retriever.gather(text, qv)
        sents = {s.id: s for s in store.sentences(c.ids)}
        rel = np.array([q.relevant(sents[i].doc, sents[i].start, sents[i].end) for i in c.ids], dtype=bool)
        ids = c.ids  # features of every pooled candidate: the first stage picks the head per setting
        ring1 = (c.prev, c.next)
        centre, (win, wide) = context_best(qt, tokens, ids, [ring1, neighbour_ids(store, ids, 2)])
        words, names = roles.weights * ~roles.names, roles.weights * roles.names
        docs = store.documents_of(ids)
        prior_w, prior_cos = np.zeros(len(ids), np.float32), np.zeros(len(ids), np.float32)
        for k, i in enumerate(ids):
            n, mean = retriever._centroid(docs[i])
            if mean is not None:
                prior_w[k], prior_cos[k] = PASSAGE_PRIOR / n, float(mean @ qv.reshape(-1))
        feats = {
            "maxsim": weighted_maxsim(centre, words),
            "maxsim_window": weighted_maxsim(win, words),
            "maxsim_wide": weighted_maxsim(wide, words),
            "name_window": weighted_maxsim(win, names),
            "name_wide": weighted_maxsim(wide, names),
            "prior_w": prior_w,
            "prior_cos": prior_cos,
        }
        rows.append((q, rel, c, feats))
    return rows


def rank_of(order: np.ndarray, rel: np.ndarray) -> int | None:
    hit = np.nonzero(rel[order])[0]
    return int(hit[0]) + 1 if len(hit) else None


MIX_KEYS = ("maxsim", "maxsim_window", "maxsim_wide", "name_window", "name_wide", "fused")


def first_stage(c, w: float, win: float) -> np.ndarray:
    sentence = w * _zscore(c.cos) + (1 - w) * _zscore(c.bm25)
    window = w * _zscore(c.cos_window) + (1 - w) * _zscore(c.bm25_window)
    return (1 - win) * sentence + win * window


def mix_features(feats: dict, fused: np.ndarray, head: np.ndarray) -> np.ndarray:
    """The rerank features of the ``head`` candidates (``MIX_KEYS``), z-scored over the head as
    ``qa.retrieval`` does."""
    cols = []
    for k in MIX_KEYS:
        if k == "fused":
            cols.append(_zscore(fused[head]))
        else:
            cols.append(_zscore(feats[k][head]))
    return np.column_stack(cols)


def prior(feats: dict, head: np.ndarray) -> np.ndarray:
    """The passage prior of the ``head`` candidates (``RerankRetriever.passage_prior``)."""
    w = feats["prior_w"][head]
    return w * _zscore(feats["prior_cos"][head]) if w.any() else w


def evaluate(rows, w: float, win: float, mix: dict[str, float] | None, depth: int):
    ranks = []
    weights = np.array([mix[k] for k in MIX_KEYS]) if mix else None
    for _q, rel, c, ms in rows:
        if not len(rel):
            ranks.append(None)
            continue
        fused = first_stage(c, w, win)
        order = np.argsort(-fused, kind="stable")
        if weights is not None:
            head = order[:depth]
            mixed = mix_features(ms, fused, head) @ weights + prior(ms, head)
            order = np.concatenate([head[np.argsort(-mixed, kind="stable")], order[depth:]])
        ranks.append(rank_of(order, rel))
    return ranks


def fit_mix(rows, w: float, win: float, depth: int, l2: float = 0.1, drop=()) -> dict[str, float]:
    """Listwise fit of the rerank mix: softmax over each question's top ``depth`` candidates,
    with the passage prior as a fixed offset and the weights kept non-negative (those in
    ``drop`` at 0)."""
    from scipy.optimize import minimize

    data = []
    for _q, rel, c, ms in rows:
        fused = first_stage(c, w, win)
        head = np.argsort(-fused, kind="stable")[:depth]
        target = rel[head].astype(float)
        if target.sum() > 0:
            data.append((mix_features(ms, fused, head), target / target.sum(), prior(ms, head)))

    def loss(x):
        total, grad = 0.5 * l2 * x @ x, l2 * x
        for X, t, offset in data:
            z = X @ x + offset
            p = np.exp(z - z.max())
            p /= p.sum()
            total -= float(t @ np.log(p + 1e-12))
            grad = grad + X.T @ (p - t)
        return total / len(data), grad / len(data)

    x = minimize(
        loss,
        np.zeros(len(MIX_KEYS)),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, 0) if k in drop else (0, None) for k in MIX_KEYS],
    ).x
    return dict(zip(MIX_KEYS, (float(v) for v in x), strict=True))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--pool", type=int, default=50)
    ap.add_argument("--depth", type=int, default=RERANK_DEPTH)
    ap.add_argument("--show", type=int, default=25, help="print the best N settings by fit-half R@1 + MRR")
    floats = lambda t: [float(x) for x in t.split(",")]  # noqa: E731
    ap.add_argument("--dense-weights", type=floats, default=[0.0, 0.4, 0.5, 0.6, 0.7, 1.0])
    ap.add_argument("--window-weights", type=floats, default=[0.0, 0.2, 0.3, 0.4, 0.5])
    ap.add_argument(
        "--content-tokens",
        action="store_true",
        help="MaxSim over the question's content tokens with their roles, as qa does (else every token, plain)",
    )
    ap.add_argument("--fit-mix", action="store_true", help="fit the rerank mix on the fit half (first stage as in qa)")
    ap.add_argument("--drop", default="", help="with --fit-mix: comma-separated mix keys held at 0")
    args = ap.parse_args()
    global CONTENT_TOKENS
    CONTENT_TOKENS = args.content_tokens
    from embeddings.model import OnnxEncoder
    from qa.retrieval import DENSE_WEIGHT, WINDOW_WEIGHT

    store = open_index(args.index)
    questions = [q for q in load_questions(Path(args.questions), store) if q.answerable]
    rows = collect(store, questions, OnnxEncoder(), args.pool)
    halves = [question_half(q) for q, *_ in rows]
    print(f"{len(rows)} answerable questions; fit half {halves.count(0)}, check half {halves.count(1)}")

    def tables(ranks):
        return [recall_table([r for r, h in zip(ranks, halves, strict=True) if h == want]) for want in (0, 1)] + [
            recall_table(ranks)
        ]

    if args.fit_mix:
        fit_rows = [r for r, h in zip(rows, halves, strict=True) if h == 0]
        mix = fit_mix(fit_rows, DENSE_WEIGHT, WINDOW_WEIGHT, args.depth, drop=set(filter(None, args.drop.split(","))))
        scale = max(abs(v) for v in mix.values())
        print("fitted mix:", {k: round(v, 3) for k, v in mix.items()})
        print("fitted mix (scaled to max 1):", {k: round(v / scale, 3) for k, v in mix.items()})
        for name, m in (("current RERANK_MIX", RERANK_MIX), ("fitted", mix), ("no rerank", None)):
            fit, chk, al = tables(evaluate(rows, DENSE_WEIGHT, WINDOW_WEIGHT, m, args.depth))
            print(
                f"{name:18s} fit R1 {fit['R@1']:.3f} R5 {fit['R@5']:.3f} MRR {fit['MRR@10']:.3f} | "
                f"check R1 {chk['R@1']:.3f} R5 {chk['R@5']:.3f} MRR {chk['MRR@10']:.3f} | "
                f"all R1 {al['R@1']:.3f} R5 {al['R@5']:.3f}"
            )
        return 0
    print(
        f"{'w_dense':>7} {'win':>4} {'rerank':>6} | {'fit R1':>6} {'R5':>5} {'MRR':>5} | "
        f"{'check R1':>8} {'R5':>5} {'MRR':>5} | {'all R1':>6} {'R5':>5}"
    )
    results = []
    for w in args.dense_weights:
        for win in args.window_weights:
            for mix in (None, RERANK_MIX):
                fit, chk, al = tables(evaluate(rows, w, win, mix, args.depth))
                results.append((fit["R@1"] + fit["MRR@10"], (w, win, mix is not None), fit, chk, al))
    results.sort(key=lambda r: -r[0])
    for _, (w, win, rr), fit, chk, al in results[: args.show]:
        print(
            f"{w:7.2f} {win:4.2f} {str(rr):>6} | {fit['R@1']:6.3f} {fit['R@5']:5.3f} {fit['MRR@10']:5.3f} | "
            f"{chk['R@1']:8.3f} {chk['R@5']:5.3f} {chk['MRR@10']:5.3f} | {al['R@1']:6.3f} {al['R@5']:5.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Choose the hybrid fusion weight and the MaxSim mix on half the NarrativeQA stories.

For every question it pools the dense and BM25 top lists (as ``qa.retrieval``
does), records cosine, BM25 and MaxSim for each pooled sentence, then sweeps
the weights offline. Prints R@1/R@5/MRR on the fit half and the check half
(split by story, ``benchmarks.devsets.story_half``) for every setting.

    python benchmarks/tune_retrieval.py --index /tmp/A-idx-nqa \
        --questions ../shared/eval/narrativeqa/questions.jsonl --content-tokens
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import load_questions, question_half, recall_table  # noqa: E402

from qa.rerank import content_token_mask, maxsim_scores  # noqa: E402
from qa.retrieval import HybridRetriever, _zscore, window_tokens  # noqa: E402
from qa.store import IndexStore  # noqa: E402

CONTENT_TOKENS = False


def collect(store, questions, encoder, pool: int):
    retriever = HybridRetriever(store, pool=pool)
    tokens = store.token_vectors
    rows = []
    for q in questions:
        hidden, mask = encoder.token_vectors([q.question])
        n = int(mask[0].sum())
        qt = hidden[0, :n] / np.linalg.norm(hidden[0, :n], axis=1, keepdims=True)
        qv = hidden[0, :n].mean(axis=0)
        qv = (qv / np.linalg.norm(qv)).astype(np.float32)[None, :]
        c = retriever.gather(q.question, qv)
        sents = {s.id: s for s in store.sentences(c.ids)}
        rel = np.array([q.relevant(sents[i].doc, sents[i].start, sents[i].end) for i in c.ids], dtype=bool)
        m = qt[content_token_mask(encoder.token_strings(q.question))] if CONTENT_TOKENS else qt[1:-1]
        ms = maxsim_scores(m, [tokens.get(i) for i in c.ids]) if tokens else np.zeros(len(c.ids))
        msw = maxsim_scores(m, window_tokens(tokens, c.ids, c.prev, c.next)) if tokens else np.zeros(len(c.ids))
        rows.append((q, rel, c, ms, msw))
    return rows


def rank_of(order: np.ndarray, rel: np.ndarray) -> int | None:
    hit = np.nonzero(rel[order])[0]
    return int(hit[0]) + 1 if len(hit) else None


def evaluate(rows, w: float, win: float, mix: float | None, mwin: float, depth: int):
    ranks = []
    for _q, rel, c, ms, msw in rows:
        if not len(rel):
            ranks.append(None)
            continue
        sentence = w * _zscore(c.cos) + (1 - w) * _zscore(c.bm25)
        window = w * _zscore(c.cos_window) + (1 - w) * _zscore(c.bm25_window)
        fused = (1 - win) * sentence + win * window
        order = np.argsort(-fused, kind="stable")
        if mix is not None:
            head = order[:depth]
            m = (1 - mwin) * ms[head] + mwin * msw[head]
            mixed = mix * _zscore(m) + (1 - mix) * _zscore(fused[head])
            order = np.concatenate([head[np.argsort(-mixed, kind="stable")], order[depth:]])
        ranks.append(rank_of(order, rel))
    return ranks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--pool", type=int, default=50)
    ap.add_argument("--depths", type=lambda t: [int(x) for x in t.split(",")], default=[30])
    ap.add_argument("--show", type=int, default=25, help="print the best N settings by fit-half R@1 + MRR")
    floats = lambda t: [float(x) for x in t.split(",")]  # noqa: E731
    ap.add_argument("--dense-weights", type=floats, default=[0.0, 0.4, 0.5, 0.6, 0.7, 1.0])
    ap.add_argument("--window-weights", type=floats, default=[0.0, 0.2, 0.3, 0.4, 0.5])
    ap.add_argument("--maxsim-weights", type=floats, default=[0.4, 0.5, 0.6, 0.7, 0.8])
    ap.add_argument("--maxsim-window-weights", type=floats, default=[0.0, 0.2, 0.4])
    ap.add_argument("--content-tokens", action="store_true", help="MaxSim over content question tokens only")
    args = ap.parse_args()
    global CONTENT_TOKENS
    CONTENT_TOKENS = args.content_tokens
    from embeddings.model import OnnxEncoder

    store = IndexStore.open(args.index)
    questions = [q for q in load_questions(Path(args.questions), store) if q.answerable]
    rows = collect(store, questions, OnnxEncoder(), args.pool)
    halves = [question_half(q) for q, *_ in rows]
    print(f"{len(rows)} answerable questions; fit half {halves.count(0)}, check half {halves.count(1)}")
    print(f"{'w_dense':>7} {'win':>4} {'mix':>5} {'mwin':>4} {'depth':>5} | {'fit R1':>6} {'R5':>5} {'MRR':>5} | "
          f"{'check R1':>8} {'R5':>5} {'MRR':>5} | {'all R1':>6} {'R5':>5}")
    settings = [(w, win, None, 0.0, 0) for w in args.dense_weights for win in args.window_weights]
    settings += [
        (w, win, mix, mwin, depth)
        for w in args.dense_weights
        for win in args.window_weights
        for mix in args.maxsim_weights
        for mwin in args.maxsim_window_weights
        for depth in args.depths
    ]
    results = []
    for w, win, mix, mwin, depth in settings:
        ranks = evaluate(rows, w, win, mix, mwin, depth)
        fit = recall_table([r for r, h in zip(ranks, halves, strict=True) if h == 0])
        chk = recall_table([r for r, h in zip(ranks, halves, strict=True) if h == 1])
        al = recall_table(ranks)
        results.append((fit["R@1"] + fit["MRR@10"], (w, win, mix, mwin, depth), fit, chk, al))
    results.sort(key=lambda r: -r[0])
    for _, (w, win, mix, mwin, depth), fit, chk, al in results[: args.show]:
        print(
            f"{w:7.2f} {win:4.2f} {str(mix):>5} {mwin:4.2f} {depth:5d} | {fit['R@1']:6.3f} {fit['R@5']:5.3f} {fit['MRR@10']:5.3f} | "
            f"{chk['R@1']:8.3f} {chk['R@5']:5.3f} {chk['MRR@10']:5.3f} | {al['R@1']:6.3f} {al['R@5']:5.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

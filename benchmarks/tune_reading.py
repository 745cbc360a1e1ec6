"""Choose how many retrieved sentences the reader reads (``READ_DEPTH``) and how much the
retrieval score weighs against the reader's margin (``RETRIEVAL_WEIGHT``), by measuring.

For each answerable question it retrieves the top sentences once, reads the first
``--max-depth`` of them, and then scores every (depth, weight) pair offline: R@1 (the chosen
sentence is relevant) and the chosen span's EM/F1. Documents are split in two halves by a
hash of their id (``devsets.story_half``): choose on the fit half, read the check half.

    python benchmarks/tune_reading.py --set squad --limit 2000
    python benchmarks/tune_reading.py --set nqa
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import EVAL, SHARED, load_questions, question_half  # noqa: E402

from qa.assistant import Assistant  # noqa: E402
from qa.evaluation.answers import score_answer  # noqa: E402
from qa.evaluation.corpus import ensure_corpus_index  # noqa: E402

SETS = {
    "squad": (SHARED / "squad" / "dev" / "questions.jsonl", SHARED / "squad" / "dev" / "corpus.jsonl"),
    "nqa": (EVAL / "narrativeqa" / "questions.jsonl", EVAL / "narrativeqa" / "corpus.jsonl"),
}
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 1e6)
DEPTHS = (1, 2, 3, 5, 8)


def zscores(scores: list[float]) -> np.ndarray:
    """Retrieval scores normalised over the first ten (as ``qa.assistant.rank_by_reading`` does)."""
    x = np.asarray(scores, dtype=np.float64)
    sd = float(x[:10].std())
    return (x - x[:10].mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def collect(assistant: Assistant, questions, max_depth: int, context: bool) -> list[dict]:
    rows = []
    for i, q in enumerate(questions):
        retrieved = assistant.retrieve(q.question, 10)
        hits = retrieved.hits
        if not hits:
            continue
        sents = [retrieved.sentences[h.sentence_id] for h in hits]
        if context:
            read = assistant.read_sentences(q.question, sents[:max_depth])
        else:
            read = assistant.reader.read(q.question, [s.text for s in sents[:max_depth]])
        rows.append(
            {
                "half": question_half(q),
                "z": zscores([h.score for h in hits])[:max_depth].tolist(),
                "relevant": [q.relevant(s.doc, s.start, s.end) for s in sents[:max_depth]],
                "margin": [r.margin for r in read],
                "score": [r.score for r in read],
                "f1": [score_answer(s.text[r.start : r.end], q.answers)["f1"] for s, r in zip(sents, read)],
                "em": [score_answer(s.text[r.start : r.end], q.answers)["em"] for s, r in zip(sents, read)],
            }
        )
        if (i + 1) % 200 == 0:
            print(f"  {i + 1}/{len(questions)}", file=sys.stderr)
    return rows


def table(rows: list[dict], key: str) -> None:
    print(f"{'depth':>5} {'weight':>7} | {'fit R@1':>7} {'F1':>6} {'EM':>6} | {'check R@1':>9} {'F1':>6} {'EM':>6}")
    for depth in DEPTHS:
        for w in WEIGHTS:
            out = {0: [], 1: []}
            for r in rows:
                n = min(depth, len(r[key]))
                combined = [max(-20.0, min(20.0, r[key][i])) + w * r["z"][i] for i in range(n)]
                best = int(np.argmax(combined))
                out[r["half"]].append((r["relevant"][best], r["f1"][best], r["em"][best]))
            cells = []
            for h in (0, 1):
                a = np.array(out[h], dtype=float) if out[h] else np.zeros((1, 3))
                cells.append(f"{a[:, 0].mean():7.3f} {a[:, 1].mean():6.3f} {a[:, 2].mean():6.3f}")
            print(f"{depth:5d} {w:7.2f} | {cells[0]} | {cells[1]:>s}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=sorted(SETS), default="squad")
    ap.add_argument("--limit", type=int, default=0, help="questions (0: all); a fixed stride sample")
    ap.add_argument("--max-depth", type=int, default=max(DEPTHS))
    ap.add_argument("--context", action="store_true", help="read each sentence between its neighbours (with a context reader)")
    ap.add_argument("--key", choices=["margin", "score"], default="margin", help="the reader's number to combine")
    args = ap.parse_args()
    questions_path, corpus = SETS[args.set]
    assistant = Assistant.open(ensure_corpus_index(corpus, quiet=True), threshold=0.0)
    qs = [q for q in load_questions(questions_path, assistant.store) if q.answerable and q.answers]
    if args.limit and len(qs) > args.limit:
        qs = qs[:: len(qs) // args.limit][: args.limit]
    rows = collect(assistant, qs, args.max_depth, args.context)
    print(f"{args.set}: {len(rows)} answerable questions; reader key: {args.key}; context: {args.context}")
    table(rows, args.key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Abstention per domain, on the checking halves, with the shipped threshold: the README's table.

For each domain, questions the corpus does not answer (negatives) and questions it does
(positives), asked through the product (``Assistant.ask``, its one threshold):

* ``squad-v2``: SQuAD 2.0 dev (``../shared/squad/v2-dev``), the checking articles (a hash of the
  title, ``devsets.story_half`` = 1). Negatives: the unanswerable questions, written against
  their paragraph to look answerable. Positives: the answerable ones. Corpus: all 15 articles.
* ``squad``: the SQuAD dev split, checking articles (``--squad-limit``, a stride sample).
  Negatives: each question asked with its own paragraph removed (a right answer from another
  paragraph counts as right). Positives: the same questions asked normally.
* ``narrativeqa``: the checking stories; negatives with their own story removed.
* ``seeds-dev`` last (a smoke test: its unanswerable questions are the negatives; both halves).

Columns: negatives abstained; negatives abstained or answered right all the same; positives
wrongly abstained; expected calibration error of the confidence as the probability that the
corpus answers the question (ten equal-width bins); with ``--reliability``, each domain's
reliability table.

    python benchmarks/abstention.py [--squad-limit 2000] [--reliability] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import EVAL, SHARED, load_questions, question_half, story_half, v2_articles  # noqa: E402
from fit_confidence import calibration  # noqa: E402

from qa import Assistant  # noqa: E402
from qa.evaluation.answers import score_answer  # noqa: E402
from qa.evaluation.corpus import ensure_corpus_index  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def ask(assistant, q, exclude: bool) -> dict:
    r = assistant.ask(q.question, exclude_docs=q.docs if exclude else None)
    answer = r.answer.text if r.answer else None
    right = bool(answer and q.answers and score_answer(answer, list(q.answers))["contains"])
    return {"confidence": r.confidence, "abstained": answer is None, "right": right}


def domain_rows(name: str, assistant, positives: list, negatives: list, exclude: bool) -> dict:
    from tqdm import tqdm

    pos = [ask(assistant, q, False) for q in tqdm(positives, desc=f"{name} +", leave=False, file=sys.stderr)]
    neg = [ask(assistant, q, exclude) for q in tqdm(negatives, desc=f"{name} -", leave=False, file=sys.stderr)]
    p = np.array([x["confidence"] for x in pos + neg])
    y = np.array([1.0] * len(pos) + [0.0] * len(neg))
    ece, table = calibration(p, y)
    return {
        "domain": name,
        "positives": len(pos),
        "negatives": len(neg),
        "negatives_abstained": float(np.mean([x["abstained"] for x in neg])) if neg else None,
        "negatives_abstained_or_right": float(np.mean([x["abstained"] or x["right"] for x in neg])) if neg else None,
        "positives_abstained": float(np.mean([x["abstained"] for x in pos])) if pos else None,
        "positives_answered_right": float(np.mean([x["right"] for x in pos if not x["abstained"]] or [0.0])),
        "ece": ece,
        "reliability": table,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad-limit", type=int, default=2000, help="SQuAD dev questions before halving (stride)")
    ap.add_argument("--reliability", action="store_true", help="print each domain's reliability table")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    rows = []

    v2_dir = SHARED / "squad" / "v2-dev"
    with Assistant.open(ensure_corpus_index(v2_dir / "corpus.jsonl", quiet=True)) as v2:
        qs = load_questions(v2_dir / "questions.jsonl", v2.store)
        halves = [story_half(t) for t in v2_articles(v2_dir / "questions.jsonl", v2.store)]
        check = [q for q, h in zip(qs, halves, strict=True) if h == 1]
        rows.append(
            domain_rows(
                "squad-v2", v2, [q for q in check if q.answerable], [q for q in check if not q.answerable], False
            )
        )

    squad_dir = SHARED / "squad" / "dev"
    with Assistant.open(ensure_corpus_index(squad_dir / "corpus.jsonl", quiet=True)) as squad:
        sq = [q for q in load_questions(squad_dir / "questions.jsonl", squad.store) if q.answerable]
        if args.squad_limit and len(sq) > args.squad_limit:
            sq = sq[:: len(sq) // args.squad_limit][: args.squad_limit]
        doc = squad.store.document
        sq = [q for q in sq if story_half(doc(sorted(q.docs)[0]).title or sorted(q.docs)[0]) == 1]
        rows.append(domain_rows("squad", squad, sq, sq, True))

    nqa_dir = EVAL / "narrativeqa"
    with Assistant.open(ensure_corpus_index(nqa_dir / "corpus.jsonl", quiet=True)) as nqa:
        qs = [q for q in load_questions(nqa_dir / "questions.jsonl", nqa.store) if q.answerable and question_half(q)]
        rows.append(domain_rows("narrativeqa", nqa, qs, qs, True))

    with Assistant.open(ensure_corpus_index(ROOT / "seeds", quiet=True)) as seeds:
        qs = load_questions(EVAL / "seeds-dev.jsonl", seeds.store)
        positives = [q for q in qs if q.answerable]
        negatives = [q for q in qs if q.kind == "unanswerable"]
        rows.append(domain_rows("seeds-dev", seeds, positives, negatives, False))

    print(
        f"{'domain':12s} {'+ / -':>11s} {'- abstained':>12s} {'- abstained or right':>21s} "
        f"{'+ wrongly abstained':>20s} {'+ right when answered':>22s} {'ECE':>6s}"
    )
    for r in rows:
        print(
            f"{r['domain']:12s} {r['positives']:>5d} / {r['negatives']:<4d} {r['negatives_abstained']:>12.3f} "
            f"{r['negatives_abstained_or_right']:>21.3f} {r['positives_abstained']:>20.3f} "
            f"{r['positives_answered_right']:>22.3f} {r['ece']:>6.3f}"
        )
        if args.reliability:
            for b, n, conf, acc in r["reliability"]:
                print(f"    {b:9s} {n:>5d} questions  confidence {conf:.3f}  answerable {acc:.3f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

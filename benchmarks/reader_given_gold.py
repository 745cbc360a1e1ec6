"""The reader given the gold sentence, on SQuAD dev questions: EM/F1 and where the misses are.

Scores the shipped ONNX reader, or fine-tuned torch models (``--models``; several are
averaged weight by weight, a "model soup"), on a seeded sample of ``../shared/squad/dev``.
Besides EM/F1 it sorts each answer against its closest gold answer: exact, too short (inside
the gold), too long (holds the gold), overlapping, or disjoint.

    python benchmarks/reader_given_gold.py --limit 3000
    python benchmarks/reader_given_gold.py --models runs/reader/final,runs/reader-2/final --limit 1500
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from train_reader import gold_sentences, read_squad  # noqa: E402

from qa.evaluation.answers import exact_match, f1  # noqa: E402
from qa.reader import Reader, ReadSpan, best_span  # noqa: E402
from qa.text import normalize_answer  # noqa: E402


def torch_spans(paths: list[str], gold: list[dict]) -> list[ReadSpan]:
    """Spans from the weight average of fine-tuned torch readers (fp32)."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    models = [AutoModelForQuestionAnswering.from_pretrained(p) for p in paths]
    state = {k: sum(m.state_dict()[k].float() for m in models) / len(models) for k in models[0].state_dict()}
    model = models[0]
    model.load_state_dict(state)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(paths[0])
    out = []
    with torch.no_grad():
        for g in gold:
            enc = tokenizer(
                g["question"],
                g["sentence"],
                truncation=True,
                max_length=192,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = enc.pop("offset_mapping")[0].tolist()
            logits = model(**enc)
            out.append(
                best_span(
                    logits.start_logits[0].numpy(),
                    logits.end_logits[0].numpy(),
                    enc.sequence_ids(0),
                    offsets,
                    0,
                    len(g["sentence"]),
                )
            )
    return out


def kind_of_miss(prediction: str, answers: list[str]) -> str:
    best = max(answers, key=lambda a: f1(prediction, a))
    p, a = normalize_answer(prediction), normalize_answer(best)
    if p == a:
        return "exact"
    if a and a in p:
        return "too long"
    if p and p in a:
        return "too short"
    return "overlapping" if set(p.split()) & set(a.split()) else "disjoint"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "squad")
    ap.add_argument("--limit", type=int, default=1500, help="dev questions, a seeded sample (0: all 8,840)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--models", help="comma-separated torch model folders (averaged); default: the shipped ONNX")
    args = ap.parse_args()
    if not (args.squad / "dev.jsonl.gz").exists():
        raise SystemExit(f"SQuAD not found in {args.squad}: pass --squad DIR")
    records = read_squad(args.squad / "dev.jsonl.gz")
    if args.limit:
        records = random.Random(args.seed).sample(records, min(args.limit, len(records)))
    gold = gold_sentences(records)
    if args.models:
        spans = torch_spans(args.models.split(","), gold)
    else:
        around = [(g["before"], g["after"]) for g in gold]
        spans = Reader().read_pairs([g["question"] for g in gold], [g["sentence"] for g in gold], around)
    em = sc = 0.0
    kinds: Counter[str] = Counter()
    for g, s in zip(gold, spans, strict=True):
        pred = g["sentence"][s.start : s.end]
        em += max(exact_match(pred, a) for a in g["answers"])
        sc += max(f1(pred, a) for a in g["answers"])
        kinds[kind_of_miss(pred, g["answers"])] += 1
    n = len(gold)
    print(f"reader: {args.models or 'shipped int8 ONNX'}; {n} SQuAD dev questions given the gold sentence")
    print(f"EM {100 * em / n:.2f}  F1 {100 * sc / n:.2f}")
    print("| answer against the closest gold answer | share |\n|---|---|")
    for kind in ("exact", "too short", "too long", "overlapping", "disjoint"):
        print(f"| {kind} | {kinds[kind] / n:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Int8 variants of a reader export, given the gold sentence, on a sample of the SQuAD dev split.

    python benchmarks/reader_quantisation.py runs/mpnet-pilot --questions 400

Reads RUN/reader-fp32.onnx (``training/train_reader.py export``) and RUN/tokenizer.json (a ``--base``
run's; the bundled MiniLM's when absent), quantises it three ways with onnxruntime's dynamic
quantisation and prints EM / F1 / seconds for each beside fp32, on the same questions. On CPUs
without VNNI (AVX2) onnxruntime's u8s8 integer products can saturate; ``reduce_range`` (7-bit
weights) or u8u8 avoid it.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

import train_reader as tr  # noqa: E402

from qa.reader import Reader  # noqa: E402

VARIANTS = {
    "u8s8 per-channel (the shipped recipe)": {"weight_type": "QInt8", "per_channel": True},
    "u8s8 per-channel, reduce_range": {"weight_type": "QInt8", "per_channel": True, "reduce_range": True},
    "u8u8 per-channel": {"weight_type": "QUInt8", "per_channel": True},
}


def score(path: Path, gold: list[dict], tokenizer: Path | None) -> tuple[float, float, float]:
    reader = Reader(path, threads=2, tokenizer=tokenizer)
    t0 = time.time()
    spans = reader.read_pairs([g["question"] for g in gold], [g["sentence"] for g in gold])
    em = f1 = 0.0
    for g, s in zip(gold, spans, strict=True):
        pred = g["sentence"][s.start : s.end]
        em += max(tr.squad_em(pred, a) for a in g["answers"])
        f1 += max(tr.squad_f1(pred, a) for a in g["answers"])
    return 100 * em / len(gold), 100 * f1 / len(gold), time.time() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path)
    p.add_argument("--questions", type=int, default=400)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "squad")
    args = p.parse_args()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    records = tr.read_squad(args.squad / "dev.jsonl.gz")
    gold = tr.gold_sentences(random.Random(args.seed).sample(records, args.questions))
    tokenizer = args.run / "tokenizer.json" if (args.run / "tokenizer.json").exists() else None
    fp32 = args.run / "reader-fp32.onnx"
    print("| model | EM | F1 | seconds | MB |\n|---|---|---|---|---|")
    em, f1, sec = score(fp32, gold, tokenizer)
    print(f"| fp32 | {em:.1f} | {f1:.1f} | {sec:.0f} | {fp32.stat().st_size / 1e6:.0f} |", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, options) in enumerate(VARIANTS.items()):
            out = Path(tmp) / f"int8-{i}.onnx"
            quantize_dynamic(str(fp32), str(out), **{**options, "weight_type": QuantType[options["weight_type"]]})
            em, f1, sec = score(out, gold, tokenizer)
            print(f"| {name} | {em:.1f} | {f1:.1f} | {sec:.0f} | {out.stat().st_size / 1e6:.0f} |", flush=True)


if __name__ == "__main__":
    main()

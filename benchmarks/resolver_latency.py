"""Resolver latency, several exported models in one process: each CANARD checking-half turn (with
titles) is resolved by every model in turn, so load on the machine falls on all alike. Prints each
model's median ms and its ratio to the first model's.

    python benchmarks/resolver_latency.py runs/encoder-pilot/mini-pc0/resolver-int8.onnx \
        runs/encoder-pilot/mpnet-pc0/resolver-int8.onnx [--turns 100] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, nargs="+", help="exported resolvers (.onnx); the first is the baseline")
    parser.add_argument("--turns", type=int, default=100, help="the first N checking-half turns (default 100)")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: all cores)")
    args = parser.parse_args()

    import canard

    from qa.resolver import Resolver

    rows = canard.load_canard(canard.DEFAULT, "check")[: args.turns]
    models = [Resolver(path, threads=args.threads) for path in args.models]
    for model in models:  # warm up
        for r in rows[:5]:
            model.resolve_turn(r["question"], r["history"])
    times: list[list[float]] = [[] for _ in models]
    for r in rows:
        for model, spent in zip(models, times, strict=True):
            t0 = time.perf_counter()
            model.resolve_turn(r["question"], r["history"])
            spent.append((time.perf_counter() - t0) * 1000)
    medians = [statistics.median(t) for t in times]
    print(f"| resolver ({len(rows)} turns, alternating) | median | ratio |")
    print("|---|---|---|")
    for path, median in zip(args.models, medians, strict=True):
        print(f"| {path} | {median:.1f} ms | {median / medians[0]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

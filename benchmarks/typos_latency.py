"""Warm latency with and without the spelling correction (``qa.spelling``), interleaved: each
seeds-dev question is asked with it and without it by turns, ``--passes`` times.

    python benchmarks/typos_latency.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEEDS_DEV = ROOT.parent / "shared" / "eval" / "seeds-dev.jsonl"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--passes", type=int, default=5)
    args = p.parse_args(argv)
    if not SEEDS_DEV.exists():
        p.error(f"{SEEDS_DEV} not found: this benchmark needs ../shared beside the repository")

    import qa.assistant
    from qa import Assistant

    corrected = qa.assistant.understood_as
    questions = [json.loads(line)["question"] for line in SEEDS_DEV.read_text(encoding="utf-8").splitlines() if line]
    wall: dict[str, list[float]] = {"without": [], "with": []}
    cpu: dict[str, list[float]] = {"without": [], "with": []}
    with Assistant.open("seeds") as assistant:
        for q in questions[:3]:
            assistant.ask(q)
        for _ in range(args.passes):
            for q in questions:
                for name, correct in (("without", lambda store, question: None), ("with", corrected)):
                    qa.assistant.understood_as = correct
                    t, c = time.perf_counter(), time.process_time()
                    assistant.ask(q)
                    wall[name].append((time.perf_counter() - t) * 1000)
                    cpu[name].append((time.process_time() - c) * 1000)
    qa.assistant.understood_as = corrected
    for name in wall:
        print(f"{name} correction: warm p50 {statistics.median(wall[name]):.1f} ms wall, "
              f"{statistics.median(cpu[name]):.1f} ms CPU ({len(wall[name])} asks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

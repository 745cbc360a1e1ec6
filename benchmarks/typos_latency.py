"""Warm latency with and without the spelling correction (``qa.spelling``), interleaved: each
seeds-dev question is asked with it and without it by turns, ``--passes`` times; then the
correction alone (``qa.spelling.understood_as``, CPU time) on the questions as written and
misspelt (``benchmarks/typos.py``'s ``perturb``, each mode).

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
        alone = correction_alone(assistant.store, questions, args.passes)
    for name in wall:
        print(f"{name} correction: warm p50 {statistics.median(wall[name]):.1f} ms wall, "
              f"{statistics.median(cpu[name]):.1f} ms CPU ({len(wall[name])} asks)")
    for name, times in alone.items():
        times.sort()
        print(f"correction alone, {name}: p50 {statistics.median(times):.2f} ms CPU, "
              f"p90 {times[int(0.9 * len(times))]:.2f}, max {times[-1]:.2f} ({len(times)} questions)")
    return 0


def correction_alone(store, questions: list[str], passes: int) -> dict[str, list[float]]:
    """CPU milliseconds of ``understood_as`` per question, as written and misspelt (the best of
    ``passes`` runs each)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from typos import MODES, perturb

    from qa.spelling import understood_as

    sets = {"as written": questions}
    sets.update({f"typos {mode}": [perturb(q, str(i), mode=mode) for i, q in enumerate(questions)] for mode in MODES})
    out = {}
    for name, texts in sets.items():
        best = [float("inf")] * len(texts)
        for _ in range(passes):
            for i, text in enumerate(texts):
                c = time.process_time()
                understood_as(store, text)
                best[i] = min(best[i], (time.process_time() - c) * 1000)
        out[name] = best
    return out


if __name__ == "__main__":
    sys.exit(main())

"""The cut on the resolver's ``needs_history`` above which a question asked with no history is not
guessed at (``qa.conversation.NEEDS_HISTORY``), chosen by the rule of docs/conversations.md: the
lowest cut that holds back at most 1% of stand-alone questions on fitting data.

Stand-alone questions: the 983-question SQuAD dev stride sample that ``qa eval --limit 1000`` asks
(even lines: fitting, odd lines: checking) and seeds-dev (fitting). Leaning questions: CANARD
questions whose rewrite differs from them, each half of the by-dialog split. Every question is
resolved with an empty history; a question is held back when its ``needs_history`` is at least the cut.

    python benchmarks/needs_history_cut.py [--model FILE.onnx]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import canard  # noqa: E402

SHARED = ROOT.parent / "shared"
CUTS = [0.9, 0.95, 0.97, 0.98, 0.985, 0.99, 0.992, 0.994, 0.996, 0.998, 0.999, 0.9995, 0.9998]
HELD_BACK_AT_MOST = 0.01


def questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="an exported resolver .onnx (default: the shipped model)")
    args = parser.parse_args()
    from qa.commands.eval import stride_sample
    from qa.resolver import MODEL_PATH, Resolver

    resolver = Resolver(args.model or MODEL_PATH)
    squad = stride_sample(questions(SHARED / "squad" / "dev" / "questions.jsonl"), 1000)
    sets = {
        "squad fit": squad[::2],
        "squad check": squad[1::2],
        "seeds-dev": questions(SHARED / "eval" / "seeds-dev.jsonl"),
    }
    for half in ("fit", "check"):
        rows = canard.load_canard(canard.DEFAULT, half)
        sets[f"canard leaning {half}"] = [r["question"] for r in rows if r["rewrite"].strip() != r["question"].strip()]
    scores = {name: [resolver.resolve_turn(q, []).needs_history for q in qs] for name, qs in sets.items()}
    fit_standalone = scores["squad fit"] + scores["seeds-dev"]
    chosen = next(
        (c for c in CUTS if sum(s >= c for s in fit_standalone) / len(fit_standalone) <= HELD_BACK_AT_MOST), CUTS[-1]
    )
    print("cut    " + "  ".join(f"{name} ({len(sets[name])})" for name in sets))
    for cut in CUTS:
        rates = [sum(s >= cut for s in scores[name]) / len(scores[name]) for name in sets]
        print(f"{cut:<6} " + "  ".join(f"{r:.3f}" for r in rates) + ("   <- chosen" if cut == chosen else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

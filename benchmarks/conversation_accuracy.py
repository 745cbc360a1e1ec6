"""Per-turn accuracy of ``Conversation`` on a conversations file (see ../shared/eval/README.md).

A turn is correct when one of its gold answers occurs in the answer text
(case-insensitive); an abstention is correct only when the turn has no answers.
Compared with asking every question on its own (no conversation context).

    python benchmarks/conversation_accuracy.py [CONVERSATIONS.jsonl] [--index DIR] [-v]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "eval" / "conversations-dev.jsonl"


def correct(result, answers: list[str]) -> bool:
    if not answers:
        return result.answer is None
    text = result.answer.text.lower() if result.answer else ""
    return any(a.lower() in text for a in answers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("conversations", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--index", type=Path, help="index directory (default: the seeds index)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every turn")
    args = parser.parse_args()
    from qa import Assistant

    conversations = [json.loads(line) for line in args.conversations.read_text(encoding="utf-8").splitlines() if line]
    with Assistant.open(args.index) as assistant:
        totals = {"conversation": [0, 0], "standalone": [0, 0]}
        followups = {"conversation": [0, 0], "standalone": [0, 0]}
        for conv in conversations:
            chat = assistant.conversation()
            for n, turn in enumerate(conv["turns"]):
                with_context = chat.ask(turn["question"])
                alone = assistant.ask(turn["question"])
                for mode, result in (("conversation", with_context), ("standalone", alone)):
                    ok = correct(result, turn["answers"])
                    totals[mode][0] += ok
                    totals[mode][1] += 1
                    if n:
                        followups[mode][0] += ok
                        followups[mode][1] += 1
                if args.verbose:
                    got = with_context.answer.text if with_context.answer else None
                    mark = "ok " if correct(with_context, turn["answers"]) else "MISS"
                    print(f"{mark} {conv['id']} #{n + 1}: {turn['question']!r} -> {chat.turns[-1].resolved!r}", file=sys.stderr)
                    print(f"       answer {got!r}; gold {turn['answers']}", file=sys.stderr)
    print(f"{args.conversations.name}: {len(conversations)} conversations")
    print(f"| mode | all turns | follow-up turns |")
    print(f"|---|---|---|")
    for mode in ("conversation", "standalone"):
        (a, n), (fa, fn) = totals[mode], followups[mode]
        print(f"| {mode} | {a}/{n} = {a / max(n, 1):.3f} | {fa}/{fn} = {fa / max(fn, 1):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

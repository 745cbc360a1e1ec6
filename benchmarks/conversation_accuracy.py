"""Per-turn accuracy of ``Conversation`` on a conversations file (see ../shared/eval/README.md).

A turn is correct when one of its gold answers occurs in the answer text
(case-insensitive); an abstention is correct only when the turn has no answers.
For follow-ups, also whether the top cited sentence holds a gold answer (what the
conversation's retrieval decides, apart from span extraction and abstention).
Compared with asking every question on its own (no conversation context).

    python benchmarks/conversation_accuracy.py [CONVERSATIONS.jsonl ...] [--index DIR] [-v]

On the seeds (default index):
    python benchmarks/conversation_accuracy.py ../shared/eval/conversations-dev.jsonl \
        tests/data/conversations-extra.jsonl
On NarrativeQA stories (tests/data/conversations-narrative.jsonl, written for this benchmark):
    qa index ../shared/eval/narrativeqa/corpus.jsonl --index /tmp/nqa-index
    python benchmarks/conversation_accuracy.py tests/data/conversations-narrative.jsonl --index /tmp/nqa-index
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
    parser.add_argument("conversations", nargs="*", type=Path, default=[DEFAULT])
    parser.add_argument("--index", type=Path, help="index directory (default: the seeds index)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every turn")
    args = parser.parse_args()
    from qa import Assistant

    with Assistant.open(args.index) as assistant:
        for path in args.conversations:
            report(assistant, path, args.verbose)
    return 0


def report(assistant, path: Path, verbose: bool) -> None:
    conversations = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if True:
        totals = {"conversation": [0, 0], "standalone": [0, 0]}
        followups = {"conversation": [0, 0], "standalone": [0, 0]}
        in_top = {"conversation": [0, 0], "standalone": [0, 0]}
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
                        top = result.citations[0].text.lower() if result.citations else ""
                        in_top[mode][0] += any(a.lower() in top for a in turn["answers"])
                        in_top[mode][1] += 1
                if verbose:
                    got = with_context.answer.text if with_context.answer else None
                    mark = "ok " if correct(with_context, turn["answers"]) else "MISS"
                    asked = f"{turn['question']!r} -> {chat.turns[-1].resolved!r}"
                    print(f"{mark} {conv['id']} #{n + 1}: {asked}", file=sys.stderr)
                    top = with_context.citations[0].text[:100] if with_context.citations else None
                    print(f"       answer {got!r}; gold {turn['answers']}; top {top!r}", file=sys.stderr)
    print(f"\n{path.name}: {len(conversations)} conversations")
    print("| mode | answer, all turns | answer, follow-ups | top sentence holds a gold answer, follow-ups |")
    print("|---|---|---|---|")
    for mode in ("conversation", "standalone"):
        cells = [f"{a}/{n} = {a / max(n, 1):.3f}" for a, n in (totals[mode], followups[mode], in_top[mode])]
        print(f"| {mode} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())

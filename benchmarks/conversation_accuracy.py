"""Conversations in one document (QuAC's format), scored on a fixed half of the set.

Every conversation of CONVERSATIONS is asked, turn by turn, through
``assistant.conversation(docs=[its doc])``, exactly as ``qa eval`` does
(``qa.evaluation.conversations``): first-turn and follow-up answer F1, whether the top
citation overlaps a reference, abstention on unanswerable and answerable turns.

The set is split in two fixed halves by a hash of the conversation id: make every choice
on ``--half fit``, report on ``--half check``.

    python benchmarks/conversation_accuracy.py --half fit                  # quac-dev, its fit half
    python benchmarks/conversation_accuracy.py --half check --json
    python benchmarks/conversation_accuracy.py --half fit --report runs/quac-fit.jsonl
    python benchmarks/conversation_accuracy.py --conversations tests/data/conversations-dev.jsonl --index seeds
    python benchmarks/conversation_accuracy.py --half fit --resolver runs/resolver/pg/resolver-int8.onnx
    python benchmarks/conversation_accuracy.py --conversations tests/data/conversations-dev.jsonl --index seeds \
        --latency 20                                                         # warm follow-up latency
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUAC = ROOT.parent / "shared" / "conversations" / "quac-dev"


def half(conversation_id: str) -> str:
    """``"fit"`` or ``"check"``: a fixed split by the first byte of the id's SHA-256."""
    return "fit" if hashlib.sha256(conversation_id.encode("utf-8")).digest()[0] % 2 == 0 else "check"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=Path, default=QUAC / "conversations.jsonl")
    parser.add_argument("--corpus", type=Path, help="index this corpus (cached; default: quac-dev's corpus)")
    parser.add_argument("--index", help="an index instead of --corpus (e.g. seeds)")
    parser.add_argument("--half", choices=("fit", "check", "all"), default="all")
    parser.add_argument("--limit", type=int, default=0, help="at most this many conversations (0: all)")
    parser.add_argument("--report", type=Path, help="per-turn records as JSONL")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--latency", type=int, metavar="PASSES", default=0,
                        help="instead: warm follow-up latency, PASSES passes over the conversations (e.g. on seeds)")
    parser.add_argument("--resolved-only", action="store_true",
                        help="ask follow-ups as resolved only (default: also as typed, the more confident kept)")
    parser.add_argument("--typed-over-library", action="store_true",
                        help="over a whole library, ask the question as typed over the library too, not inside "
                        "the last answer's document (as before 2026-12-07)")
    parser.add_argument("--resolver", type=Path, metavar="MODEL.onnx",
                        help="an exported resolver (training/train_resolver.py) instead of the shipped one; the "
                        "needs_history cut for first turns stays the shipped model's (NEEDS_HISTORY)")
    parser.add_argument("--typed-only", action="store_true",
                        help="a baseline: no resolver, every question asked as typed")
    parser.add_argument("--one-after-another", action="store_true",
                        help="ask a follow-up as resolved and as typed one after the other, not at once")
    parser.add_argument("--span-answers", action="store_true", help="answer with the reader's span, not its sentence")
    parser.add_argument("--repeats", choices=("span", "sentence", "allowed"), default="span",
                        help="what counts as an answer given again: its span (default), its sentence; or allowed")
    args = parser.parse_args()

    from qa import Assistant
    from qa.evaluation.conversations import evaluate_conversations
    from qa.evaluation.corpus import ensure_corpus_index
    from qa.evaluation.questions import load_question_set
    from qa.evaluation.report import render_conversations

    import qa.conversation

    qa.conversation.SENTENCE_ANSWERS = not args.span_answers
    qa.conversation.POOL_TYPED = not args.resolved_only
    qa.conversation.ASK_AT_ONCE = not args.one_after_another
    qa.conversation.NO_REPEATS = None if args.repeats == "allowed" else args.repeats
    qa.conversation.TYPED_IN_LAST_DOCUMENT = not args.typed_over_library
    if args.typed_only:
        qa.conversation.resolve_turn = as_typed
    elif args.resolver:
        from qa.resolver import Resolver

        qa.conversation.resolve_turn = Resolver(args.resolver).resolve_turn
    qset = load_question_set(args.conversations)
    conversations = [c for c in qset.conversations if args.half == "all" or half(c.id) == args.half]
    if args.limit:
        conversations = conversations[: args.limit]
    if args.index:
        location = args.index
    else:
        location = ensure_corpus_index(args.corpus or QUAC / "corpus.jsonl", quiet=True)
    if args.latency:
        return latency(location, conversations, args.latency)
    problems: list[str] = []
    started = time.perf_counter()
    with Assistant.open(location) as assistant:
        out = evaluate_conversations(assistant, conversations, problems)
    seconds = time.perf_counter() - started
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    if args.report:
        args.report.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in out["turns"]), "utf-8")
    if args.json:
        print(json.dumps({"half": args.half, "seconds": round(seconds, 1), **out["summary"]}, indent=1))
    else:
        print(f"{args.conversations} ({args.half} half, {len(conversations)} conversations, {seconds:.0f} s)")
        print(render_conversations(out))
    return 0


def as_typed(question: str, history: list[str]):
    """A stand-in resolver for ``--typed-only``: the question as typed, leaning on nothing."""
    from qa.resolver import Resolution

    return Resolution(question, question, [], 0.0)


def latency(location, conversations, passes: int) -> int:
    """Warm latency of follow-ups (turns after the first, resolver included) through the API, after one
    warm-up pass: p50 / p95 in ms, beside the first turns' and single asks' (``Assistant.ask`` of
    each first question, no conversation) in the same passes; and follow-up p50 / single-ask p50."""
    import numpy as np

    from qa import Assistant

    single, first, later = [], [], []
    with Assistant.open(location) as assistant:
        for n in range(passes + 1):
            for conv in conversations:
                docs = [conv.doc] if conv.doc else None
                t = time.perf_counter()
                assistant.ask(conv.turns[0].question, docs=docs)
                if n:
                    single.append((time.perf_counter() - t) * 1000)
                chat = assistant.conversation(docs=docs)
                for i, turn in enumerate(conv.turns):
                    t = time.perf_counter()
                    chat.ask(turn.question)
                    ms = (time.perf_counter() - t) * 1000
                    if n:  # pass 0 warms the models up
                        (later if i else first).append(ms)
    for name, values in (("single asks", single), ("first turns", first), ("follow-ups", later)):
        p50, p95 = np.percentile(values, 50), np.percentile(values, 95)
        print(f"{name}: {len(values)} asks, p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"follow-up p50 / single-ask p50: {np.percentile(later, 50) / np.percentile(single, 50):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

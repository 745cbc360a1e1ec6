"""Whether a rewritten follow-up still needs asking as typed too (``qa.conversation.POOL_TYPED``), or
only when the rewrite's own answer is unsure: the cut on its confidence below which the typed ask
would be added, chosen on the fit half of quac-dev by a rule written before the scores were seen.

Every fit-half conversation is asked as ``qa eval`` asks it, with both asks of each rewritten
follow-up recorded (the rewrite and the question as typed). Then, for each cut ``c``: a follow-up
keeps the rewrite's result when its confidence is at least ``c`` (one ask), else asks as typed as
well and keeps the more confident result (``c = 1``: always both, as before; ``c = 0``: the rewrite
alone). Per cut: follow-up answer F1 and the share whose top citation overlaps a reference, over
the rewritten follow-ups, and the share of them that needed the second ask.

Rule: the lowest cut whose F1 and overlap are both at least those of always asking both, less
0.005. The histories are the pooled run's, so the scores of other cuts are close, not exact: the
check half is measured through the real conversation (``benchmarks/conversation_accuracy.py``).

    python benchmarks/pooling_cut.py            # fit half
    python benchmarks/pooling_cut.py --half check

The same over a whole library (``--whole-library``, or conversations without a ``"doc"``: answers
as the reader's span; overlap only where there is a document), e.g. quac-dev's conversations asked
over all its documents, or the SQuAD dev follow-ups of ``benchmarks/follow_ups_squad.py --conversations``:

    python benchmarks/pooling_cut.py --whole-library

    python benchmarks/pooling_cut.py --conversations runs/squad-follow-ups.jsonl \
        --corpus ../shared/squad/dev/corpus.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from conversation_accuracy import QUAC, half  # noqa: E402

CUTS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
TOLERANCE = 0.005


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=("fit", "check"), default="fit")
    parser.add_argument("--conversations", type=Path, default=QUAC / "conversations.jsonl")
    parser.add_argument("--corpus", type=Path, default=QUAC / "corpus.jsonl")
    parser.add_argument("--whole-library", action="store_true",
                        help="ask every conversation over the whole corpus, not inside its document")
    args = parser.parse_args()

    import qa.conversation as conversation
    from qa import Assistant
    from qa.evaluation.answers import score_answer
    from qa.evaluation.conversations import reference_spans
    from qa.evaluation.corpus import ensure_corpus_index
    from qa.evaluation.questions import load_question_set

    pairs: list[tuple] = []
    both = conversation._both

    def recording(first, second):
        out = both(first, second)
        pairs.append(out)
        return out

    conversation._both = recording
    qset = load_question_set(args.conversations)
    conversations = [c for c in qset.conversations if half(c.id) == args.half]
    rows = []  # (resolved: (confidence, f1, overlap), typed: (...))
    with Assistant.open(ensure_corpus_index(args.corpus, quiet=True)) as assistant:
        for conv in conversations:
            scoped = bool(conv.doc) and not args.whole_library
            chat = assistant.conversation(docs=[conv.doc] if scoped else None)
            text = assistant.store.text(conv.doc) if conv.doc else None
            for turn in conv.turns:
                before = len(pairs)
                chat.ask(turn.question)
                if len(pairs) == before or not any(a.strip() for a in turn.answers):
                    continue  # asked once (nothing rewritten), or no reference to score against
                spans = reference_spans(text, turn.answers) if text is not None else []
                scored = []
                for result in pairs[-1]:
                    if scoped and conversation.SENTENCE_ANSWERS:
                        result = conversation._as_sentence(result)
                    answer = result.answer.text if result.answer is not None else None
                    top = result.citations[0] if result.citations else None
                    in_doc = top is not None and top.doc == conv.doc
                    hit = in_doc and any(s < top.end and top.start < e for s, e in spans)
                    scored.append((result.confidence, score_answer(answer, turn.answers)["f1"], float(hit)))
                rows.append(tuple(scored))
    if not rows:
        print("no rewritten follow-ups with references")
        return 1

    def at(cut: float) -> tuple[float, float, float]:
        f1 = overlap = second = 0.0
        for resolved, typed in rows:
            pick = resolved
            if resolved[0] < cut or cut >= 1.0:
                second += 1
                pick = typed if typed[0] > resolved[0] else resolved
            f1 += pick[1]
            overlap += pick[2]
        n = len(rows)
        return f1 / n, overlap / n, second / n

    table = {cut: at(cut) for cut in CUTS}
    f1_both, overlap_both, _ = table[1.0]
    chosen = next(c for c in CUTS if table[c][0] >= f1_both - TOLERANCE and table[c][1] >= overlap_both - TOLERANCE)
    print(f"{args.conversations.name} {args.half} half: {len(rows)} rewritten follow-ups with references")
    print("cut    F1     overlap  asked twice")
    for cut, (f1, overlap, second) in table.items():
        print(f"{cut:<6} {f1:.3f}  {overlap:.3f}    {second:.3f}" + ("   <- chosen" if cut == chosen else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

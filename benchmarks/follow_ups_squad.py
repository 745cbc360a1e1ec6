"""The resolver on follow-ups made from SQuAD dev (articles held out from all training): does a
pronoun go to the subject most recently in play, and does a question with nothing to resolve stay
as typed?

The follow-ups are made as ``training/synthetic_follow_ups.py`` makes its training data, from the
SQuAD dev split instead of train: on one paragraph, B's answer names someone or something, C names
it too and A does not; the history is [title (half the time), A, A's answer sentence, B, B's answer
sentence]; the follow-up is C with B's answer replaced by a pronoun. Two measures:

- **newest subject**: the follow-up's rewrite holds every word of B's answer (the newest subject),
  and the pronoun is gone from where it was: the share of follow-ups;
- **stays as typed**: C as asked, in the same history, comes back unchanged: the share of questions.

The same two measures on **title follow-ups** (``title_follow_ups``): C names the article's subject,
which only the title (always in the history) names; the follow-up has a pronoun in its place.

    python benchmarks/follow_ups_squad.py [--model FILE.onnx] [--limit 1000]

``--conversations FILE`` also writes both kinds as conversations A, B, then the follow-up, with
SQuAD's answers, in the question-set format, to be asked over the dev articles' corpus:

    python benchmarks/follow_ups_squad.py --conversations runs/squad-follow-ups.jsonl
    python benchmarks/conversation_accuracy.py --conversations runs/squad-follow-ups.jsonl \
        --corpus ../shared/squad/dev/corpus.jsonl --report runs/squad-follow-ups-report.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

import synthetic_follow_ups  # noqa: E402

SQUAD_DEV = ROOT.parent / "shared" / "squad" / "dev.jsonl.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="an exported resolver .onnx (default: the shipped model)")
    parser.add_argument("--limit", type=int, default=1000, help="at most this many follow-ups")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--conversations", type=Path, metavar="FILE",
                        help="also write the follow-ups as conversations (A, B, follow-up) to FILE")
    args = parser.parse_args()
    if not SQUAD_DEV.exists():
        print(f"error: {SQUAD_DEV} not found", file=sys.stderr)
        return 2
    from qa.resolver import MODEL_PATH, Resolver, load_tokenizer

    resolver = Resolver(args.model or MODEL_PATH)
    tokenizer = load_tokenizer()
    conversations = []
    for name, make in (("newest subject", synthetic_follow_ups.synthetic_follow_ups),
                       ("title subject", synthetic_follow_ups.title_follow_ups)):
        rows = make(SQUAD_DEV, args.limit, random.Random(args.seed))
        conversations += as_conversations(rows, "title" if name.startswith("title") else "newest")
        put_in, kept = scores(resolver, tokenizer, rows)
        print(f"SQuAD dev follow-ups, {name}: {len(rows)}")
        print(f"  subject put in, pronoun gone:       {put_in:.3f}")
        print(f"  stand-alone question kept as typed: {kept:.3f}")
    if args.conversations:
        args.conversations.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in conversations), "utf-8")
        print(f"wrote {len(conversations)} conversations to {args.conversations}")
    return 0


def as_conversations(rows: list[dict], kind: str) -> list[dict]:
    """Each follow-up as a conversation in the question-set format: SQuAD's questions A and B, then the
    follow-up, each with its SQuAD answer; ids ``squad-{kind}-{C's id}``."""
    wanted = {i for r in rows for i in r["source"]}
    by_id = {}
    with gzip.open(SQUAD_DEV, "rt", encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            if q["id"] in wanted:
                by_id[q["id"]] = q
    out = []
    for r in rows:
        a, b, c = (by_id[i] for i in r["source"])
        turns = [{"question": q["question"], "answers": [x["text"] for x in q["answers"]]} for q in (a, b)]
        turns.append({"question": r["question"], "answers": [x["text"] for x in c["answers"]]})
        out.append({"id": f"squad-{kind}-{c['id']}", "turns": turns})
    return out


def scores(resolver, tokenizer, rows: list[dict]) -> tuple[float, float]:
    """The share of follow-ups whose rewrite has every word the pronoun stood for and not the pronoun;
    the share of their questions as asked (C) that come back as typed."""
    from qa.resolver import split_words

    put_in = kept = 0
    for r in rows:
        asked = r["rewrite"]  # C as asked; the subject is what the pronoun replaced
        typed_words = [w for w, _, _ in split_words(tokenizer, r["question"])]
        asked_words = [w for w, _, _ in split_words(tokenizer, asked)]
        subject = [w for w in asked_words if w not in typed_words]
        got = resolver.resolve_turn(r["question"], r["history"]).resolved
        got_words = [w for w, _, _ in split_words(tokenizer, got)]
        pronoun = [w for w in typed_words if w not in asked_words]
        put_in += bool(subject) and all(w in got_words for w in subject) and not any(w in got_words for w in pronoun)
        kept += resolver.resolve_turn(asked, r["history"]).resolved == asked
    return put_in / len(rows), kept / len(rows)


if __name__ == "__main__":
    raise SystemExit(main())

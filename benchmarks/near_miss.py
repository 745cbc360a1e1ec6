"""Near-miss unanswerable questions: NarrativeQA stories with their answers cut out.

Abstention is easy when the corpus is about something else; it is hard when the
right document is there but does not hold the answer ("Who mediated the
talks?" against an article about the talks). This writes a copy of the
NarrativeQA corpus in which the sentences overlapping a question's evidence, and
those holding a gold answer that occurs in at most ``RARE`` sentences, are
removed. Every question whose answers no longer occur in its story is then a
near miss that should be abstained on.

    python benchmarks/near_miss.py OUT.jsonl
    qa index OUT.jsonl --index NEAR_MISS_INDEX
    python benchmarks/fit_confidence.py --index NQA_INDEX --near-miss-index NEAR_MISS_INDEX ...
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.sentences import split_sentences  # noqa: E402

#: An answer held by at most this many sentences has them all removed.
RARE = 2
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "narrativeqa"


def redact(text: str, answers: list[str], quotes: list[str]) -> str:
    """``text`` without the sentences holding any of ``answers`` or overlapping ``quotes``."""
    spans = []
    for quote in quotes:
        i = text.find(quote)
        if i >= 0:
            spans.append((i, i + len(quote)))
    sentences = [text[s:e] for s, e in split_sentences(text)]
    bounds = split_sentences(text)
    holding = {a.lower(): [i for i, t in enumerate(sentences) if a.lower() in t.lower()] for a in answers if a.strip()}
    # an answer found in many sentences ("Mark") would cut out most of the story: keep those
    # sentences (fit_confidence.py then skips the questions whose answers are still there)
    rare = {i for rows in holding.values() if len(rows) <= RARE for i in rows}
    kept = [
        t for i, (t, (s, e)) in enumerate(zip(sentences, bounds, strict=True))
        if i not in rare and not any(s < qe and qs < e for qs, qe in spans)
    ]
    return "\n".join(kept)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="where to write the redacted corpus (JSONL)")
    args = ap.parse_args()
    answers, quotes = defaultdict(list), defaultdict(list)
    for line in (EVAL / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        for ev in q.get("evidence") or []:
            answers[ev["doc"]].extend(q.get("answers") or [])
            if ev.get("quote"):
                quotes[ev["doc"]].append(ev["quote"])
    n_before = n_after = 0
    with args.out.open("w", encoding="utf-8") as out:
        for line in (EVAL / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            text = redact(doc["text"], answers[doc["id"]], quotes[doc["id"]])
            n_before += len(doc["text"])
            n_after += len(text)
            out.write(json.dumps({**doc, "text": text}, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}: {n_after / max(n_before, 1):.0%} of the text kept")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

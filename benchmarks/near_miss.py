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

A second kind needs no index of its own (``transplanted``): a question about one
story with its names replaced by another story's main characters ("Who drives the
Jeep while Mark broadcasts?" -> "... while Yorick broadcasts?"). The story it now
names is found, but it does not tell what the question asks; ``fit_confidence.py
--transplant-weight`` asks these against the full corpus as further negatives.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import re
import sys
from collections import Counter, defaultdict
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


_WORD = re.compile(r"[\w’'-]+")
#: A capitalised word not at the start of a sentence.
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z’'-]+")
_WH = {"who", "what", "where", "when", "which", "why", "how", "whose", "whom"}


def story_names(text: str, most: int = 8, min_count: int = 3) -> list[str]:
    """A story's main names: capitalised words past the start of a sentence, by frequency."""
    from qa.text import STOP_WORDS

    counts = Counter(m.group() for m in _NAME.finditer(text) if m.group().lower() not in STOP_WORDS)
    return [n for n, k in counts.most_common(most) if k >= min_count]


def transplanted(questions, store, half_of) -> list:
    """Copies of ``questions`` (``devsets.DevQuestion``) whose names are replaced by the main
    names of another story of the same half (``half_of(doc)``), chosen by a hash of the
    question id; their ``gold`` is that story. Left out: questions without names, and those
    whose every non-name content word occurs in the new story (it might answer them)."""
    from qa.text import STOP_WORDS, norm_word

    word_key = norm_word

    docs = sorted({d for q in questions for d in q.docs})
    names = {d: story_names(store.text(d)) for d in docs}
    stems = {d: {word_key(w) for w in _WORD.findall(store.text(d))} for d in docs}
    out = []
    for q in questions:
        if not q.docs:
            continue
        src = sorted(q.docs)[0]
        found = [
            m
            for i, m in enumerate(_WORD.finditer(q.question))
            if i > 0 and m.group()[:1].isupper() and norm_word(m.group()) not in STOP_WORDS
        ]
        bases = list(dict.fromkeys(m.group().removesuffix("'s").removesuffix("’s") for m in found))
        if not bases:
            continue
        others = [d for d in docs if d != src and half_of(d) == half_of(src) and len(names[d]) >= len(bases)]
        if not others:
            continue
        target = random.Random(int(hashlib.sha256(q.id.encode()).hexdigest()[:8], 16)).choice(others)
        mapping = dict(zip(bases, names[target], strict=False))
        text = q.question
        for m in reversed(found):
            g = m.group()
            base = g.removesuffix("'s").removesuffix("’s")
            text = text[: m.start()] + mapping[base] + g[len(base) :] + text[m.end() :]
        rest = [w for w in _WORD.findall(text) if norm_word(w) not in STOP_WORDS | _WH and not w[:1].isupper()]
        if rest and all(word_key(w) in stems[target] for w in rest):
            continue
        new = copy.copy(q)
        new.question, new.gold = text, [(target, None, None)]
        out.append(new)
    return out


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

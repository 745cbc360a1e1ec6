"""How many SQuAD dev questions still have a gold answer in the corpus without their own
paragraph: a lower-cased, word-bounded search for each gold answer in the article's other
paragraphs (in any role, so an upper bound on what could be answered right).

    python benchmarks/answers_elsewhere.py
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

SQUAD_DEV = Path(__file__).resolve().parents[2] / "shared" / "squad" / "dev"


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else SQUAD_DEV
    docs = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            docs[d["id"]] = d
    by_title = defaultdict(list)
    for d in docs.values():
        by_title[d.get("title")].append(d["id"])
    total = found = 0
    with open(folder / "questions.jsonl", encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            own = {e["doc"] for e in q["evidence"]}
            others = [docs[i]["text"].lower() for i in by_title[docs[next(iter(own))].get("title")] if i not in own]
            patterns = [re.compile(rf"\b{re.escape(a.lower())}\b") for a in q["answers"] if a.strip()]
            total += 1
            found += any(p.search(t) for p in patterns for t in others)
    share = found / total
    print(f"{found} of {total} questions ({share:.3f}) have a gold answer in another paragraph of their article")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

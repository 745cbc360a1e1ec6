"""Shared helpers for the quality scripts: dev questions, gold spans, story splits, quick recall.

Relevance follows ``../shared/eval/README.md``: a sentence is relevant when its
span overlaps a gold quote in the same document, or (no quote) when it belongs
to a gold document. ``qa eval`` is the product's own measurement; these
helpers only serve fitting and quick sweeps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EVAL = SHARED / "eval"


@dataclass
class DevQuestion:
    id: str
    question: str
    answers: list[str]
    kind: str
    #: gold (doc, start, end); start/end None for doc-level evidence
    gold: list[tuple[str, int | None, int | None]] = field(default_factory=list)

    @property
    def docs(self) -> set[str]:
        return {d for d, _, _ in self.gold}

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable" and bool(self.gold)

    def relevant(self, doc: str, start: int, end: int) -> bool:
        for d, s, e in self.gold:
            if d == doc and (s is None or (start < e and s < end)):
                return True
        return False


def load_questions(path: Path, store) -> list[DevQuestion]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        q = DevQuestion(r["id"], r["question"], list(r.get("answers") or []), r.get("kind", ""))
        for ev in r.get("evidence") or []:
            doc = ev["doc"]
            quote = ev.get("quote")
            if quote:
                try:
                    text = store.text(doc)
                except KeyError:
                    continue
                i = text.find(quote)
                if i >= 0:
                    q.gold.append((doc, i, i + len(quote)))
            else:
                q.gold.append((doc, None, None))
        out.append(q)
    return out


def story_half(doc: str) -> int:
    """0 (fit) or 1 (check): a stable split of documents by a hash of their id."""
    return hashlib.sha256(doc.encode()).digest()[0] % 2


def question_half(q: DevQuestion) -> int:
    docs = sorted(q.docs)
    return story_half(docs[0]) if docs else 0


def v2_articles(path: Path, store) -> list[str]:
    """The article title of each question of a SQuAD 2.0 question set (``../shared/squad/v2-dev``),
    in file order: an unanswerable question has no evidence, and follows its paragraph's
    answerable ones."""
    titles, title = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        evidence = json.loads(line).get("evidence") or []
        if evidence:
            title = store.document(evidence[0]["doc"]).title or evidence[0]["doc"]
        titles.append(title)
    return titles


def first_relevant_rank(q: DevQuestion, sentences) -> int | None:
    """1-based rank of the first relevant sentence, or None."""
    for rank, s in enumerate(sentences, 1):
        if q.relevant(s.doc, s.start, s.end):
            return rank
    return None


def recall_table(ranks: list[int | None]) -> dict[str, float]:
    n = max(len(ranks), 1)
    r = np.array([x if x is not None else 10**9 for x in ranks])
    return {
        "n": len(ranks),
        "R@1": float((r <= 1).sum() / n),
        "R@5": float((r <= 5).sum() / n),
        "R@10": float((r <= 10).sum() / n),
        "MRR@10": float(np.where(r <= 10, 1.0 / r, 0.0).sum() / n),
    }

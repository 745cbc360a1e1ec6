"""Relevance: which indexed sentences answer a question.

A retrieved sentence is relevant when its character span overlaps a gold quote
in the same document; with document-level evidence (no quote), every sentence
of the gold document is relevant. The unit of ranking is the sentence, named
``unit_id(doc, start, end)`` so that run files stay meaningful across rebuilds.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import quote, unquote

from qa.evaluation.questions import Question
from qa.index import IndexBackend


def unit_id(doc: str, start: int, end: int) -> str:
    """A whitespace-free name for the sentence ``doc[start:end]`` (a TREC docno)."""
    return f"{quote(doc, safe='/._-~+,:=')}@{start}-{end}"


def doc_unit(doc: str) -> str:
    """A whitespace-free name for a whole document (``--units doc``)."""
    return quote(doc, safe="/._-~+,:=")


def parse_unit(unit: str) -> tuple[str, int, int] | None:
    """``(doc, start, end)`` from a ``unit_id``, or None for another kind of docno."""
    doc, sep, span = unit.rpartition("@")
    start, dash, end = span.partition("-")
    if not sep or not dash or not start.isdigit() or not end.isdigit():
        return None
    return unquote(doc), int(start), int(end)


@dataclass(frozen=True)
class Judged:
    """A question's relevant units (``qrels``) and gold spans ``(doc, start, end, grade)``."""

    qrels: dict[str, int]
    spans: tuple[tuple[str, int, int, int], ...]

    def grade(self, unit: str) -> int:
        """Relevance of any retrieved span named ``unit`` (not only indexed sentences)."""
        if unit in self.qrels:
            return self.qrels[unit]
        parsed = parse_unit(unit)
        if parsed is None:
            return 0
        doc, start, end = parsed
        return max((g for d, s, e, g in self.spans if d == doc and start < e and s < end), default=0)

    @property
    def doc_qrels(self) -> dict[str, int]:
        """Document-level judgements: a document holding gold evidence is relevant."""
        out: dict[str, int] = {}
        for d, _, _, g in self.spans:
            out[doc_unit(d)] = max(out.get(doc_unit(d), 0), g)
        return out

    @property
    def docs(self) -> set[str]:
        return {d for d, _, _, _ in self.spans}


class RelevanceJudge:
    """Resolves question evidence against one index (document ids, quotes, sentences)."""

    def __init__(self, store: IndexBackend) -> None:
        self.store = store
        self.doc_ids = {d.id for d in store.documents()}
        by_base: dict[str, list[str]] = {}
        for d in self.doc_ids:
            by_base.setdefault(posixpath.basename(d), []).append(d)
        self._by_base = {b: ds[0] for b, ds in by_base.items() if len(ds) == 1}
        self._sentences: dict[str, list] = {}

    def resolve_doc(self, doc: str) -> str | None:
        """The index's id for ``doc``: itself, or the one indexed document with the same file name."""
        if doc in self.doc_ids:
            return doc
        return self._by_base.get(posixpath.basename(doc))

    def sentences(self, doc: str) -> list:
        if doc not in self._sentences:
            if len(self._sentences) > 512:
                self._sentences.clear()
            self._sentences[doc] = self.store.document_sentences(doc)
        return self._sentences[doc]

    def judge(self, question: Question) -> Judged:
        """The relevant units of ``question``; raises ``ValueError`` naming what did not resolve."""
        qrels: dict[str, int] = {}
        spans = []
        for ev in question.evidence:
            doc = self.resolve_doc(ev.doc)
            if doc is None:
                raise ValueError(f"unknown document {ev.doc!r} (not in the index)")
            text = self.store.text(doc)
            if ev.quote is None:
                start, end = 0, len(text)
            else:
                start = text.find(ev.quote)
                if start < 0:
                    raise ValueError(f"quote not found in {doc!r}: {ev.quote[:60]!r}")
                end = start + len(ev.quote)
            spans.append((doc, start, end, ev.grade))
            for s in self.sentences(doc):
                if s.start < end and start < s.end:
                    unit = unit_id(doc, s.start, s.end)
                    qrels[unit] = max(qrels.get(unit, 0), ev.grade)
        if question.evidence and not qrels:
            raise ValueError("its evidence covers no indexed sentence")
        return Judged(qrels, tuple(spans))

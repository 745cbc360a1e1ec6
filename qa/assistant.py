"""The Python API: ``Assistant.open()`` then ``assistant.ask(question)``.

The CLI and the TUI are thin layers over this module.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.answer import extract_span, question_kind, typed_candidates
from qa.defaults import (
    DEFAULT_THRESHOLD,
    DEFAULT_TOP_K,
    MAX_QUESTION_CHARS,
    default_index_dir,
    default_index_is_current,
    seeds_dir,
    seeds_fingerprint,
)
from qa.errors import BadInputError, IndexProblem
from qa.retrieval import DEFAULT_RETRIEVER, make_retriever
from qa.store import IndexStore, Sentence

#: Sentences ranked for the confidence features (its top-10 margin), even when fewer are shown.
_FEATURE_DEPTH = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # lone surrogates (undecodable argv bytes, JSON escapes)


@dataclass(frozen=True)
class Citation:
    """A retrieved sentence: ``text == document_text[start:end]``."""

    doc: str
    start: int
    end: int
    text: str
    score: float
    line: int
    page: int | None = None
    title: str | None = None
    sentence_id: int | None = None  # the index's sentence id (not part of the output contract)
    #: The heading the sentence sits under (Markdown and HTML; ``qa.sections``).
    section: str | None = None

    def label(self) -> str:
        """Human-readable source: title or file, section, line, and page for PDFs."""
        name = f"{self.title} ({self.doc})" if self.title else self.doc
        if self.section:
            name += f" › {self.section}"
        where = f"line {self.line}" + (f", page {self.page}" if self.page else "")
        return f"{name}, {where}"

    def to_json(self) -> dict:
        """The batch contract's fields, then the line (1-based) and page (PDFs; else null) shown in text output."""
        return {
            "doc": self.doc,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(self.score, 6),
            "line": self.line,
            "page": self.page,
        }


@dataclass(frozen=True)
class Answer:
    """The answer: a verbatim span of ``citation``'s sentence (or all of it)."""

    text: str
    doc: str
    start: int
    end: int
    citation: Citation

    def to_json(self) -> dict:
        return {"text": self.text, "doc": self.doc, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Corroboration:
    """One answer variant and the citations (from distinct documents) that support it."""

    text: str
    citations: list[Citation]


@dataclass
class Result:
    question: str
    answer: Answer | None
    confidence: float
    citations: list[Citation]
    notes: list[str] = field(default_factory=list)
    #: Answer variants found across the cited sentences: the first supports ``answer``
    #: ("2 sources"); further ones disagree with it (another number, another spelling).
    corroboration: list[Corroboration] = field(default_factory=list)
    #: The confidence model's inputs (for inspection and fitting; not part of ``to_json``).
    features: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def abstained(self) -> bool:
        return self.answer is None

    def to_json(self, id: str) -> dict:
        """The batch format (a contract: keep the fields exactly)."""
        return {
            "id": id,
            "question": self.question,
            "answer": self.answer.to_json() if self.answer else None,
            "confidence": round(self.confidence, 6),
            "citations": [c.to_json() for c in self.citations],
        }


def clean_question(question: str) -> tuple[str, list[str]]:
    """Validate a question; returns the text to use and notes for the user."""
    if not isinstance(question, str):
        raise BadInputError("the question must be a string")
    notes = []
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", question)).strip()
    if not text:
        raise BadInputError('the question is empty; ask something, e.g. qa ask "Who is the deputy mayor?"')
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS]
        notes.append(f"question truncated to its first {MAX_QUESTION_CHARS} characters")
    return text, notes


def ensure_default_index(index_dir: Path | None = None, quiet: bool = False) -> Path:
    """Build (or rebuild, if the seeds changed) the default index of the bundled seeds."""
    from qa.indexing import index_paths

    index_dir = index_dir or default_index_dir()
    if not default_index_is_current(index_dir):
        if not quiet:
            print(f"Indexing the bundled seed articles into {index_dir} (first run only)...", file=sys.stderr)
        extra = {"source_fingerprint": seeds_fingerprint()}
        try:
            index_paths([seeds_dir()], index_dir, extra=extra)
        except IndexProblem:  # an index of an older format, or a damaged one: it is ours to replace
            index_paths([seeds_dir()], index_dir, rebuild=True, extra=extra)
    return index_dir


class Assistant:
    """Answers questions from an index, with citations."""

    def __init__(
        self,
        store: IndexStore,
        encoder=None,
        *,
        retriever: str = DEFAULT_RETRIEVER,
        threshold: float = DEFAULT_THRESHOLD,
        top_k: int = DEFAULT_TOP_K,
    ) -> None:
        self.store = store
        self._encoder = encoder
        self.retriever = make_retriever(retriever, store)
        self.threshold = threshold
        self.top_k = top_k
        self._question_view = None  # (question, its TokenView) of the last question, for span scoring
        self._heads: dict[tuple[str, str], list[tuple[int, str]]] = {}  # (doc, sha256) -> its headings
        #: The scope of questions asked without ``docs`` (``qa ask --doc``); None: the whole index.
        self.scope: list[str] | None = None

    @classmethod
    def open(
        cls,
        index: str | os.PathLike[str] | None = None,
        *,
        retriever: str = DEFAULT_RETRIEVER,
        threshold: float = DEFAULT_THRESHOLD,
        top_k: int = DEFAULT_TOP_K,
        encoder=None,
    ) -> Assistant:
        """Open an index directory; with none, the personal library when there is one, else the
        index of the bundled seeds (also ``"seeds"``: ``qa.library.choose_index``)."""
        from qa.library import choose_index

        chosen = choose_index(None if index is None else Path(index)).path
        index_dir = chosen if chosen is not None else ensure_default_index()
        return cls(IndexStore.open(index_dir), encoder, retriever=retriever, threshold=threshold, top_k=top_k)

    @property
    def encoder(self):
        if self._encoder is None:
            from embeddings import load_encoder

            self._encoder = load_encoder("onnx")
        return self._encoder

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def citation(self, sentence: Sentence, score: float) -> Citation:
        from qa.sections import section_at

        info = self.store.document(sentence.doc)
        return Citation(
            doc=sentence.doc,
            start=sentence.start,
            end=sentence.end,
            text=sentence.text,
            score=score,
            line=sentence.line,
            page=sentence.page,
            title=info.title,
            sentence_id=sentence.id,
            section=section_at(self._headings(info), sentence.start),
        )

    def _headings(self, info) -> list[tuple[int, str]]:
        """The document's headings (``qa.sections``), read once per document."""
        from qa.sections import MARKUP_FORMATS, headings

        if info.format not in MARKUP_FORMATS:
            return []
        key = (info.id, info.sha256)
        if key not in self._heads:
            self._heads[key] = headings(self.store.text(info.id), info.format)
        return self._heads[key]

    def conversation(self):
        """A conversation: follow-up questions resolved against earlier turns."""
        from qa.conversation import Conversation

        return Conversation(self)

    def encode_question(self, text: str):
        """The question's sentence vector ``(1, DIM)``, the L2-normalised vectors of its
        content tokens (no [CLS]/[SEP], punctuation or function words) for MaxSim, from one
        forward pass, and their ``qa.rerank.TokenRoles``; the tokens are None when the encoder
        cannot give them, the roles when it gives no token offsets."""
        encoder = self.encoder
        if hasattr(encoder, "token_vectors"):
            hidden, mask = encoder.token_vectors([text])
            n = int(mask[0].sum())
            tokens = np.asarray(hidden[0, :n], dtype=np.float32)
            pooled = tokens.mean(axis=0)
            pooled /= max(float(np.linalg.norm(pooled)), 1e-9)
            tokens = tokens / np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-9)
            from qa.span_vectors import stored_view

            # the whole question's tokens, for span scoring (from this same forward pass)
            self._question_view = (text, stored_view(encoder, text, tokens))
            roles = None
            if hasattr(encoder, "token_offsets"):
                from qa.rerank import content_token_mask, token_roles

                strings, offsets = encoder.token_offsets(text)
                if len(strings) == len(tokens):
                    keep = content_token_mask(strings)
                    roles = token_roles(text, strings, offsets, keep)
                    tokens = tokens[keep]
            elif hasattr(encoder, "token_strings"):
                from qa.rerank import content_token_mask

                strings = encoder.token_strings(text)
                if len(strings) == len(tokens):
                    tokens = tokens[content_token_mask(strings)]
            return pooled[None, :].astype(np.float32), tokens, roles
        return encoder.encode([text]), None, None

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        exclude_docs: set[str] | None = None,
        docs: list[str] | None = None,
    ) -> Result:
        """Answer ``question`` from the index; ``answer`` is None when abstaining.

        ``docs`` scopes the question to those documents (ids, folder prefixes of ids, or
        indexed paths: ``qa.scope``). ``exclude_docs`` leaves those documents out of
        retrieval (used to test abstention: a question asked without the document that
        answers it).
        """
        from qa.confidence import features, probability, span_matters

        text, notes = clean_question(question)
        docs = docs if docs is not None else self.scope
        if docs:
            exclude_docs = set(exclude_docs or ()) | self.outside(docs)
        k = max(1, top_k or self.top_k)
        query, tokens, roles = self.encode_question(text)
        hits = self.retriever.search(
            text,
            query,
            max(k, _FEATURE_DEPTH),
            exclude_docs=exclude_docs or set(),
            query_tokens=tokens,
            token_roles=roles,
        )
        sentences = {s.id: s for s in self.store.sentences(h.sentence_id for h in hits)}
        hits = [h for h in hits if h.sentence_id in sentences]
        hits = self._with_maxsim(hits, tokens, roles)
        citations = [self.citation(sentences[h.sentence_id], h.score) for h in hits]
        confidence = 0.0
        answer = None
        feats: dict[str, float] = {}
        if citations:
            top = sentences[hits[0].sentence_id]
            window = [s.text for s in self.store.neighbours(top)]
            wanted = question_kind(text)
            typed = wanted is not None and bool(typed_candidates(citations[0].text, wanted))
            # for a who/where question the answer span comes first: whether it is a name is a
            # confidence feature (the others extract it only when answering)
            span = span_info = None
            early = span_matters(text)
            if early:
                span = extract_span(text, citations[0].text, self.token_views(text, citations[0]))
                span_info = None if span is None else (citations[0].text[span.start : span.end], span.kind)
            feats = features(
                self.store,
                text,
                hits,
                [c.text for c in citations],
                window,
                typed,
                self._coverage(tokens, top),
                span=span_info,
            )
            confidence = probability(feats)
            if confidence >= self.threshold:
                if not early:
                    span = extract_span(text, citations[0].text, self.token_views(text, citations[0]))
                answer = self._answer(citations[0], span)
        result = Result(question=question, answer=answer, confidence=confidence, citations=citations[:k], notes=notes)
        result.features = feats
        if answer is not None:
            from qa.corroboration import corroborate

            result.corroboration = corroborate(text, answer, citations[:k], self.extract)
        return result

    def outside(self, docs: list[str]) -> set[str]:
        """The ids of the documents that the scope ``docs`` leaves out."""
        from qa.scope import scoped_docs

        every = self.store.documents()
        inside = scoped_docs(every, docs)
        return {d.id for d in every if d.id not in inside}

    def _coverage(self, tokens, top: Sentence):
        """Each question content token's best cosine in the top sentence and in its window."""
        stored = self.store.token_vectors
        if tokens is None or stored is None:
            return None
        from qa.rerank import token_coverage

        window = [stored.float32(s.id) for s in self.store.neighbours(top)]
        return token_coverage(tokens, [stored.float32(top.id)]), token_coverage(tokens, window)

    def _with_maxsim(self, hits, tokens, roles):
        """Fill in MaxSim (a confidence feature, ``qa.rerank.sentence_maxsim``) when the
        retriever did not compute it."""
        stored = self.store.token_vectors
        if not hits or tokens is None or stored is None or any(h.maxsim for h in hits):
            return hits
        from dataclasses import replace

        from qa.rerank import TokenRoles, context_best, sentence_maxsim
        from qa.retrieval import neighbour_ids

        if roles is None or len(roles.weights) != len(tokens):
            roles = TokenRoles.plain(len(tokens))
        ids = [h.sentence_id for h in hits]
        centre, (window,) = context_best(tokens, stored, ids, [neighbour_ids(self.store, ids)])
        sims = sentence_maxsim(centre, window, roles)
        return [replace(h, maxsim=float(m)) for h, m in zip(hits, sims, strict=True)]

    def token_views(self, question: str, citation: Citation):
        """The question's and the cited sentence's token vectors for span scoring
        (``qa.span_vectors``), or None when the index stores no token vectors for it."""
        from qa.sections import sentence_title
        from qa.span_vectors import stored_view, view_of
        from qa.store import embedding_text

        stored = self.store.token_vectors
        if stored is None or citation.sentence_id is None:
            return None
        vectors = stored.float32(citation.sentence_id)
        if vectors is None:
            return None
        encoder = self.encoder
        text = embedding_text(sentence_title(citation.title, citation.section), citation.text)
        sentence = stored_view(encoder, text, vectors, prefix=len(text) - len(citation.text))
        if sentence is None:
            return None
        cached = self._question_view
        if cached is None or cached[0] != question:
            cached = self._question_view = (question, view_of(encoder, question))
        return None if cached[1] is None else (cached[1], sentence)

    def extract(self, question: str, citation: Citation) -> Answer:
        """The answer ``citation`` gives to ``question``: its best span, or all of it."""
        return self._answer(citation, extract_span(question, citation.text, self.token_views(question, citation)))

    def _answer(self, citation: Citation, span) -> Answer:
        if span is None or span.kind == "sentence":
            return Answer(citation.text, citation.doc, citation.start, citation.end, citation)
        start, end = citation.start + span.start, citation.start + span.end
        return Answer(citation.text[span.start : span.end], citation.doc, start, end, citation)


__all__ = ["Answer", "Assistant", "Citation", "Result"]

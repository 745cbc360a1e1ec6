"""The Python API: ``Assistant.open()`` then ``assistant.ask(question)``.

Answering runs in three stages:

1. **retrieve** (``qa.retrieval``): the hybrid retriever ranks the index's sentences;
2. **read** (``qa.reader``): the trained reader reads the top ``READ_DEPTH`` sentences, finds
   each one's best answer span and its no-answer score; the reader's margin (span over
   no-answer) and the retrieval score together choose the answer's sentence, which is cited
   first. A yes/no question has no span: its answer is the evidence sentence itself;
3. **decide** (``qa.confidence``): a logistic model over retrieval and reader features gives
   the probability that the index answers the question; below the threshold it abstains.

The CLI and the TUI are thin layers over this module.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.defaults import (
    DEFAULT_THRESHOLD,
    DEFAULT_TOP_K,
    default_index_dir,
    default_index_is_current,
    seeds_dir,
    seeds_fingerprint,
)
from qa.errors import IndexProblem
from qa.index import IndexBackend, Sentence, open_index
from qa.markup import MARKDOWN_FORMATS, MarkupView, ReadText
from qa.question import clean_question
from qa.reader import ReadSpan
from qa.results import Answer, Citation, Corroboration, Result
from qa.retrieval import DEFAULT_RETRIEVER, Hit, make_retriever
from qa.spelling import understood_as
from qa.text import asks_yes_no

#: Sentences ranked for the confidence features (its top-10 margin), even when fewer are shown.
_FEATURE_DEPTH = 10
#: Documents whose sentences as read (``qa.markup``) are kept between questions.
_VIEWS_KEPT = 16
#: Sentences the reader reads per question, and the weight of the retrieval score (z-normalised
#: over the first ten) against the reader's margin when ranking them. Chosen on the fit halves of
#: NarrativeQA and the SQuAD dev split (``benchmarks/tune_reading.py``): 3, 5 and 8 sentences and
#: weights .5-2 are within .015 F1 of each other; reading only the top sentence loses .05 F1.
#: 3, not 5: each sentence is its own model run (~5 ms), and the warm latency budget is 25 ms.
READ_DEPTH = 3
RETRIEVAL_WEIGHT = 1.0
#: The reader reads each sentence alone: with its previous sentence as context
#: (``tune_reading.py --context``), NarrativeQA R@1 rose .02 on the fit half but not the check
#: half, and SQuAD F1 fell .02 (the reader was trained on sentences alone).
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
        store: IndexBackend,
        encoder=None,
        *,
        retriever: str = DEFAULT_RETRIEVER,
        threshold: float = DEFAULT_THRESHOLD,
        top_k: int = DEFAULT_TOP_K,
        reader=None,
    ) -> None:
        self.store = store
        self._encoder = encoder
        self.retriever = make_retriever(retriever, store)
        self.threshold = threshold
        self.top_k = top_k
        self._reader = reader
        # the encoder and the reader each load once, even when two asks start at once; apart, so
        # that the reader can load on a thread of its own while the encoder retrieves
        self._loading_encoder = threading.Lock()
        self._loading_reader = threading.Lock()
        self._heads: dict[tuple[str, str], list[tuple[int, str]]] = {}  # (doc, sha256) -> its headings
        self._views: dict[tuple[str, str], MarkupView] = {}  # (doc, sha256) -> its sentences as read, lately read
        self._views_lock = threading.Lock()
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

        chosen = choose_index(index).path  # a folder, a milvus: location, or None for the seeds demo
        location = chosen if chosen is not None else ensure_default_index()
        return cls(open_index(location), encoder, retriever=retriever, threshold=threshold, top_k=top_k)

    @property
    def encoder(self):
        if self._encoder is None:
            from embeddings import load_encoder

            with self._loading_encoder:
                if self._encoder is None:
                    self._encoder = load_encoder("onnx")
        return self._encoder

    @property
    def reader(self):
        """The extractive reader (``qa.reader.Reader``), loaded on first use."""
        if self._reader is None:
            from qa.reader import Reader

            with self._loading_reader:
                if self._reader is None:
                    # one thread a run (a second costs more than it saves on one sentence), a run per core
                    self._reader = Reader(threads=1, workers=min(READ_DEPTH, os.cpu_count() or 1))
        return self._reader

    def load_reader_in_background(self) -> None:
        """Start loading the reader on a thread of its own, when it is not loaded yet: the first
        ask retrieves while it loads (``benchmarks/speed.py``'s cold ``qa ask``)."""
        if self._reader is None and not self._loading_reader.locked():
            # not a daemon: the interpreter waits for it at exit, instead of killing it inside
            # onnxruntime (which aborts the process: an error's exit code would be lost)
            threading.Thread(target=self._load_reader_quietly, name="load-reader").start()

    def _load_reader_quietly(self) -> None:
        try:
            self.reader
        except Exception:  # noqa: BLE001 - the ask that needs the reader loads it again and says what failed
            pass

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

    def conversation(self, docs: list[str] | None = None):
        """A conversation: follow-up questions resolved against earlier turns. ``docs`` keeps
        it inside those documents (as ``ask``'s ``docs``; default: ``scope``, else all)."""
        from qa.conversation import Conversation

        return Conversation(self, docs=docs if docs is not None else self.scope)

    def encode_question(self, text: str):
        """The question's sentence vector ``(1, DIM)``, the L2-normalised vectors of its
        content tokens (no [CLS]/[SEP], punctuation or function words) for MaxSim, from one
        forward pass, and their ``qa.rerank.TokenRoles``; the tokens are None when the encoder
        cannot give them, the roles when it gives no token offsets."""
        encoder = self.encoder
        if encoder.has_token_vectors:
            from qa.rerank import content_token_mask, token_roles

            hidden, mask = encoder.token_vectors([text])
            n = int(mask[0].sum())
            tokens = np.asarray(hidden[0, :n], dtype=np.float32)
            pooled = tokens.mean(axis=0)
            pooled /= max(float(np.linalg.norm(pooled)), 1e-9)
            tokens = tokens / np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-9)
            roles = None
            strings, offsets = encoder.token_offsets(text)
            if len(strings) == len(tokens):
                keep = content_token_mask(strings)
                roles = token_roles(text, strings, offsets, keep)
                tokens = tokens[keep]
            return pooled[None, :].astype(np.float32), tokens, roles
        return encoder.encode([text]), None, None

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        exclude_docs: set[str] | None = None,
        docs: list[str] | None = None,
        exclude_sentences: set[int] | None = None,
    ) -> Result:
        """Answer ``question`` from the index; ``answer`` is None when abstaining.

        ``docs`` scopes the question to those documents (ids, folder prefixes of ids, or
        indexed paths: ``qa.scope``). ``exclude_docs`` leaves those documents out of
        retrieval (used to test abstention: a question asked without the document that
        answers it); ``exclude_sentences`` those sentences (by index id: a conversation's
        answers already given).
        """
        text, notes = clean_question(question)
        understood = understood_as(self.store, text)  # misspelt words corrected against the index's vocabulary
        text = understood or text
        docs = docs if docs is not None else self.scope
        if docs:
            exclude_docs = set(exclude_docs or ()) | self.outside(docs)
        k = max(1, top_k or self.top_k)
        skip = exclude_sentences or set()
        self.load_reader_in_background()
        retrieved = self.retrieve(text, max(k, _FEATURE_DEPTH) + len(skip), exclude_docs)
        if skip:
            retrieved = replace(retrieved, hits=[h for h in retrieved.hits if h.sentence_id not in skip])
        reading = self.read(text, retrieved)
        confidence, feats = self.decide(text, retrieved, reading)
        citations = reading.citations
        answer = None
        if citations and confidence >= self.threshold:
            answer = self._answer(citations[0], reading.spans.get(citations[0].sentence_id), reading.yes_no)
        result = Result(question=question, answer=answer, confidence=confidence, citations=citations[:k], notes=notes,
                        understood_as=understood)
        result.features = feats
        if answer is not None:
            result.corroboration = self._corroborate(text, answer, citations[:k], reading)
        return result

    def _corroborate(self, text: str, answer: Answer, citations: list[Citation], reading: Reading) -> list:
        """``qa.corroboration.corroborate`` with the reader's spans: those already read, and each
        further sentence read once, only when corroboration asks for it."""
        from qa.corroboration import corroborate

        spans = dict(reading.spans)

        def span(citation: Citation) -> ReadSpan:
            if citation.sentence_id not in spans:
                spans[citation.sentence_id] = self._read_citation(text, citation)
            return spans[citation.sentence_id]

        def extract(q: str, citation: Citation) -> Answer:
            return self._answer(citation, None if reading.yes_no else span(citation), reading.yes_no)

        return corroborate(text, answer, citations, extract, lambda c: span(c).margin)

    def outside(self, docs: list[str]) -> set[str]:
        """The ids of the documents that the scope ``docs`` leaves out."""
        from qa.scope import scoped_docs

        every = self.store.documents()
        inside = scoped_docs(every, docs)
        return {d.id for d in every if d.id not in inside}

    # -- the stages -----------------------------------------------------------

    def retrieve(self, text: str, depth: int, exclude_docs: set[str] | None = None) -> Retrieved:
        """Stage 1: the ranked sentences (with MaxSim filled in) and the question's tokens."""
        query, tokens, roles = self.encode_question(text)
        hits = self.retriever.search(
            text, query, depth, exclude_docs=exclude_docs or set(), query_tokens=tokens, token_roles=roles
        )
        sentences = {s.id: s for s in self.store.sentences(h.sentence_id for h in hits)}
        hits = [h for h in hits if h.sentence_id in sentences]
        hits = self._with_maxsim(hits, tokens, roles)
        return Retrieved(hits, sentences, tokens)

    def read(self, text: str, retrieved: Retrieved) -> Reading:
        """Stage 2: the reader's best span in each of the top ``READ_DEPTH`` sentences, which are
        then ranked by reader margin plus weighted retrieval score (``rank_by_reading``); the
        first is the answer's sentence. A yes/no question keeps the retrieval order."""
        hits = retrieved.hits
        yes_no = asks_yes_no(text)
        if not hits:
            return Reading([], {}, [], yes_no)
        top = [retrieved.sentences[h.sentence_id] for h in hits[:READ_DEPTH]]
        read = self.read_sentences(text, top)
        spans = {s.id: r for s, r in zip(top, read, strict=True)}
        margins = [r.margin for r in read]
        scores = [h.score for h in hits] if yes_no else rank_by_reading([h.score for h in hits], margins)
        order = sorted(range(len(hits)), key=lambda i: -scores[i])  # stable: ties keep retrieval order
        citations = [self.citation(retrieved.sentences[hits[i].sentence_id], scores[i]) for i in order]
        return Reading(citations, spans, margins, yes_no)

    def decide(self, text: str, retrieved: Retrieved, reading: Reading) -> tuple[float, dict[str, float]]:
        """Stage 3: the probability that the index answers the question, and its features."""
        from qa.confidence import features, probability

        if not reading.citations:
            return 0.0, {}
        hits = retrieved.hits
        top = retrieved.sentences[reading.citations[0].sentence_id]
        window = [s.text for s in self.store.neighbours(top)]
        feats = features(
            self.store,
            text,
            hits,
            [c.text for c in reading.citations],
            window,
            self._coverage(retrieved.tokens, top),
            reading,
        )
        return probability(feats), feats

    # -- helpers --------------------------------------------------------------

    def _coverage(self, tokens, top: Sentence):
        """Each question content token's best cosine in the top sentence and in its window."""
        stored = self.store.token_vectors
        if tokens is None or stored is None:
            return None
        from qa.rerank import token_coverage

        around = self.store.neighbours(top)
        stored.prefetch([s.id for s in around] + [top.id])
        window = [stored.float32(s.id) for s in around]
        return token_coverage(tokens, [stored.float32(top.id)]), token_coverage(tokens, window)

    def _with_maxsim(self, hits, tokens, roles):
        """Fill in MaxSim (a confidence feature, ``qa.rerank.sentence_maxsim``) when the
        retriever did not compute it."""
        stored = self.store.token_vectors
        if not hits or tokens is None or stored is None or any(h.maxsim for h in hits):
            return hits
        from qa.rerank import TokenRoles, context_best, sentence_maxsim
        from qa.retrieval import neighbour_ids

        if roles is None or len(roles.weights) != len(tokens):
            roles = TokenRoles.plain(len(tokens))
        ids = [h.sentence_id for h in hits]
        centre, (window,) = context_best(tokens, stored, ids, [neighbour_ids(self.store, ids)])
        sims = sentence_maxsim(centre, window, roles)
        return [replace(h, maxsim=float(m)) for h, m in zip(hits, sims, strict=True)]

    def extract(self, question: str, citation: Citation) -> Answer:
        """The answer ``citation`` gives to ``question``: the reader's best span of it, or
        the whole sentence for a yes/no question."""
        yes_no = asks_yes_no(question)
        span = None if yes_no else self._read_citation(question, citation)
        return self._answer(citation, span, yes_no)

    def _read_citation(self, question: str, citation: Citation) -> ReadSpan:
        """The reader's best span of one cited sentence (its neighbours looked up only for a
        context reader)."""
        c = citation
        sentence = Sentence(c.sentence_id, c.doc, c.start, c.end, c.line, c.page, c.text)
        return self.read_sentences(question, [sentence])[0]

    def read_sentences(self, question: str, sentences: list[Sentence]) -> list[ReadSpan]:
        """The reader's best span of each sentence, read between its neighbours in its document
        when the reader was trained so (``qa.reader.Reader.context``). The reader reads each
        sentence as a person does (``read_text``); the spans are offsets into the sentence's text."""
        read = [self.read_text(s) for s in sentences]
        around = None
        if self.reader.context:
            around = []
            for s in sentences:
                near = self.store.neighbours(s)
                before = " ".join(self.read_text(n).text for n in near if n.start < s.start)
                after = " ".join(self.read_text(n).text for n in near if n.start > s.start)
                around.append((before, after))
        spans = self.reader.read(question, [r.text for r in read], around)
        return [_in_source(span, r) for span, r in zip(spans, read, strict=True)]

    def read_text(self, sentence: Sentence) -> ReadText:
        """``sentence`` as the reader reads it: a Markdown sentence without its markup, a table row with
        its column names (``qa.markup``); other sentences as they are."""
        info = self.store.document(sentence.doc)
        if info.format not in MARKDOWN_FORMATS:
            return ReadText.verbatim(sentence.text)
        key = (info.id, info.sha256)
        with self._views_lock:
            view = self._views.pop(key, None) or MarkupView(self.store.text(info.id), info.format)
            self._views[key] = view  # the latest last
            while len(self._views) > _VIEWS_KEPT:
                self._views.pop(next(iter(self._views)))
        return view.read(sentence.start, sentence.end)

    @staticmethod
    def _answer(citation: Citation, span: ReadSpan | None, yes_no: bool) -> Answer:
        if yes_no or span is None or span.end <= span.start:
            return Answer(citation.text, citation.doc, citation.start, citation.end, citation, kind="sentence")
        start, end = citation.start + span.start, citation.start + span.end
        return Answer(citation.text[span.start : span.end], citation.doc, start, end, citation)


def _in_source(span: ReadSpan, read: ReadText) -> ReadSpan:
    """A span the reader found in ``read.text`` as offsets into the sentence's own text: its characters
    that come from the source, markup left out at its ends and kept to one table cell."""
    if span.end <= span.start:
        return span
    mapped = read.source_span(span.start, span.end)
    start, end = mapped if mapped is not None else (0, 0)
    return replace(span, start=start, end=end)


@dataclass(frozen=True)
class Retrieved:
    """What retrieval found: ranked hits, their sentences by id, the question's token vectors."""

    hits: list[Hit]
    sentences: dict[int, Sentence]
    tokens: np.ndarray | None


@dataclass(frozen=True)
class Reading:
    """What the reader made of the top sentences: the citations, the answer's sentence first;
    each read sentence's best span by sentence id; the margins in retrieval order."""

    citations: list[Citation]
    spans: dict[int, ReadSpan]
    margins: list[float]
    yes_no: bool


#: Reader margins are clipped to this range when ranking (a sentence with no word piece scores -inf).
_MARGIN_CLIP = 20.0


def rank_by_reading(scores: list[float], margins: list[float]) -> list[float]:
    """Ranking scores for retrieval ``scores`` (best first) whose first ``len(margins)`` were read.

    A read sentence ranks by ``margin + RETRIEVAL_WEIGHT * z``, z its retrieval score normalised
    over the first ``_FEATURE_DEPTH`` scores (the same for a normal and a deeper ranking); the
    result is expressed in retrieval units: ``score + margin * sd / RETRIEVAL_WEIGHT``. Sentences
    not read count the lowest margin read, so they stay below every read one, in retrieval order."""
    x = np.asarray(scores, dtype=np.float64)
    head = x[:_FEATURE_DEPTH]
    sd = float(head.std()) if len(head) > 1 else 0.0
    if sd <= 1e-9 or not margins:
        return x.tolist()
    m = np.clip(np.asarray(margins, dtype=np.float64), -_MARGIN_CLIP, _MARGIN_CLIP)
    bonus = np.full(len(x), m.min())
    bonus[: len(m)] = m
    return (x + bonus * sd / RETRIEVAL_WEIGHT).tolist()


__all__ = ["Answer", "Assistant", "Citation", "Corroboration", "Result"]

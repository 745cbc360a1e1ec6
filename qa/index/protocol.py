"""What the rest of citeqa needs from an index, whatever holds it (``IndexBackend``), and the
records it hands back.

Two backends implement it: ``qa.index.local.LocalIndex`` (files in a folder: SQLite, FAISS,
bm25s; the default) and ``qa.index.milvus.MilvusIndex`` (a Milvus Lite file or a Milvus
server). Retrieval, answering, evaluation, the CLI and the TUI use only these methods.

Sentence ids are integers, consecutive within a document in text order (the rerank reads a
sentence's neighbours as id - 1 and id + 1). Character offsets index into ``text(doc)``,
which is the document exactly as it was read, so a citation reproduces its text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Sentence:
    id: int
    doc: str
    start: int
    end: int
    line: int
    page: int | None
    text: str


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    path: str
    title: str | None
    format: str
    sha256: str


@dataclass
class UpdateReport:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    sentences_embedded: int = 0
    sentences_total: int = 0
    documents_total: int = 0
    committed: bool = False


@dataclass(frozen=True)
class IndexStats:
    backend: str  # "local" or "milvus"
    location: str  # the folder, or the milvus: address
    documents: int
    sentences: int
    #: whether sentences' token vectors are stored (the MaxSim rerank needs them)
    token_vectors: bool
    #: what else the backend reports (generation, vector index kind, collection...)
    details: dict


class TokenVectorStore(Protocol):
    """Stored token vectors of sentences (``qa.index.token_vectors.TokenVectors``)."""

    def prefetch(self, sentence_ids: Iterable[int]) -> None:
        """Make these sentences' vectors ready (a remote backend fetches them in one round
        trip; files need nothing)."""
        ...

    def __contains__(self, sentence_id: int) -> bool: ...
    def get(self, sentence_id: int) -> np.ndarray | None: ...
    def float32(self, sentence_id: int) -> np.ndarray | None: ...


class IndexBackend(Protocol):
    """A read-only view of one index, as the question-answering code uses it."""

    #: where the index lives, as the user named it (a folder, or ``milvus:URI``)
    location: str

    def __len__(self) -> int:
        """The number of sentences."""
        ...

    def close(self) -> None: ...

    # -- documents and sentences -------------------------------------------------

    def document(self, doc_id: str) -> DocumentInfo:
        """Raises ``KeyError`` for an unknown id."""
        ...

    def documents(self) -> list[DocumentInfo]:
        """Every document, by id."""
        ...

    def digests(self) -> dict[str, tuple[str, str, str | None]]:
        """``{document id: (sha256, path, title)}`` (what an update compares against)."""
        ...

    def text(self, doc_id: str) -> str:
        """The document text that offsets index into."""
        ...

    def sentences(self, ids: Iterable[int]) -> list[Sentence]:
        """Sentences by id, in the order asked (unknown ids are left out)."""
        ...

    def documents_of(self, ids: Iterable[int]) -> dict[int, str]:
        """The document id of each known sentence id."""
        ...

    def sentence_ids(self, doc_id: str) -> list[int]:
        """A document's sentence ids, in text order."""
        ...

    def document_sentences(self, doc_id: str) -> list[Sentence]: ...

    def neighbours(self, sentence: Sentence, before: int = 1, after: int = 1) -> list[Sentence]:
        """The sentence with up to ``before``/``after`` neighbours from its document."""
        ...

    def sentence_counts(self) -> dict[str, int]:
        """``{document id: number of sentences}``."""
        ...

    # -- search --------------------------------------------------------------------

    def search_dense(
        self, query_vector: np.ndarray, k: int, exclude_docs: frozenset[str] | set[str] = frozenset()
    ) -> list[tuple[int, float]]:
        """The ``k`` sentences nearest the (normalised) query vector, as ``(id, cosine)``,
        best first, leaving out sentences of ``exclude_docs``."""
        ...

    def vectors(self, ids: list[int]) -> np.ndarray | None:
        """The stored sentence vectors of ``ids`` (rows in that order), or None when the
        backend cannot give them back."""
        ...

    def search_lexical(
        self, question: str, k: int, exclude_docs: frozenset[str] | set[str] = frozenset()
    ) -> list[tuple[int, float]]:
        """The ``k`` best BM25 matches of the question, as ``(id, score)``, best first."""
        ...

    def lexical_scores(self, question: str, ids: list[int]) -> np.ndarray:
        """The BM25 score of each of ``ids`` for the question (0 where no term matches)."""
        ...

    def term_weights(self, question: str) -> dict[str, float]:
        """The IDF of each of the question's search terms (for confidence features)."""
        ...

    def term_counts(self, terms: list[str]) -> dict[str, int]:
        """The number of live sentences holding each of ``terms`` (stemmed BM25 terms), for the
        terms some sentence holds (the index's vocabulary, for spelling correction: ``qa.spelling``)."""
        ...

    #: BM25's k1 (the most a term can score is its IDF times k1 + 1)
    bm25_k1: float

    @property
    def token_vectors(self) -> TokenVectorStore | None:
        """The sentences' stored token vectors, or None when not stored."""
        ...

    # -- the index as a whole ----------------------------------------------------------

    def stats(self) -> IndexStats: ...

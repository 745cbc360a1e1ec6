"""A stand-in assistant with fixed answers, so app snapshots do not move when the model or
the answer pipeline changes. Built from the real public types (Result, Citation, Answer)."""

from __future__ import annotations

import re

from qa.assistant import Answer, Citation, Corroboration, Result
from qa.index import Sentence
from qa.index.protocol import DocumentInfo

DOCS = {
    "harbour.txt": (
        "The harbour opened in 1871.\n"
        "Its first harbour master was Ada Quill, who kept the logbook for thirty years.\n"
        "She recorded 412 ships in the first winter.\n"
        "The logbook is now kept in the town museum.\n"
    ),
    "museum.md": (
        "# The town museum\n"
        "The museum holds the harbour logbook.\n"
        "Visitors can read a copy of the 412 entries from the first winter.\n"
    ),
}
TITLES = {"harbour.txt": None, "museum.md": "The town museum"}
FORMATS = {"harbour.txt": "text", "museum.md": "markdown"}
#: Prose hard-wrapped at 78 columns, as e-mails and READMEs are, then a list: its sentences span line breaks.
WRAPPED_DOCS = {
    "fleet.txt": (
        "The harbour's fleet grew quickly after the railway came in 1869. By 1890 the\n"
        "port counted forty small trawlers that fished in the North Sea and landed\n"
        "their catch at the new fish market beside the station. The market was built\n"
        "by the engineer Ada Quill, who also designed the lighthouse on the north pier\n"
        "and the harbour's first steam crane.\n"
        "\n"
        "- The first trawler, the Kittiwake, was launched in 1872.\n"
        "- The last sail trawler left the harbour in 1931.\n"
    ),
}

#: A long document hard-wrapped at 72 columns: its whole text scrolls in the sources panel, and the cited
#: sentence, far down, has a word hyphenated across a line break ("cobalt-\nblue").
LONG_DOCS = {
    "lighthouse.txt": (
        "The north pier lighthouse was first lit in the autumn of 1874, three\n"
        "years after the harbour opened. Its lantern burned colza oil until 1902,\n"
        "when the harbour board paid for a paraffin burner and a clockwork that\n"
        "turned the lens once every twenty seconds.\n"
        "\n"
        "The first keeper, Tom Harland, lived in the cottage at the root of the\n"
        "pier with his wife and four children. He kept a daily record of the\n"
        "weather, the ships that passed and the oil that was burned, and his\n"
        "books are still read by historians of the coast.\n"
        "\n"
        "During the great storm of 1881 the sea broke over the pier for two days\n"
        "and nights. The keeper stayed at his post and kept the light burning,\n"
        "although the lower windows of the tower were smashed by the waves and\n"
        "the stairs ran with water.\n"
        "\n"
        "In 1890 the tower was raised by eight feet so that the light could be\n"
        "seen beyond the headland. The work took a whole summer, and a temporary\n"
        "light was shown from a wooden frame at the end of the pier meanwhile.\n"
        "\n"
        "Every spring the keeper painted the lighthouse in broad cobalt-\n"
        "blue stripes, so that fishermen could tell it from the lighthouse on the\n"
        "south pier by day.\n"
        "\n"
        "The light was made automatic in 1961 and the last keeper left the\n"
        "cottage in the following year. The cottage is now a small museum of\n"
        "the lights of the coast, open on summer weekends.\n"
        "\n"
        "A new lantern was fitted in 1998, with an electric lamp that can be\n"
        "seen for fourteen miles in clear weather. The old lens is kept in the\n"
        "museum, where visitors can see the clockwork that once turned it.\n"
    ),
}


def _line_sentences(docs: dict[str, str]) -> dict[str, list[Sentence]]:
    """A sentence per line (the stand-in's documents are written so)."""
    out, n = {}, 0
    for doc, text in docs.items():
        out[doc] = []
        pos = 0
        for line_no, line in enumerate(text.splitlines(keepends=True), 1):
            stripped = line.rstrip("\n")
            if stripped:
                out[doc].append(Sentence(n, doc, pos, pos + len(stripped), line_no, None, stripped))
                n += 1
            pos += len(line)
    return out


def fixed_resolution(question: str, history: list[str]):
    """A stand-in for the resolver model (snapshots do not move with it): a question with "she" or "he"
    leans on history and is resolved with "Ada Quill" when there is history."""
    from qa.resolver import Resolution

    leans = bool({"she", "he"} & set(question.lower().rstrip("?").split()))
    added = ["Ada Quill"] if leans and history else []
    return Resolution(question, " ".join([question, *added]), added, 1.0 if leans else 0.1)


def _split_sentences(docs: dict[str, str]) -> dict[str, list[Sentence]]:
    """Sentences as indexing splits them (``qa.sentences``): in wrapped prose they span line breaks."""
    from qa.sentences import split_sentences

    out, n = {}, 0
    for doc, text in docs.items():
        out[doc] = []
        for start, end in split_sentences(text):
            out[doc].append(Sentence(n, doc, start, end, text.count("\n", 0, start) + 1, None, text[start:end]))
            n += 1
    return out


class FakeStore:
    location = "/indexes/harbour"

    def __init__(self, docs: dict[str, str] = DOCS, by_doc: dict[str, list[Sentence]] | None = None) -> None:
        self.docs = docs
        self.by_doc = _line_sentences(docs) if by_doc is None else by_doc
        self.closed = False

    def documents(self):
        return list(self.docs)

    def document(self, doc: str) -> DocumentInfo:
        return DocumentInfo(doc, f"/docs/{doc}", TITLES.get(doc), FORMATS.get(doc, "text"), "0" * 64)

    def __len__(self) -> int:
        return sum(len(s) for s in self.by_doc.values())

    def text(self, doc: str) -> str:
        return self.docs[doc]

    def document_sentences(self, doc: str) -> list[Sentence]:
        return list(self.by_doc[doc])

    def neighbours(self, sentence: Sentence, before: int = 1, after: int = 1) -> list[Sentence]:
        doc = self.by_doc[sentence.doc]
        i = [s.start for s in doc].index(sentence.start)
        return doc[max(0, i - before) : i + after + 1]

    def close(self) -> None:
        self.closed = True

    def sentence(self, doc: str, needle: str) -> Sentence:
        return next(s for s in self.by_doc[doc] if needle in s.text)


class FakeAssistant:
    """Answers three questions; abstains on anything else."""

    top_k = 5
    scope = None

    def __init__(self) -> None:
        self.store = FakeStore()
        self.asked: list[str] = []
        self.scopes: list[list[str] | None] = []

    def citation(self, doc: str, needle: str, score: float) -> Citation:
        s = self.store.sentence(doc, needle)
        return Citation(s.doc, s.start, s.end, s.text, score, s.line, None, TITLES.get(doc))

    def answer(self, citation: Citation, span: str) -> Answer:
        offset = citation.text.index(span)
        return Answer(span, citation.doc, citation.start + offset, citation.start + offset + len(span), citation)

    def outside(self, docs) -> set[str]:
        return set(self.store.by_doc) - set(docs)

    def ask(self, question: str, top_k: int | None = None, docs=None, exclude_sentences=None) -> Result:
        self.asked.append(question)
        self.scopes.append(docs)
        q = question.lower()
        if re.search(r"\bships?\b", q):
            c1 = self.citation("harbour.txt", "412 ships", 0.66)
            c2 = self.citation("museum.md", "412 entries", 0.52)
            return Result(
                question, self.answer(c1, "412"), 0.66, [c1, c2], corroboration=[Corroboration("412", [c1, c2])]
            )
        if "harbour master" in q:
            c1 = self.citation("harbour.txt", "Ada Quill", 0.71)
            c2 = self.citation("museum.md", "holds the harbour", 0.40)
            return Result(question, self.answer(c1, "Ada Quill"), 0.71, [c1, c2])
        if "opened" in q:
            c1 = self.citation("harbour.txt", "opened", 0.62)
            return Result(question, self.answer(c1, "1871"), 0.62, [c1])
        c1 = self.citation("museum.md", "Visitors", 0.21)
        c2 = self.citation("harbour.txt", "now kept", 0.18)
        return Result(question, None, 0.21, [c1, c2])

    def conversation(self, docs=None):
        from qa.conversation import Conversation

        return Conversation(self, docs=docs if docs is not None else self.scope, resolver=fixed_resolution)

    def extract(self, question: str, citation: Citation) -> Answer:
        return Answer(citation.text, citation.doc, citation.start, citation.end, citation)

    def close(self) -> None:
        self.store.close()


class WrappedAssistant(FakeAssistant):
    """Answers from hard-wrapped prose: the answer, like its sentence, spans a line break."""

    def __init__(self) -> None:
        super().__init__()
        self.store = FakeStore(WRAPPED_DOCS, _split_sentences(WRAPPED_DOCS))

    def ask(self, question: str, top_k: int | None = None, docs=None, exclude_sentences=None) -> Result:
        self.asked.append(question)
        c1 = self.citation("fleet.txt", "designed the lighthouse", 0.7)
        c2 = self.citation("fleet.txt", "forty small trawlers", 0.4)
        answer = self.answer(c1, "the lighthouse on the north pier\nand the harbour's first steam crane")
        return Result(question, answer, 0.7, [c1, c2])


class LongAnswersAssistant(WrappedAssistant):
    """Answers with five citations whose sentences are long: their list is taller than a few lines."""

    def ask(self, question: str, top_k: int | None = None, docs=None, exclude_sentences=None) -> Result:
        self.asked.append(question)
        sentences = self.store.by_doc["fleet.txt"]
        citations = [self.citation("fleet.txt", s.text, 0.7 - 0.1 * n) for n, s in enumerate(sentences)]
        market = next(c for c in citations if "Ada Quill" in c.text)
        citations.remove(market)
        return Result(question, self.answer(market, "Ada Quill"), 0.7, [market, *citations])


class LongDocumentAssistant(FakeAssistant):
    """Answers from a long hard-wrapped document (``LONG_DOCS``), with a word hyphenated across a line break."""

    def __init__(self) -> None:
        super().__init__()
        self.store = FakeStore(LONG_DOCS, _split_sentences(LONG_DOCS))

    def ask(self, question: str, top_k: int | None = None, docs=None, exclude_sentences=None) -> Result:
        self.asked.append(question)
        c1 = self.citation("lighthouse.txt", "painted the lighthouse", 0.7)
        c2 = self.citation("lighthouse.txt", "raised by eight feet", 0.3)
        return Result(question, self.answer(c1, "cobalt-\nblue stripes"), 0.7, [c1, c2])


def fake_opener(index, status):
    return FakeAssistant()


def wrapped_opener(index, status):
    return WrappedAssistant()


def long_answers_opener(index, status):
    return LongAnswersAssistant()


def long_document_opener(index, status):
    return LongDocumentAssistant()

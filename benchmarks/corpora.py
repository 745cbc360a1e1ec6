"""Deterministic benchmark corpora built from the shipped data, and vectors derived for them.

Sizes (counted in sentences, as ``qa.sentences.split_sentences`` splits them):

* ``seeds`` - the two bundled seed articles (``seeds/``), ~50 sentences.
* ``real``  - every BoolQ passage and NarrativeQA summary in ``../shared/eval``
  (3,039 documents, ~14.5k sentences). Embedded for real.
* ``100k`` / ``1m`` - ``real`` topped up with *variants* to 100,000 / 1,000,000
  sentences.

How the top-up is generated (``variant``): round ``r`` of document ``d`` is a
copy of ``d`` whose sentences are rotated by ``r`` places, whose capitalised
words (names, places) are each replaced consistently by another capitalised word
of the whole corpus, and whose numbers are replaced by other numbers of the same
number of digits; the choices come from a NumPy generator seeded by
``sha256(d.id, r)``. Rounds ``r = 1, 2, ...`` are appended in corpus order until
the sentence target is reached. Same input files, same corpus, on any machine.

The store embeds ``"Title: sentence"`` for titled documents; ``DerivedEncoder`` looks
such texts up by the sentence alone (the real vectors were computed without titles).

Vectors for the top-up (``DerivedEncoder``): embedding 85k-985k extra sentences
with the fp32 model on this 2-core machine would take hours, so variant
sentences get a vector *derived* from real ones: the real vector of the real
sentence with the same lowercase-word skeleton (what the substitutions keep),
mixed with the real vector of another real sentence and a little noise, then
renormalised (``mix``). The neighbourhood structure is that of real embeddings,
not of uniform random vectors. Search, memory, open time and update costs do
not depend on what the vectors mean; answer *quality* at these sizes is not
measured by the harness.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qa.documents import Document
from qa.sentences import split_sentences

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EVAL = SHARED / "eval"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
REAL_CORPORA = ("boolq/corpus.jsonl", "narrativeqa/corpus.jsonl")
SIZES = {"100k": 100_000, "1m": 1_000_000}

_CAP = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]{2,}\b")  # mid-sentence capitalised words: names, places
_NUM = re.compile(r"\b\d+\b")
_WORD = re.compile(r"\b[a-z]+\b")  # whole lowercase words (substitutions change only capitalised ones)


def have_shared_data() -> bool:
    return all((EVAL / name).is_file() for name in REAL_CORPORA)


def real_documents() -> list[Document]:
    """BoolQ passages then NarrativeQA summaries, in file order."""
    docs = []
    for name in REAL_CORPORA:
        path = EVAL / name
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    docs.append(Document(str(r["id"]), r["text"], str(path), r.get("title") or None, "jsonl"))
    return docs


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


class VariantMaker:
    """Makes the deterministic variants of real documents (see the module docstring)."""

    def __init__(self, docs: list[Document]) -> None:
        self.pool = sorted({m.group() for d in docs for m in _CAP.finditer(d.text)})

    def variant(self, doc: Document, r: int) -> Document:
        rng = _rng(doc.id, r)
        names = sorted({m.group() for m in _CAP.finditer(doc.text)})
        swap = {n: self.pool[i] for n, i in zip(names, rng.integers(0, len(self.pool), len(names)), strict=True)}

        def number(m: re.Match) -> str:
            digits = rng.integers(0, 10, len(m.group()))
            if len(digits) > 1 and digits[0] == 0:
                digits[0] = 1 + int(rng.integers(0, 9))
            return "".join(map(str, digits))

        sentences = [doc.text[s:e] for s, e in split_sentences(doc.text)]
        k = r % max(1, len(sentences))
        sentences = sentences[k:] + sentences[:k]
        text = " ".join(sentences)
        text = _CAP.sub(lambda m: swap.get(m.group(), m.group()), text)
        text = _NUM.sub(number, text)
        title = f"{doc.title} ({r})" if doc.title else None
        return Document(f"{doc.id}~v{r}", text, f"generated:{doc.id}~v{r}", title, "generated")


def sentence_count(doc: Document) -> int:
    return len(split_sentences(doc.text))


def corpus(target: int, docs: list[Document] | None = None) -> Iterator[Document]:
    """The real documents, then variant rounds, until ``target`` sentences (whole documents)."""
    docs = docs if docs is not None else real_documents()
    total = 0
    for doc in docs:
        if total >= target:
            return
        total += sentence_count(doc)
        yield doc
    maker = VariantMaker(docs)
    r = 0
    while total < target:
        r += 1
        for doc in docs:
            if total >= target:
                return
            v = maker.variant(doc, r)
            total += sentence_count(v)
            yield v


def skeleton(text: str) -> str:
    """What a variant keeps of a sentence: its lowercase words."""
    return " ".join(_WORD.findall(text))


def mix(base: np.ndarray, other: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A derived unit vector: mostly ``base``, some ``other``, a little isotropic noise."""
    noise = rng.standard_normal(base.shape).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=-1, keepdims=True)
    v = base + 0.5 * other + 0.25 * noise
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


class DerivedEncoder:
    """Encoder stand-in for the top-up: real vectors for real sentences, derived ones for variants.

    ``real`` maps a real sentence's text to its (fp32 model) vector.
    """

    name = "derived"
    has_token_vectors = False

    def __init__(self, real: dict[str, np.ndarray], dim: int) -> None:
        self.dim = dim
        self.real = real
        self.texts = sorted(real)
        self.matrix = np.stack([real[t] for t in self.texts]).astype(np.float32)
        self.by_skeleton: dict[str, int] = {}
        for i, t in enumerate(self.texts):
            self.by_skeleton.setdefault(skeleton(t), i)
        self.derived = 0

    def encode(self, texts, batch_size: int = 64, progress=None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for n, text in enumerate(texts):
            vec = self.real.get(text)
            sentence = text
            if vec is None and ": " in text:
                # the store embeds "Title: sentence"; the real vectors are of sentences alone
                sentence = text.partition(": ")[2]
                vec = self.real.get(sentence)
            if vec is None:
                rng = _rng("derived", text)
                base = self.by_skeleton.get(skeleton(sentence))
                if base is None:
                    base = int(rng.integers(0, len(self.texts)))
                other = int(rng.integers(0, len(self.texts)))
                vec = mix(self.matrix[base], self.matrix[other], rng)
                self.derived += 1
            out[n] = vec
            if progress and (n + 1) % batch_size == 0:
                progress(batch_size)
        if progress and len(texts) % batch_size:
            progress(len(texts) % batch_size)
        return out


def derived_vectors(base: np.ndarray, n: int, seed: int = 0, chunk: int = 65_536) -> Iterator[np.ndarray]:
    """``n`` derived unit vectors from the rows of ``base`` (for index-only benchmarks), in chunks."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        i = rng.integers(0, len(base), m)
        j = rng.integers(0, len(base), m)
        yield mix(base[i], base[j], rng)

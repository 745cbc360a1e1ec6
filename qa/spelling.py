"""Misspelt words in a question, corrected against the index's own vocabulary.

A user's slip ("forein minster of Ukrane") leaves words that no indexed sentence holds: BM25
finds nothing for them, the encoder and the reader see word pieces of nothing, and the
confidence collapses. ``correct`` rewrites such a word into the corpus word one typing slip
away (a letter dropped, added, changed, or two adjacent letters swapped: Damerau-Levenshtein
distance 1, which covers most typing errors) that the most sentences hold, before retrieval
and reading see the question.

The vocabulary is the index's BM25 vocabulary, which every backend already stores: stemmed
terms with their document frequencies (``IndexBackend.term_counts``). So the candidates are
made on the question's side: each slip-away spelling of the word is stemmed as BM25 stems,
and those whose stem the index holds are candidates, ranked by how many sentences hold the
stem (ties: the more frequent English word). This costs a few hundred stems a misspelt word
and no memory, whatever the index's size.

A word is left alone when it may well be spelt right: when the index holds its stem, when it is
a stopword, when it is shorter than ``MIN_LENGTH`` letters or holds a digit, or when it is an
English word (SymSpell's English frequency dictionary, shipped in ``symspellpy``) that is not
much rarer than the correction (``ENGLISH_RATIO``): "minster" is a word, but a rare one, and
"minister" is 96 times as frequent. A name the index does not know and that is not one slip
from a word it does know is also left as it is.
"""

from __future__ import annotations

import array
import functools
import re
import string
from collections.abc import Callable

#: Words shorter than this are never corrected (one slip from a three-letter word is another word).
MIN_LENGTH = 4
#: An English word absent from the index is corrected only when the correction is this many
#: times as frequent in English (SymSpell's counts); a correction that is no English word
#: (a name) never replaces an English word.
ENGLISH_RATIO = 20.0
#: Unknown words tried per question.
MAX_UNKNOWN = 8
#: Candidate stems with no English spelling checked against the index's sentences, per misspelt word.
_MAX_CHECKS = 3
#: A word: letters, with an apostrophe part ("Napoleon's"); letters next to a digit ("B52s") are none.
_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:'[^\W\d_]+)*(?!\w)")
_LETTERS = string.ascii_lowercase

#: ``term_counts(stemmed terms) -> {term: sentences holding it}`` for the terms the index holds.
TermCounts = Callable[[list[str]], dict[str, int]]


class EnglishWords:
    """Word counts in a compact form (sorted fixed-width bytes and a count array: 3 MiB, not the
    17 MiB of a dict of 82k strings); ``get`` as a dict's."""

    def __init__(self, words, counts) -> None:
        import numpy as np

        words = np.array(words, dtype=bytes)
        order = np.argsort(words, kind="stable")
        self.words = words[order]
        self.counts = np.asarray(counts, dtype=np.int64)[order]

    def get(self, word: str, default: int = 0) -> int:
        key = word.encode("utf-8")
        i = int(self.words.searchsorted(key))
        return int(self.counts[i]) if i < len(self.words) and self.words[i] == key else default

    def __len__(self) -> int:
        return len(self.words)


@functools.lru_cache(maxsize=1)
def english_words() -> EnglishWords:
    """SymSpell's English frequency dictionary (82,834 words with their counts); empty when
    ``symspellpy`` is not installed. Loaded on the first word the index does not know."""
    from importlib import resources

    words, counts = [], array.array("q")
    try:
        with (resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt").open("rb") as f:
            for line in f:  # line by line: the whole file and its lines at once would double the peak memory
                word, _, count = line.partition(b" ")
                if count.strip().isdigit():
                    words.append(word)
                    counts.append(int(count))
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        pass
    return EnglishWords(words, counts)


@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from qa.index.bm25 import bm25s_module

    return frozenset(bm25s_module().stopwords.STOPWORDS_EN)


def _stem(words: list[str]) -> list[str]:
    from qa.index.bm25 import _stemmer

    return _stemmer().stemWords(words)


def one_slip(word: str) -> set[str]:
    """Every spelling one slip away from ``word`` (lower-case ASCII letters added or changed)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | changes | inserts) - {word}


def _cased_like(word: str, model: str) -> str:
    """``word`` with the capitalisation of ``model`` (all capitals, a capital, or none)."""
    if model.isupper() and len(model) > 1:
        return word.upper()
    if any(ch.isupper() for ch in model):  # "Ukrane", or a capital swapped inwards ("hRine")
        return word[:1].upper() + word[1:]
    return word


class Corrector:
    """Corrects misspelt words against an index's term counts (see the module docstring).

    ``words_held(spellings)`` gives those of the spellings (of one stem) that some indexed
    sentence holds as words: a candidate that is no English word ("Brightwater", "Kuleba")
    must be one, since a spelling whose stem alone is known may be no word at all ("fooded"
    stems as "food")."""

    def __init__(self, term_counts: TermCounts, words_held: Callable[[list[str]], set[str]] = lambda w: set(),
                 english=None, english_ratio: float | None = None) -> None:
        self.term_counts = term_counts
        self.words_held = words_held
        self._english = english
        self.english_ratio = ENGLISH_RATIO if english_ratio is None else english_ratio

    @property
    def english(self):
        """English word counts (loaded on first use: a question the index knows every word of
        never needs them)."""
        if self._english is None:
            self._english = english_words()
        return self._english

    def _candidates(self, word: str) -> list[list[str]]:
        """The one-slip spellings of ``word`` whose stem the index holds, grouped by stem, the
        stems that the most sentences hold first (ties: the one with the most frequent English
        spelling first); in a group, the most frequent English spellings first."""
        spellings = sorted(one_slip(word))
        stems = _stem(spellings)
        counts = self.term_counts(sorted(set(stems)))
        groups: dict[str, list[str]] = {}
        for w, stem in zip(spellings, stems, strict=True):
            if stem in counts:
                groups.setdefault(stem, []).append(w)
        for group in groups.values():
            group.sort(key=lambda w: -self.english.get(w, 0))
        order = sorted(groups, key=lambda s: (-counts[s], -self.english.get(groups[s][0], 0), s))
        return [groups[s] for s in order]

    def _unknown(self, word: str) -> bool:
        """Whether ``word`` is one that ``word()`` looks for a correction of."""
        low = word.lower().partition("'")[0]
        return len(low) >= MIN_LENGTH and low not in _stopwords() and not self.term_counts(_stem([low]))

    def word(self, word: str) -> str | None:
        """The correction of one word, or None to keep it."""
        if "'" in word:  # "Napolen's": the word before the apostrophe
            head, _, tail = word.partition("'")
            fixed = self.word(head)
            return f"{fixed}'{tail}" if fixed else None
        low = word.lower()
        if len(low) < MIN_LENGTH or not low.isalpha() or low in _stopwords():
            return None
        if self.term_counts(_stem([low])):  # (respelling such a word, "principls", changed right ones too)
            return None
        own = self.english.get(low, 0)
        checked = 0
        for group in self._candidates(low):
            best = group[0]
            english = self.english.get(best, 0)
            if english:
                if not own or english >= self.english_ratio * own:
                    return _cased_like(best, word)
                continue  # an English word, not much more frequent than the word as typed
            if own or checked == _MAX_CHECKS:  # an English word is only replaced by a more frequent one
                continue
            checked += 1
            held = self.words_held(group)
            if held:
                return _cased_like(min(held), word)
        return None

    def correct(self, text: str) -> str:
        """``text`` with its misspelt words corrected (the rest of it untouched); only the first
        ``MAX_UNKNOWN`` words the index does not know are tried (a bound on the cost of a long
        question in an unknown language)."""
        out, at, tried = [], 0, 0
        for m in _WORD.finditer(text):
            fixed = None
            if tried < MAX_UNKNOWN and self._unknown(m.group()):
                tried += 1
                fixed = self.word(m.group())
            if fixed is not None:
                out.append(text[at : m.start()] + fixed)
                at = m.end()
        return "".join(out) + text[at:] if out else text


def understood_as(store, question: str) -> str | None:
    """The question as corrected against ``store``'s vocabulary, or None when nothing in it
    was corrected (or the backend gives no vocabulary)."""
    counts = getattr(store, "term_counts", None)
    if counts is None:
        return None
    fixed = Corrector(counts, functools.partial(words_held, store)).correct(question)
    return fixed if fixed != question else None


def words_held(store, spellings: list[str], depth: int = 10) -> set[str]:
    """Those of ``spellings`` (of one stem) that one of the stem's best BM25 matches holds as a
    word (in any case)."""
    if not spellings:
        return set()
    ids = [i for i, _ in store.search_lexical(spellings[0], depth)]
    texts = [s.text for s in store.sentences(ids)]
    held = set()
    for spelling in spellings:
        word = re.compile(rf"(?<!\w){re.escape(spelling)}(?!\w)", re.IGNORECASE)
        if any(word.search(t) for t in texts):
            held.add(spelling)
    return held

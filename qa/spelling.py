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

#: Words shorter than this are never corrected (one slip from a two-letter word is any other).
MIN_LENGTH = 3
#: An English word absent from the index is corrected only when the correction is this many
#: times as frequent in English (SymSpell's counts); a correction that is no English word
#: (a name) never replaces an English word.
ENGLISH_RATIO = 20.0
#: How much less likely a far slip is than a near one (``slips``).
FAR_SLIP = 0.1
#: A word of this many letters or more that is no word one slip away from one the index holds
#: may be two slips from one (an English word).
TWO_SLIPS_FROM = 6
#: Unknown words tried per question.
MAX_UNKNOWN = 8
#: Candidate stems with no English spelling checked against the index's sentences, per misspelt word.
_MAX_CHECKS = 3
#: A word: letters, with an apostrophe part ("Napoleon's"); letters next to a digit ("B52s") are none.
_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:'[^\W\d_]+)*(?!\w)")
_LETTERS = string.ascii_lowercase
#: The letter rows of a QWERTY keyboard, each shifted half a key right of the one above.
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, str]:
    """Each letter's neighbouring keys: beside it on its row, and the two touching it on the
    rows above and below."""
    at = {ch: (r, i) for r, row in enumerate(KEYBOARD_ROWS) for i, ch in enumerate(row)}
    out = {}
    for ch, (r, i) in at.items():
        spots = [(r, i - 1), (r, i + 1), (r - 1, i), (r - 1, i + 1), (r + 1, i - 1), (r + 1, i)]
        out[ch] = "".join(KEYBOARD_ROWS[rr][ii] for rr, ii in spots
                          if 0 <= rr < len(KEYBOARD_ROWS) and 0 <= ii < len(KEYBOARD_ROWS[rr]))
    return out


#: The keys beside each letter's (``KEYBOARD_ROWS``).
NEIGHBOURS = _keyboard_neighbours()

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
        if len(key) > self.words.itemsize:  # longer than every word (and searching would widen them all)
            return default
        i = int(self.words.searchsorted(key))
        return int(self.counts[i]) if i < len(self.words) and self.words[i] == key else default

    def __len__(self) -> int:
        return len(self.words)

    def within_two_slips(self, word: str) -> list[str]:
        """The words at most two slips from ``word`` (lower-case ASCII letters; optimal string
        alignment distance, as SymSpell's ``DamerauOsa`` measures it). Only a few are measured:
        those of about its length that share all but two of its letters (a slip changes two
        letter counts at most)."""
        import numpy as np

        if not (len(self.words) and word.isascii() and word.isalpha() and word.islower()):
            return []
        lengths, letters = self._letters()
        first, last = np.searchsorted(lengths, [len(word) - 2, len(word) + 3])
        shared = np.zeros(last - first, np.int16)
        for ch in set(word):
            # a letter's count in a word is at most 255 (uint8); a hostile 2,000-letter word shares no more
            shared += np.minimum(letters[ord(ch) - ord("a"), first:last], min(word.count(ch), 255))
        near = first + np.flatnonzero(lengths[first:last] + len(word) - 2 * shared <= 4)
        rows = self.words[self._by_length[near]]
        codes = rows.view(np.uint8).reshape(len(rows), rows.itemsize)
        close = osa_distances(word, codes, lengths[near]) <= 2
        return [w.decode("utf-8") for w in rows[close]]

    def _letters(self):
        """The words' lengths, ascending, and the count of each letter a-z in each (26 rows, a
        column a word, in that order; ``_by_length`` maps it to ``words``), made on first use
        (2 MiB)."""
        import numpy as np

        if getattr(self, "_by_length", None) is None:
            lengths = np.char.str_len(self.words)
            order = np.argsort(lengths, kind="stable")
            codes = self.words[order].view(np.uint8).reshape(len(order), self.words.itemsize)
            counts = np.zeros((26, len(order)), np.uint8)
            for column in codes.T:  # a word's k-th letters: each word once, so += counts them
                held = np.flatnonzero((column >= ord("a")) & (column <= ord("z")))
                counts[column[held] - ord("a"), held] += 1
            self._letter_counts = counts
            self._lengths, self._by_length = lengths[order], order
        return self._lengths, self._letter_counts


def osa_distances(word: str, others, lengths):
    """The optimal string alignment distance (a letter added, dropped or changed, or two
    adjacent letters swapped, each 1; no part edited twice) from ``word`` to each row of
    ``others`` (byte codes, one word a row, zero-padded after ``lengths``). The dynamic
    programme of SymSpell's ``DamerauOsa`` run for all the rows at once, one row of its
    table at a time: an insertion chain is a running minimum."""
    import numpy as np

    a = np.frombuffer(word.encode("utf-8"), np.uint8)
    n, width = others.shape
    cols = np.arange(width + 1, dtype=np.int32)
    prev = np.broadcast_to(cols, (n, width + 1))
    before = prev
    for i in range(1, len(a) + 1):
        cell = np.empty((n, width + 1), np.int32)
        cell[:, 0] = i
        cell[:, 1:] = np.minimum(prev[:, 1:] + 1, prev[:, :-1] + (others != a[i - 1]))
        if i > 1 and width > 1:
            swap = (others[:, :-1] == a[i - 1]) & (others[:, 1:] == a[i - 2])
            cell[:, 2:] = np.where(swap, np.minimum(cell[:, 2:], before[:, :-2] + 1), cell[:, 2:])
        before, prev = prev, np.minimum.accumulate(cell - cols, axis=1) + cols
    return prev[np.arange(n), lengths]


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


def slips(word: str) -> dict[str, float]:
    """Every spelling one slip away from ``word`` (lower-case ASCII letters added or changed),
    with how likely the slip that turns it into ``word`` is: 1 for a letter left out, two
    adjacent letters swapped, a key beside the right one hit instead of it, or hit with it (a
    letter doubled, or added beside a neighbouring key); ``FAR_SLIP`` for a far key hit instead
    of the right one or with it."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    dropped = {a + c + b for a, b in splits for c in _LETTERS}  # typed without a letter
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1 and b[0] != b[1]}
    changed = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}  # ``b[0]`` typed for ``c``
    near_changed = {a + c + b[1:] for a, b in splits if b for c in NEIGHBOURS.get(b[0], "")}
    added = {a + b[1:] for a, b in splits if b}  # ``b[0]`` typed with the letters beside it
    near_added = {a + b[1:] for a, b in splits if b and _beside(b[0], a[-1:] + b[1:2])}
    out = dict.fromkeys(changed | added, FAR_SLIP)
    out.update(dict.fromkeys(dropped | swapped | near_changed | near_added, 1.0))
    out.pop(word, None)
    return out


def _beside(key: str, keys: str) -> bool:
    """Whether ``key`` is one of ``keys`` or beside one of them on the keyboard."""
    return any(key == k or key in NEIGHBOURS.get(k, "") for k in keys)


def one_slip(word: str) -> set[str]:
    """Every spelling one slip away from ``word`` (lower-case ASCII letters added or changed)."""
    return set(slips(word))


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
                 english=None, english_ratio: float | None = None, sentences: int | None = None) -> None:
        self.term_counts = term_counts
        self.words_held = words_held
        self._english = english
        self.english_ratio = ENGLISH_RATIO if english_ratio is None else english_ratio
        #: The index's sentences (a stopword counts as held by all of them); None: unknown.
        self.sentences = sentences
        self._everywhere = float("inf") if sentences is None else float(sentences)

    @property
    def english(self):
        """English word counts (loaded on first use: a question the index knows every word of
        never needs them)."""
        if self._english is None:
            self._english = english_words()
        return self._english

    def _candidates(self, weights: dict[str, float]) -> list[tuple[float, float, list[str]]]:
        """``(score, weight, spellings)`` of the spellings (``slips``'s, with their weights) whose
        stem the index holds, grouped by stem; a stem's weight is its likeliest slip's, its
        score that times the sentences holding it. Best score first (ties: the most frequent
        English spelling first); in a group, the most frequent English spellings first."""
        spellings = sorted(weights)
        stems = _stem(spellings)
        counts = self.term_counts(sorted(set(stems)))
        groups: dict[str, list[str]] = {}
        for w, stem in zip(spellings, stems, strict=True):
            if stem in counts:
                groups.setdefault(stem, []).append(w)
        out = []
        for stem, group in groups.items():
            group.sort(key=lambda w: (-self.english.get(w, 0), -weights[w]))
            weight = max(weights[w] for w in group)
            out.append((weight * counts[stem], weight, group))
        out.sort(key=lambda c: (-c[0], -self.english.get(c[2][0], 0), c[2][0]))
        return out

    def _indexed(self, weights: dict[str, float], own: int) -> tuple[str, float, float] | None:
        """The best correction among the index's words: ``(spelling, score, weight)``."""
        checked = 0
        for score, weight, group in self._candidates(weights):
            best = group[0]
            english = self.english.get(best, 0)
            if english:
                if not own or english >= self.english_ratio * own:
                    return best, score, weight
                continue  # an English word, not much more frequent than the word as typed
            if own or checked == _MAX_CHECKS:  # an English word is only replaced by a more frequent one
                continue
            checked += 1
            held = self.words_held(group)
            if held:
                return min(held), score, weight
        return None

    def _stopword(self, weights: dict[str, float], own: int) -> tuple[str, float] | None:
        """The likeliest stopword one slip away (BM25 drops stopwords, so the index cannot
        count them): ``(spelling, weight)``, by the slip's weight times its English count."""
        stops = [w for w in weights if w in _stopwords() and self.english.get(w, 0) >= self.english_ratio * own]
        if not stops:
            return None
        best = max(stops, key=lambda w: (weights[w] * self.english.get(w, 0), w))
        return best, weights[best]

    def _split(self, low: str) -> tuple[int, float] | None:
        """Where ``low`` is two words run together ("ofthe", "landis"): ``(at, score)``, both
        parts stopwords or words (English, or of the index's sentences) whose stem the index
        holds, scored by the fewer sentences holding one part (a stopword counts as held by all)."""
        stops = _stopwords()
        cuts = [i for i in range(1, len(low))
                if (low[:i] in stops or i >= 2) and (low[i:] in stops or len(low) - i >= 2)]
        parts = sorted({p for i in cuts for p in (low[:i], low[i:]) if p not in stops})
        stems = _stem(parts)
        held_by = self.term_counts(sorted(set(stems)))
        counts = {p: held_by.get(s, 0) for p, s in zip(parts, stems, strict=True)}
        everywhere = self._everywhere
        scored = []
        for i in cuts:
            held = min(everywhere if p in stops else counts[p] for p in (low[:i], low[i:]))
            if held:
                scored.append((held, i))
        for held, i in sorted(scored, reverse=True)[: _MAX_CHECKS]:
            if all(p in stops or self.english.get(p, 0) or self.words_held([p]) for p in (low[:i], low[i:])):
                return i, float(held)
        return None

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
        if len(low) <= MIN_LENGTH and word.isupper():  # an acronym ("BBC")
            return None
        if self.term_counts(_stem([low])):  # (respelling such a word, "principls", changed right ones too)
            return None
        own = self.english.get(low, 0)
        fixed, score = self._one_slip(low, own) or (None, 0.0)
        split = None if own else self._split(low)
        if split is not None and split[1] > score:
            return word[: split[0]] + " " + word[split[0] :]
        if fixed is None and not own and len(low) >= TWO_SLIPS_FROM:
            fixed = self._two_slips(low)
        if fixed is None and not own:
            return self._run_together(word)
        return None if fixed is None else _cased_like(fixed, word)

    def _one_slip(self, low: str, own: int) -> tuple[str, float] | None:
        """The likeliest word one slip from ``low``: ``(spelling, score)``, a word of the index
        (``_indexed``) or a stopword, whichever is the more frequent English word times its
        slip's weight (a stopword is scored as held by every sentence)."""
        weights = slips(low)
        indexed = self._indexed(weights, own)
        stop = self._stopword(weights, own)
        if stop is not None and (indexed is None or stop[1] * self.english.get(stop[0], 0)
                                 > indexed[2] * self.english.get(indexed[0], 0)):
            return stop[0], stop[1] * self._everywhere
        return None if indexed is None else indexed[:2]

    def _run_together(self, word: str) -> str | None:
        """``word`` as a stopword or a word of the index run together with a misspelt word
        ("thepople", "DavidBoiwe"): the two, the misspelt one corrected (``_one_slip``); the
        longest known part first, ``_MAX_CHECKS`` tried."""
        low, stops = word.lower(), _stopwords()
        cuts = [(i, side) for i in range(1, len(low)) for side in (0, 1)
                if len((low[:i], low[i:])[1 - side]) >= MIN_LENGTH]
        cuts.sort(key=lambda c: -len((low[: c[0]], low[c[0] :])[c[1]]))
        tried = 0
        for i, side in cuts:
            known, other = (low[:i], low[i:])[side], (low[:i], low[i:])[1 - side]
            if known not in stops and not (len(known) >= MIN_LENGTH and self.english.get(known, 0)
                                           and self.term_counts(_stem([known]))):
                continue
            if tried == _MAX_CHECKS:
                break
            tried += 1
            if other in stops or self.term_counts(_stem([other])):
                continue  # (two known words: ``_split``'s)
            fixed = self._one_slip(other, self.english.get(other, 0))
            if fixed is not None:
                typed = (word[:i], word[i:])
                parts = [typed[side], _cased_like(fixed[0], typed[1 - side])]
                return " ".join(parts if side == 0 else parts[::-1])
        return None

    def _two_slips(self, low: str) -> str | None:
        """The English word two slips from ``low`` whose stem the index holds, the likeliest by
        the sentences holding its stem times its English count."""
        spellings = self.english.within_two_slips(low)
        stems = _stem(spellings)
        counts = self.term_counts(sorted(set(stems)))
        held = [(counts[stem], self.english.get(w, 0), w) for w, stem in zip(spellings, stems, strict=True)
                if stem in counts]
        return max(held, key=lambda h: (h[0] * h[1], h[1]))[2] if held else None

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
    fixed = Corrector(counts, functools.partial(words_held, store), sentences=len(store)).correct(question)
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

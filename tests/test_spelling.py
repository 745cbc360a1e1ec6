"""Misspelt question words corrected against the index's vocabulary (``qa.spelling``)."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
from conftest import ROOT, SEEDS

from qa.commands.ask import render
from qa.spelling import Corrector, EnglishWords, _stem, one_slip

sys.path.insert(0, str(ROOT / "benchmarks"))

from typos import perturb  # noqa: E402

WORDS = ["foreign", "minister", "ukraine", "founded", "brightwater", "kuleba", "from", "form", "card", "food",
         "sonar", "garage", "factory", "built", "units", "first", "news", "napoleon", "army", "what", "who", "did",
         "black", "back", "back", "back", "rank", "bank", "bank", "land", "part", "much", "paid", "war", "world",
         "harbour", "harbour", "harbours", "where", "how", "were", "lighthouse", "lighthouse", "keeper", "ice",
         "bill", "three", "three"]


def corrector(words=WORDS, english=None, held=None) -> Corrector:
    """A corrector over a tiny index whose sentences hold ``words`` (each stem in as many
    sentences as it has words)."""
    counts = Counter(_stem(list(words)))
    held = set(words) if held is None else set(held)
    english = {"foreign": 10**8, "minister": 3 * 10**7, "ukraine": 10**7, "founded": 10**7, "form": 10**8,
               "card": 5 * 10**7, "cart": 10**7, "minster": 5 * 10**5, "food": 10**8, "the": 2 * 10**10,
               "with": 3 * 10**9, "no": 9 * 10**8, "who": 6 * 10**8, "what": 8 * 10**8, "where": 4 * 10**8,
               "three": 2 * 10**8, "worth": 5 * 10**7, "back": 3 * 10**8, "black": 2 * 10**8, "keeper": 10**7,
               "lighthouse": 5 * 10**6, "harbour": 10**7} if english is None else english
    english = EnglishWords(list(english), list(english.values()))
    return Corrector(lambda terms: {t: counts[t] for t in terms if counts[t]}, held.intersection, english=english,
                     sentences=len(words))


def test_one_slip_spellings():
    slips = one_slip("abc")
    assert {"ab", "bc", "bac", "acb", "abcc", "xabc", "abd"} <= slips
    assert "abc" not in slips and "cba" not in slips


def test_typos_are_corrected():
    c = corrector()
    assert c.correct("Who is the forein minster of Ukrane?") == "Who is the foreign minister of Ukraine?"
    assert c.correct("Who foundedd Brightwatr?") == "Who founded Brightwater?"
    assert c.correct("Where were the frist unist bulit?") == "Where were the first units built?"


def test_a_key_beside_the_right_one_is_read_as_that_key():
    # "Boack": "o" beside "l" (Black), not a stray "o" in "Back", though "back" is more frequent;
    # "vrigin"-like swaps and doubled letters beat a letter changed into a far key
    c = corrector()
    assert c.correct("Who owned the Boack harbour?") == "Who owned the Black harbour?"
    assert c.correct("Who owned the Bxck harbour?") == "Who owned the Back harbour?"
    assert c.correct("Whar did the keeper say?") == "What did the keeper say?"


def test_three_letter_words_are_corrected():
    c = corrector()
    assert c.correct("Wno paid the harbour bil?") == "Who paid the harbour bill?"
    assert c.correct("Was the ice on teh war memorial?") == "Was the ice on the war memorial?"
    assert c.correct("Was the BBC there?") == "Was the BBC there?"  # a short word in capitals: an acronym


def test_a_misspelt_stopword_is_not_read_as_another_word():
    c = corrector()
    assert c.correct("Whee were thre harbours?") == "Where were the harbours?"
    assert c.correct("Who paid woith a bank card?") == "Who paid with a bank card?"


def test_two_slips_in_a_long_word_are_corrected():
    c = corrector()
    assert c.correct("Who was the ligthhosue kepeer?") == "Who was the lighthouse keeper?"
    assert c.correct("Who built the ligthhousse?") == "Who built the lighthouse?"
    assert c.correct("Who is the freign minsitre?") == "Who is the foreign minister?"


def test_words_run_together_are_split():
    c = corrector()
    assert c.correct("How much did the keeper of theharbour pay?") == "How much did the keeper of the harbour pay?"
    assert c.correct("Howmuch land is part ofthe harbour?") == "How much land is part of the harbour?"
    assert c.correct("Who built the WorldWar memorial?") == "Who built the World War memorial?"
    assert c.correct("Who built Brightwater?") == "Who built Brightwater?"  # a known word is not split
    # run together with a misspelt word
    assert c.correct("Who built thelighthosue?") == "Who built the lighthouse?"
    assert c.correct("Who paid the HarbourKeepr?") == "Who paid the Harbour Keeper?"


def test_words_of_the_vocabulary_are_never_changed():
    c = corrector()
    for word in WORDS:
        assert c.word(word) is None, word
        assert c.word(word.capitalize()) is None, word
    # "form" is one slip from "from" and both are known: a known word stays as it is
    assert c.correct("What form did it take?") == "What form did it take?"


def test_words_far_from_the_vocabulary_are_left_alone():
    c = corrector()
    assert c.correct("Who plays the xylophone in Zagreb?") == "Who plays the xylophone in Zagreb?"


def test_digits_short_words_and_capitals():
    c = corrector()
    assert c.correct("Was the B52s card in 2024 or in 20244?") == "Was the B52s card in 2024 or in 20244?"
    assert c.word("fo") is None  # under three letters: never corrected
    assert c.correct("UKRANE and Ukrane and ukrane") == "UKRAINE and Ukraine and ukraine"
    assert c.correct("KULEBAA") == "KULEBA"
    assert c.correct("uKrane and kUlebaa") == "Ukraine and Kuleba"  # a capital swapped inwards
    assert c.correct("Napolen's army and the Covidd19 armmy") == "Napoleon's army and the Covidd19 army"


def test_only_the_first_unknown_words_are_tried():
    from qa.spelling import MAX_UNKNOWN

    c = corrector()
    words = ["Ukrane", "zzzzq"] * MAX_UNKNOWN
    fixed = c.correct(" ".join(words)).split()
    assert fixed[:MAX_UNKNOWN] == ["Ukraine", "zzzzq"] * (MAX_UNKNOWN // 2)
    assert fixed[MAX_UNKNOWN:] == words[MAX_UNKNOWN:]


def test_english_words_are_kept_unless_the_correction_is_far_more_frequent():
    c = corrector()
    assert c.word("cart") is None  # an English word, "card" only 5 times as frequent
    assert c.word("minster") == "minister"  # a rare English word next to a 60 times more frequent one
    strict = corrector(english={"minster": 5 * 10**5})  # the correction is no English word: keep it
    assert strict.word("minster") is None


def test_a_candidate_that_is_no_word_must_be_a_word_of_the_index():
    # "fooded" stems as "food", which the index holds; but no sentence holds the word "fooded"
    c = corrector(words=["food", "food", "founder"], english={})
    assert c.word("fonded") is None
    assert corrector(words=["brightwater"], english={}, held=[]).word("Brightwatr") is None
    assert corrector(words=["brightwater"], english={}).word("Brightwatr") == "Brightwater"


def test_perturb_is_seeded_and_slips_one_letter_in_one_or_two_words():
    q = "Which organisation described looted pharmacies and people fighting over food?"
    assert perturb(q, "a", mode="simple") == perturb(q, "a", mode="simple")
    outs = {perturb(q, str(seed), mode="simple") for seed in range(40)}
    assert len(outs) > 30
    for out in outs:
        changed = [(a, b) for a, b in zip(q.split(), out.split(), strict=True) if a != b]
        assert 1 <= len(changed) <= 2
        assert all(len(a) >= 4 and abs(len(a) - len(b)) <= 1 for a, b in changed)
    assert perturb("Who is he?", "a", mode="simple") == "Who is he?"  # no word of four letters: nothing to slip


def test_hard_perturbation_has_keyboard_slips_short_words_two_slips_and_merged_words():
    from typos import NEIGHBOURS

    q = "Which organisation described looted pharmacies and people fighting over food?"
    assert perturb(q, "a") == perturb(q, "a") != perturb(q, "a", mode="simple")
    outs = [perturb(q, str(seed)) for seed in range(400)]
    merged = [out for out in outs if len(out.split()) == len(q.split()) - 1]
    assert 60 < len(merged) < 140  # a quarter lose a space
    kept = [out for out in outs if len(out.split()) == len(q.split())]
    changed = [(a, b) for out in kept for a, b in zip(q.split(), out.split(), strict=True) if a != b]
    assert any(len(a) == 3 for a, _ in changed)  # "and": three letters are enough
    assert any(abs(len(a) - len(b)) == 2 or (len(a) == len(b) and sum(x != y for x, y in zip(a, b)) > 2)
               for a, b in changed)  # two slips in one word
    single = [(a, b) for a, b in changed if len(a) < 7]  # (a word of 7 letters may take two slips)
    neighbour = [(x, y) for a, b in single if len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1
                 for x, y in zip(a, b) if x != y]
    assert neighbour and all(y in NEIGHBOURS[x] for x, y in neighbour)  # a key beside the right one
    assert perturb("Who is he?", "a").lower() != "who is he?"  # three letters: "Who" can slip


@pytest.mark.parametrize("question", [
    "Which organisation described looted pharmacies in the besieged port?",
    "What did the Ukrainian foreign minister say after meeting Lavrov?",
])
def test_misspelt_question_gets_the_same_top_citation(assistant, question):
    clean = assistant.ask(question)
    assert clean.understood_as is None
    misspelt = perturb(question, "test", words=2, mode="simple")
    assert misspelt != question
    typo = assistant.ask(misspelt)
    assert typo.question == misspelt and typo.understood_as == question
    assert (typo.citations[0].doc, typo.citations[0].start) == (clean.citations[0].doc, clean.citations[0].start)
    assert typo.answer is not None and clean.answer is not None and typo.answer.text == clean.answer.text
    text = (SEEDS / typo.citations[0].doc).read_text(encoding="utf-8")
    assert text[typo.citations[0].start : typo.citations[0].end] == typo.citations[0].text
    j = typo.to_json("1")
    assert list(j)[:3] == ["id", "question", "understood_as"] and j["understood_as"] == question
    assert f'understood as: "{question}"' in render(typo, color=False).splitlines()[0]
    assert "understood_as" not in clean.to_json("1") and "understood as" not in render(clean, color=False)


def test_term_counts_of_a_layered_bm25_equal_a_fresh_build():
    import numpy as np

    from qa.index.bm25 import BM25Index, LayeredBM25

    base = BM25Index.build(["the minister spoke", "Ukraine and the minister", "food stores"], [0, 1, 2])
    delta = BM25Index.build(["a new minister of food"], [3])
    layered = LayeredBM25(base, delta, np.array([1]))  # sentence 1 removed, 3 added
    fresh = BM25Index.build(["the minister spoke", "food stores", "a new minister of food"], [0, 2, 3])
    terms = _stem(["minister", "ukraine", "food", "spoke", "zzzz"])
    expected = dict(zip(_stem(["minister", "food", "spoke"]), [2, 2, 1], strict=True))
    assert layered.term_counts(terms) == fresh.term_counts(terms) == expected


def test_a_word_longer_than_every_english_word_is_looked_up_at_once():
    """A one-word hostile question (2,000 letters, ``MAX_QUESTION_CHARS``) looks up each of its
    ~4,000 parts among the English words; a part longer than all of them is not there, and must
    not be searched for: numpy would widen the whole word list to its width (13 ms a look-up: a
    minute a question)."""
    import numpy as np

    from qa.defaults import MAX_QUESTION_CHARS
    from qa.spelling import EnglishWords, english_words

    english = english_words()
    if not len(english):
        pytest.skip("symspellpy's word list is not installed")

    class Unwidened(np.ndarray):
        def searchsorted(self, key, *args, **kwargs):
            assert len(key) <= self.itemsize, "searched with a key wider than every word"
            return super().searchsorted(key, *args, **kwargs)

    guarded = EnglishWords([], [])
    guarded.words, guarded.counts = english.words.view(Unwidened), english.counts
    assert guarded.get("the") == english.get("the") > 0
    for n in (english.words.itemsize + 1, MAX_QUESTION_CHARS):
        assert guarded.get("x" * n) == 0

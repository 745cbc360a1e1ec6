"""Misspelt question words corrected against the index's vocabulary (``qa.spelling``)."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
from conftest import ROOT, SEEDS

from qa.commands.ask import render
from qa.spelling import Corrector, _stem, one_slip

sys.path.insert(0, str(ROOT / "benchmarks"))

from typos import perturb  # noqa: E402

WORDS = ["foreign", "minister", "ukraine", "founded", "brightwater", "kuleba", "from", "form", "card", "food",
         "sonar", "garage", "factory", "built", "units", "first", "news", "napoleon", "army"]


def corrector(words=WORDS, english=None, held=None) -> Corrector:
    """A corrector over a tiny index whose sentences hold ``words`` (each stem in as many
    sentences as it has words)."""
    counts = Counter(_stem(list(words)))
    held = set(words) if held is None else set(held)
    english = {"foreign": 10**8, "minister": 3 * 10**7, "ukraine": 10**7, "founded": 10**7, "form": 10**8,
               "card": 5 * 10**7, "cart": 10**7, "minster": 5 * 10**5, "food": 10**8} if english is None else english
    return Corrector(lambda terms: {t: counts[t] for t in terms if counts[t]}, held.intersection, english=english)


def test_one_slip_spellings():
    slips = one_slip("abc")
    assert {"ab", "bc", "bac", "acb", "abcc", "xabc", "abd"} <= slips
    assert "abc" not in slips and "cba" not in slips


def test_typos_are_corrected():
    c = corrector()
    assert c.correct("Who is the forein minster of Ukrane?") == "Who is the foreign minister of Ukraine?"
    assert c.correct("Who foundedd Brightwatr?") == "Who founded Brightwater?"
    assert c.correct("Where were the frist unist bulit?") == "Where were the first units built?"


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
    assert c.word("fom") is None  # under four letters: never corrected
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
    assert perturb(q, "a") == perturb(q, "a")
    outs = {perturb(q, str(seed)) for seed in range(40)}
    assert len(outs) > 30
    for out in outs:
        changed = [(a, b) for a, b in zip(q.split(), out.split(), strict=True) if a != b]
        assert 1 <= len(changed) <= 2
        assert all(len(a) >= 4 and abs(len(a) - len(b)) <= 1 for a, b in changed)
    assert perturb("Who is he?", "a") == "Who is he?"  # no word of four letters: nothing to slip


@pytest.mark.parametrize("question", [
    "Which organisation described looted pharmacies in the besieged port?",
    "What did the Ukrainian foreign minister say after meeting Lavrov?",
])
def test_misspelt_question_gets_the_same_top_citation(assistant, question):
    clean = assistant.ask(question)
    assert clean.understood_as is None
    misspelt = perturb(question, "test", words=2)
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

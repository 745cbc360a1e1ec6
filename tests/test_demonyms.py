"""Country adjectives match their countries, in span matching and in keyword search."""

from __future__ import annotations

from qa.answer import candidate_features, word_key
from qa.demonyms import country_of, other_forms
from qa.lexical import query_terms


def test_capitalised_country_adjectives_are_their_country():
    assert country_of("ukrainian") == "ukraine"
    assert word_key("Ukrainian") == word_key("Ukraine’s") == word_key("Ukraine")
    assert word_key("Russian") == word_key("Russia")
    assert word_key("polish") != word_key("Poland")  # lower case: the verb, not the country


def test_keyword_search_also_looks_for_the_other_form():
    assert "ukrainian" in query_terms("Who is Ukraine's foreign minister?")
    assert set(other_forms("What did the Russian minister say?")) == {"russia"}
    assert other_forms("how to polish a turkey") == []


def test_a_span_does_not_answer_with_the_questions_own_country():
    sentence = (
        "Meeting in Turkey, Russian Foreign Minister Sergey Lavrov and Ukrainian Foreign Minister Dmytro Kuleba spoke."
    )
    spans = {sentence[s:e] for s, e, _k, _f in candidate_features("Who is Ukraine's foreign minister?", sentence)}
    assert "Dmytro Kuleba" in spans
    assert not any(t.startswith("Ukrainian") for t in spans)

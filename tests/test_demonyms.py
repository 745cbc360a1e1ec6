"""Country adjectives match their countries in keyword search."""

from __future__ import annotations

from qa.demonyms import country_of, other_forms
from qa.index.bm25 import query_terms


def test_capitalised_country_adjectives_are_their_country():
    assert country_of("ukrainian") == "ukraine"
    assert country_of("russian") == "russia"


def test_keyword_search_also_looks_for_the_other_form():
    assert "ukrainian" in query_terms("Who is Ukraine's foreign minister?")
    assert set(other_forms("What did the Russian minister say?")) == {"russia"}
    assert other_forms("how to polish a turkey") == []

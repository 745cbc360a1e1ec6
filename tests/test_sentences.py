"""Sentence spans: exact offsets, news conventions, and never cutting a sentence in two."""

from __future__ import annotations

from conftest import SEEDS

from qa.sentences import MAX_CHARS, split_sentences


def texts(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_spans_are_exact_trimmed_and_ordered():
    text = "  First one here.  Second one!\nThird line?\n\n"
    spans = split_sentences(text)
    assert texts(text) == ["First one here.", "Second one!", "Third line?"]
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)
    assert [s for s, _ in spans] == sorted(s for s, _ in spans)


def test_quote_stays_with_its_attribution():
    text = "“We will not surrender,” Kuleba said. He left."
    assert texts(text) == ["“We will not surrender,” Kuleba said.", "He left."]


def test_abbreviations_do_not_end_sentences():
    text = "The U.S. and its allies met at 6 a.m. on Friday. Then they left."
    assert texts(text) == ["The U.S. and its allies met at 6 a.m. on Friday.", "Then they left."]


def test_headlines_and_captions_on_their_own_lines():
    text = "Peace Talks Collapse\nTalks ended on Thursday.\nJohn Doe/Getty Images"
    assert texts(text) == ["Peace Talks Collapse", "Talks ended on Thursday.", "John Doe/Getty Images"]


def test_seed_articles_every_span_reproduces_and_none_is_cut_mid_sentence():
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        spans = split_sentences(text)
        assert len(spans) > 15
        for s, e in spans:
            sentence = text[s:e]
            assert sentence.strip() == sentence and sentence
            # a sentence never ends inside a word or right after a comma
            assert not sentence.rstrip("”\"’").endswith(",")
            assert e == len(text) or not text[e].isalnum()


def test_very_long_runs_are_capped():
    text = "word " * 3000
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(e - s <= MAX_CHARS for s, e in spans)
    assert all(text[s:e].strip() == text[s:e] for s, e in spans)


def test_empty_and_blank_text():
    assert split_sentences("") == []
    assert split_sentences(" \n\t\n ") == []

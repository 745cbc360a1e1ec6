"""Answer spans: verbatim, of the type the question asks for, never repeating the question."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.answer import candidate_features, extract_span, question_kind, typed_candidates, wh_word


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many people live there?", "number"),
        ("When did the war start?", "date"),
        ("In which year was it built?", "date"),
        ("Who is the mayor?", "name"),
        ("Where did they meet?", "name"),
        ("Why did it fail?", None),
    ],
)
def test_question_kind(question, kind):
    assert question_kind(question) == kind


def test_wh_word():
    assert wh_word("Stanwyk's real plan was to kill who?") == "who"
    assert wh_word("In what city does it happen?") == "what"
    assert wh_word("Name the capital.") == "other"


SENTENCE = "Speaking to the BBC, Serhiy Orlov, the city's deputy mayor, said 1,207 people were killed by March 9, 2022."


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many people were killed, according to the deputy mayor?", "1,207"),
        ("Who is the city's deputy mayor?", "Serhiy Orlov"),
    ],
)
def test_typed_questions_get_the_typed_span(question, expected):
    span = extract_span(question, SENTENCE)
    assert span is not None
    assert SENTENCE[span.start : span.end] == expected


def test_span_never_repeats_the_question():
    span = extract_span("What did Serhiy Orlov tell the BBC?", SENTENCE)
    if span is not None:
        text = SENTENCE[span.start : span.end].lower()
        assert "orlov" not in text and "bbc" not in text


def test_sentence_initial_function_words_are_not_names():
    assert (0, 7) not in typed_candidates("However, Kuleba said he was ready.", "name")
    spans = [("However, Kuleba said he was ready."[s:e]) for s, e in typed_candidates("However, Kuleba said he was ready.", "name")]
    assert "Kuleba" in spans


def test_whole_sentence_is_always_a_candidate():
    cands = candidate_features("Why did the talks fail?", "It rained.")
    assert any(k == "sentence" and (s, e) == (0, len("It rained.")) for s, e, k, _ in cands)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=120), st.text(min_size=1, max_size=60))
def test_spans_are_always_inside_the_sentence(sentence, question):
    span = extract_span(question, sentence)
    if span is not None:
        assert 0 <= span.start < span.end <= len(sentence)
        assert sentence[span.start : span.end].strip() == sentence[span.start : span.end]

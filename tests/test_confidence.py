"""Confidence: a probability, higher when the index answers; abstention when it does not."""

from __future__ import annotations

import math

from qa import confidence_weights as cw
from qa.confidence import (
    answer_not_a_name,
    content_words,
    count_not_of_asked,
    features,
    near_miss_features,
    probability,
    question_names,
)
from qa.defaults import DEFAULT_THRESHOLD


def test_weights_are_plain_numbers_and_consistent():
    n = len(cw.FEATURES)
    assert len(cw.MEANS) == len(cw.SCALES) == len(cw.WEIGHTS) == n
    assert all(isinstance(x, float) and math.isfinite(x) for x in cw.MEANS + cw.SCALES + cw.WEIGHTS)
    assert 0.0 < DEFAULT_THRESHOLD < 1.0


def test_probability_is_bounded_and_grows_with_the_top_cosine():
    base = {f: m for f, m in zip(cw.FEATURES, cw.MEANS, strict=True)}
    low, high = dict(base, cos1=0.2), dict(base, cos1=0.8)
    assert 0.0 < probability(low) < probability(high) < 1.0


def test_question_names_and_content_words():
    assert question_names("Who did Lavrov meet in Antalya?") == {"lavrov", "antalya"}
    assert "who" not in content_words("Who did Lavrov meet?")


def test_features_of_a_real_ranking(assistant):
    r = assistant.ask("Who is the deputy mayor of Mariupol?")
    assert set(cw.FEATURES) <= set(r.features)
    assert 0.0 <= r.features["idf_cover1"] <= 1.0
    assert 0.0 <= r.confidence <= 1.0


def test_answers_what_the_articles_say_and_abstains_on_what_they_do_not(assistant):
    answered = assistant.ask("Which Red Cross official described scenes of looted food stores in Mariupol?")
    assert answered.answer is not None
    for q in ("What is the boiling point of tungsten in kelvin?", "Who won the 1998 football World Cup final?"):
        r = assistant.ask(q)
        assert r.answer is None and r.confidence < answered.confidence
        assert r.citations  # still shows the closest sentences


def test_features_handle_empty_rankings(assistant):
    f = features(assistant.store, "Who?", [], [], [], False)
    assert math.isfinite(probability({k: f.get(k, 0.0) for k in cw.FEATURES}))


def test_count_not_of_asked_needs_the_counted_noun_after_a_number():
    q = "How many soldiers have been killed?"
    assert count_not_of_asked(q, "The figure for those killed is 1,207.") == 1.0
    assert count_not_of_asked(q, "At least 1,207 Russian soldiers were killed.") == 0.0
    assert count_not_of_asked(q, "Two soldiers died.") == 0.0
    assert count_not_of_asked("How many refugees crossed?", "Nobody knows.") == 1.0
    assert count_not_of_asked("When did it start?", "It started in 2014.") == 0.0
    # a general noun may be counted under another name
    assert count_not_of_asked("How many people were buried?", "He said 47 bodies were buried.") == 0.0


def test_answer_not_a_name():
    q = "Who mediated the talks?"
    assert answer_not_a_name(q, "Mevlut Cavusoglu", "name") == 0.0
    assert answer_not_a_name(q, "Russian", "name") == 1.0  # a nationality, not who did it
    assert answer_not_a_name(q, "British", "name") == 1.0
    assert answer_not_a_name(q, "the foreign minister", "run") == 1.0
    assert answer_not_a_name(q, "Russian officials from Moscow", "run") == 0.0  # a description naming someone
    assert answer_not_a_name(q, "Russian officials", "run") == 1.0  # a nationality names no one
    assert answer_not_a_name(q, None, None) == 1.0  # no span: the whole sentence
    assert answer_not_a_name("Where did they meet?", "Antalya", "name") == 0.0
    assert answer_not_a_name("Who is Anna Berg?", "the harbour master", "description") == 0.0  # what was asked
    assert answer_not_a_name("Who said so?", "The mayor of Arden", "speaker") == 0.0
    assert answer_not_a_name("Who said so?", "an old fisherman", "speaker") == 1.0
    assert answer_not_a_name("Where did they meet?", "Turkish", "name") == 0.0  # "the Turkish coast"
    assert answer_not_a_name("Where did they meet?", "one more time", "run") == 1.0
    assert answer_not_a_name("What did Lavrov say?", "Russian", "name") == 0.0


def test_near_miss_features_are_all_listed():
    f = near_miss_features("How many soldiers died?", "Two soldiers died.", None)
    assert f == {"answer_not_a_name": 0.0, "count_not_of_asked": 0.0}
    f = near_miss_features("Who died?", "Two soldiers died.", ("Two", "number"))
    assert f == {"answer_not_a_name": 1.0, "count_not_of_asked": 0.0}

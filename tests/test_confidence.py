"""Confidence: a probability, higher when the index answers; abstention when it does not."""

from __future__ import annotations

import math

from qa import confidence_weights as cw
from qa.assistant import Reading
from qa.confidence import features, probability
from qa.defaults import DEFAULT_THRESHOLD
from qa.text import content_words, question_names


def test_weights_are_plain_numbers_and_consistent():
    n = len(cw.FEATURES)
    assert len(cw.MEANS) == len(cw.SCALES) == len(cw.WEIGHTS) == n
    assert all(isinstance(x, float) and math.isfinite(x) for x in cw.MEANS + cw.SCALES + cw.WEIGHTS)
    assert 0.0 < DEFAULT_THRESHOLD < 1.0


def test_probability_is_bounded_and_grows_with_the_readers_margin():
    base = {f: m for f, m in zip(cw.FEATURES, cw.MEANS, strict=True)}
    low, high = dict(base, read_margin=-5.0), dict(base, read_margin=5.0)
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
    f = features(assistant.store, "Who?", [], [], [], None, Reading([], {}, [], False))
    assert math.isfinite(probability({k: f.get(k, 0.0) for k in cw.FEATURES}))

"""Confidence: a probability, higher when the index answers; abstention when it does not."""

from __future__ import annotations

import math

import numpy as np

from qa import confidence_weights as cw
from qa.confidence import (
    asked_nouns,
    content_words,
    count_not_of_asked,
    coverage_features,
    features,
    near_miss_features,
    predicate_words,
    probability,
    question_names,
    who_not_person,
    word_coverage,
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


def test_predicate_words_leave_out_names_function_and_wh_words():
    q = "Who mediated the talks between Lavrov and Kuleba?"
    assert [w for _, _, w in predicate_words(q)] == ["mediated", "talks", "between"]
    assert [w for _, _, w in predicate_words(q, names=True)][-2:] == ["Lavrov", "Kuleba"]
    for s, e, w in predicate_words(q):
        assert q[s:e] == w
    assert predicate_words("Who is he?") == []


def test_word_coverage_pools_word_pieces():
    q = "Who mediated talks?"
    # pieces: [CLS] who media ##ted talks ? [SEP]
    offsets = [(0, 0), (0, 3), (4, 9), (9, 12), (13, 18), (18, 19), (0, 0)]
    cover = np.array([0.9, 0.9, 0.2, 0.4, 0.8, 0.9, 0.9])
    assert word_coverage(offsets, cover, predicate_words(q)) == [0.30000000000000004, 0.8]
    f = coverage_features(q, offsets, cover)
    assert f["pred_cover_min_window"] == f["first_pred_cover_window"] == 0.30000000000000004
    assert f["head_cover_window"] == 1.0  # a who-question asks about no noun
    # without token vectors nothing counts as missing
    assert set(coverage_features(q, None, None).values()) == {1.0}
    assert set(coverage_features(q, offsets[:3], cover).values()) == {1.0}


def test_asked_nouns():
    assert "alliance" in asked_nouns("Which alliance refused to close the skies?")  # (qa.answer.wh_head)
    assert asked_nouns("How many refugees have crossed into Poland?") == {"refugees"}
    assert asked_nouns("Who mediated the talks?") == set()


def test_count_not_of_asked_needs_the_counted_noun_after_a_number():
    q = "How many soldiers have been killed?"
    assert count_not_of_asked(q, "The figure for those killed is 1,207.") == 1.0
    assert count_not_of_asked(q, "At least 1,207 Russian soldiers were killed.") == 0.0
    assert count_not_of_asked(q, "Two soldiers died.") == 0.0
    assert count_not_of_asked("How many refugees crossed?", "Nobody knows.") == 1.0
    assert count_not_of_asked("When did it start?", "It started in 2014.") == 0.0


def test_who_not_person():
    q = "Who mediated the talks?"
    assert who_not_person(q, "Mevlut Cavusoglu", "name") == 0.0
    assert who_not_person(q, "Russian", "name") == 1.0  # a nationality, not who did it
    assert who_not_person(q, "British", "name") == 1.0
    assert who_not_person(q, "the foreign minister", "run") == 1.0
    assert who_not_person(q, None, None) == 1.0  # no span: the whole sentence
    assert who_not_person("What did Lavrov say?", "Russian", "name") == 0.0


def test_near_miss_features_are_all_listed():
    f = near_miss_features("How many soldiers died?", "Two soldiers died.", None)
    assert set(f) == {
        "pred_cover_min_window",
        "first_pred_cover_window",
        "head_cover_window",
        "count_not_of_asked",
        "who_not_person",
    }
    assert f["count_not_of_asked"] == 0.0 and f["who_not_person"] == 0.0

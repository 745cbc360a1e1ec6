"""The trained follow-up resolver: the shipped model is the one its record describes, a
question that needs no history comes back as typed, and a follow-up gets the words it leans on."""

from __future__ import annotations

import json

import pytest

from qa.resolver import (
    MODEL_PATH,
    RECORD_PATH,
    Resolution,
    default_resolver,
    load_tokenizer,
    model_sha256,
    resolve,
    resolve_turn,
    split_words,
    training_record,
)

# A conversation written for this test (not from CANARD, QuAC or the seeds).
HISTORY = [
    "Marta Kowalczyk",
    "Early career",
    "Where did Marta Kowalczyk study architecture?",
    "Kowalczyk studied architecture at the Warsaw University of Technology, graduating in 1994.",
]


def test_shipped_model_matches_its_training_record():
    record = training_record()
    assert record["model"] == MODEL_PATH.name
    assert RECORD_PATH.parent == MODEL_PATH.parent
    assert model_sha256() == record["sha256"]
    assert record["precision"] == "int8"
    for key in ("data", "seed", "hyperparameters", "training_seconds", "checking_half"):
        assert key in record
    assert len(record["data"]["canard"]["sha256"]) == 64
    scores = record["checking_half"]["model"]["int8"]
    assert scores["with titles"]["turns"] > 500
    assert 0 <= scores["without titles"]["f1"] <= scores["with titles"]["f1"] <= 1


def test_record_is_json():
    json.loads(RECORD_PATH.read_text(encoding="utf-8"))


def test_empty_history_returns_the_question_as_typed():
    question = "  What did he say about the harbour?"
    got = resolve_turn(question, [])
    assert isinstance(got, Resolution)
    assert got.question == question and got.resolved == question and got.added == []
    assert 0.0 <= got.needs_history <= 1.0
    assert resolve(question, []) == question


def test_needs_history_is_higher_for_a_pronoun_question_than_a_self_contained_one():
    leaning = resolve_turn("What did he say?", []).needs_history
    standalone = resolve_turn("What is the population of the city of Lyon in France?", []).needs_history
    assert leaning > standalone


def test_a_pronoun_follow_up_gets_the_persons_name():
    got = resolve_turn("When did she graduate?", HISTORY)
    assert "Kowalczyk" in got.added
    assert got.resolved.startswith("When did she graduate?")
    assert all(term in got.resolved for term in got.added)
    assert got.needs_history > 0.5
    assert resolve("When did she graduate?", HISTORY) == got.resolved


def test_added_terms_are_history_words_with_their_casing_in_history_order():
    got = resolve_turn("When did she graduate?", HISTORY)
    tokenizer = load_tokenizer()
    question_words = {w.lower() for w, _, _ in split_words(tokenizer, got.question)}
    positions = []
    for term in got.added:
        assert term.lower() not in question_words
        where = [(i, item.find(term)) for i, item in enumerate(HISTORY) if term in item]
        assert where, term
        positions.append(where[0])
    assert positions == sorted(positions)
    assert len({t.lower() for t in got.added}) == len(got.added)


def test_the_model_is_loaded_once():
    assert default_resolver() is default_resolver()


@pytest.mark.parametrize("history", [["", ""], ["Only a title"], ["\u00e9t\u00e9 \U0001f600", "", "?", "..."]])
def test_odd_histories_do_not_fail(history):
    got = resolve_turn("Why?", history)
    assert got.resolved.startswith("Why?")

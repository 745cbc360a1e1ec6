"""The synthetic follow-ups that train the resolver (training/synthetic_follow_ups.py), on made-up rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")  # training's stopwords (the benchmarks extra)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from synthetic_follow_ups import follow_up, title_follow_up  # noqa: E402

CONTEXT = (
    "Ada Brannock kept the Skerrow Point light for thirty years. She trained Hamish Rourke in 1931. "
    "The lamp burned paraffin until 1950. She retired in 1952."
)


def row(question: str, answer: str, title: str = "Ada Brannock") -> dict:
    return {"title": title, "context": CONTEXT, "question": question,
            "answers": [{"text": answer, "start": CONTEXT.index(answer)}]}


A = row("What did the lamp burn?", "paraffin")
B = row("Until when did the lamp burn paraffin?", "1950")


def test_a_title_follow_up_puts_the_pronoun_where_the_title_is_named():
    c = row("When did Brannock retire?", "1952")
    assert title_follow_up(A, B, c) == ("When did she retire?", "When did Brannock retire?")
    c = row("How long was Ada Brannock's watch?", "thirty years")
    assert title_follow_up(A, B, c) == ("How long was her watch?", "How long was Ada Brannock's watch?")


def test_no_title_follow_up_when_the_history_names_the_subject_or_a_newer_one():
    c = row("When did Brannock retire?", "1952")
    named = row("Whom did Brannock train?", "Hamish Rourke")  # B's answer is a name: a newer subject
    assert title_follow_up(A, named, c) is None
    assert title_follow_up(row("Who kept the light?", "Ada Brannock"), B, c) is None  # A's answer names her


def test_no_title_follow_up_where_the_name_is_part_of_a_longer_name():
    c = row("What did the Brannock-Rourke school teach?", "paraffin")
    assert title_follow_up(A, B, c) is None


def test_a_newest_subject_follow_up_names_b_s_answer():
    b = row("Who kept the light?", "Ada Brannock")
    c = row("When did Ada Brannock retire?", "1952")
    assert follow_up(A, b, c) == ("When did she retire?", "When did Ada Brannock retire?")

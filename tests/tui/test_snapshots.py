"""Snapshots of the chat app at 120x36 (and 80x24, 100x30) with the cursor blink off, on the stand-in
assistant (fixed answers), so they change only when the interface does.

Update after a deliberate change of the interface: pytest tests/tui --snapshot-update
"""

from __future__ import annotations

import pytest

from qa.tui.app import CiteQAApp
from tests.tui.fakes import fake_opener
from tests.tui.helpers import answered, no_blink, type_text, wait_for

SIZE = (120, 36)


async def _ready(pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.assistant is not None)
    no_blink(pilot.app)


async def _asked(pilot, *questions: str) -> None:
    await _ready(pilot)
    for q in questions:
        await type_text(pilot, q)
        await pilot.press("enter")
    await wait_for(pilot, answered(pilot.app, len(questions)))
    no_blink(pilot.app)


def test_start(snap_compare):
    assert snap_compare(CiteQAApp(opener=fake_opener), terminal_size=SIZE, run_before=_ready)


def test_answer_and_follow_up(snap_compare):
    async def run_before(pilot):
        await _asked(pilot, "Who was the first harbour master?", "How many ships did she record?")

    assert snap_compare(CiteQAApp(opener=fake_opener), terminal_size=SIZE, run_before=run_before)


def test_abstention(snap_compare):
    async def run_before(pilot):
        await _asked(pilot, "What colour is the lighthouse?")

    assert snap_compare(CiteQAApp(opener=fake_opener), terminal_size=SIZE, run_before=run_before)


def test_whole_document(snap_compare):
    async def run_before(pilot):
        await _asked(pilot, "Who was the first harbour master?")
        await pilot.press("escape", "1", "ctrl+o")
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(CiteQAApp(opener=fake_opener), terminal_size=SIZE, run_before=run_before)


# -- issue 16 ---------------------------------------------------------------------------------


def test_citation_mode_is_shown(snap_compare):
    async def run_before(pilot):
        await _asked(pilot, "Who was the first harbour master?")
        await pilot.press("escape", "2")
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(CiteQAApp(opener=fake_opener), terminal_size=SIZE, run_before=run_before)


def test_typing_in_citation_mode_goes_to_the_question(snap_compare):
    async def run_before(pilot):
        await _asked(pilot, "Who was the first harbour master?")
        await pilot.press("escape", *"did she")
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(CiteQAApp(opener=fake_opener), terminal_size=SIZE, run_before=run_before)


def test_small_terminal_status_and_whole_document(snap_compare):
    async def run_before(pilot):
        await _asked(pilot, "Who was the first harbour master?")
        await pilot.press("escape", "1", "ctrl+o")
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(CiteQAApp(opener=fake_opener), terminal_size=(80, 24), run_before=run_before)


# -- issue 23 ---------------------------------------------------------------------------------


def test_wrapped_source_flows_and_the_answer_is_one_line(snap_compare):
    from tests.tui.fakes import wrapped_opener

    async def run_before(pilot):
        await _asked(pilot, "What else did Ada Quill design?")

    assert snap_compare(CiteQAApp(opener=wrapped_opener), terminal_size=SIZE, run_before=run_before)


def test_resized_to_80x24_shows_the_newest_answer(snap_compare):
    async def run_before(pilot):
        await _asked(
            pilot,
            "Who was the first harbour master?",
            "How many ships did she record?",
            "When was the harbour opened?",
            "What colour is the lighthouse?",
        )
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)

    assert snap_compare(CiteQAApp(opener=fake_opener), terminal_size=SIZE, run_before=run_before)


# -- issue 31: 80 and 100 columns -------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
def test_long_answers_without_scrollbars_inside_and_a_readable_footer(snap_compare, size):
    """Five long citations an answer: the conversation scrolls, not each list (no scrollbar in the middle
    of the text); each citation is a line for its source and one for its sentence; every key in the
    footer has its label."""
    from tests.tui.fakes import long_answers_opener

    async def run_before(pilot):
        await _asked(pilot, "Who built the fish market?", "What else did she design?")

    assert snap_compare(CiteQAApp(opener=long_answers_opener), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
def test_whole_document_resized_keeps_the_cited_line_with_hyphenated_words_whole(snap_compare, size):
    from tests.tui.fakes import long_document_opener

    async def run_before(pilot):
        await _asked(pilot, "What colour are the lighthouse's stripes?")
        await pilot.press("escape", "1", "ctrl+o")
        await pilot.pause(0.3)
        await pilot.resize_terminal(*size)
        await pilot.pause(0.3)
        no_blink(pilot.app)

    assert snap_compare(CiteQAApp(opener=long_document_opener), terminal_size=SIZE, run_before=run_before)

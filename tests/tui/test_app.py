"""The chat app driven with Pilot: against a stand-in assistant (fixed answers) for the
interface, and against the real seeds index for answers and follow-ups."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import ContentSwitcher, TextArea

from qa.tui.app import CiteQAApp
from qa.tui.widgets.conversation_view import AnswerCard, CitationList, Notice, QuestionBubble
from qa.tui.widgets.question_input import QuestionInput
from qa.tui.widgets.render import NO_ANSWER
from tests.tui.fakes import FakeAssistant, fake_opener
from tests.tui.helpers import answered, wait_for

SIZE = (120, 36)
pytestmark = pytest.mark.anyio


def body(card: AnswerCard) -> str:
    return str(card.query_one(".answer-body").content)


def sources_text(app) -> str:
    return str(app.query_one("#source-context-text").content)


def sources_title(app) -> str:
    return str(app.query_one("#source-title").content)


async def ask(pilot, question: str) -> None:
    await pilot.click(QuestionInput)
    await pilot.press(*question)
    await pilot.press("enter")


async def test_ask_shows_span_citations_and_context():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "Who was the first harbour master?")
        await wait_for(pilot, answered(app, 1))
        card = app.query_one(AnswerCard)
        assert body(card).startswith("Ada Quill  [1]")
        assert "Its first harbour master was Ada Quill" in body(card)  # the sentence, span highlighted
        assert "confidence 0.71" in body(card)
        citations = card.query_one(CitationList)
        assert citations.option_count == 2
        # the top citation is shown in context at once, the cited sentence between its neighbours
        assert "harbour.txt, line 2" in sources_title(app)
        assert sources_text(app).startswith("The harbour opened in 1871. Its first harbour master")
        assert app.query_one(QuestionInput).value == ""


async def test_number_key_selects_citation_and_d_opens_document():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "Who was the first harbour master?")
        await wait_for(pilot, answered(app, 1))
        await pilot.press("escape")  # from the input to the citations
        assert isinstance(app.focused, CitationList)
        await pilot.press("2")
        assert "The town museum (museum.md), line 2" in sources_title(app)
        assert "The museum holds the harbour logbook." in sources_text(app)
        await pilot.press("d")
        await pilot.pause()
        assert app.query_one(ContentSwitcher).current == "source-document"
        area = app.query_one(TextArea)
        assert area.text == FakeAssistant().store.text("museum.md")
        assert area.selected_text == "The museum holds the harbour logbook."
        await pilot.press("c")
        assert app.query_one(ContentSwitcher).current == "source-context"
        # arrows and Enter select too
        await pilot.press("up", "enter")
        assert "harbour.txt, line 2" in sources_title(app)


async def test_abstention_is_plain_with_closest_matches():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "What colour is the lighthouse?")
        await wait_for(pilot, answered(app, 1))
        card = app.query_one(AnswerCard)
        assert body(card).startswith(NO_ANSWER)
        assert card.has_class("abstained")
        assert str(card.query_one(".closest").content) == "Closest matches:"
        assert card.query_one(CitationList).option_count == 2


async def test_corroboration_is_shown():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "How many ships came in the first winter?")
        await wait_for(pilot, answered(app, 1))
        assert "2 sources agree" in body(app.query_one(AnswerCard))


async def test_typing_while_loading_then_answered_when_ready():
    release = threading.Event()

    def slow_opener(index, status):
        status("Loading the model…")
        assert release.wait(30)
        return FakeAssistant()

    app = CiteQAApp(opener=slow_opener)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.assistant is None and app.loading
        assert "Loading" in app.status.text
        await ask(pilot, "When was the harbour opened?")
        await pilot.pause()
        card = app.query_one(AnswerCard)
        assert card.result is None
        assert "Waiting for the model and index" in body(card)
        await pilot.press(*"still typing")  # the UI answers while the model loads
        assert app.query_one(QuestionInput).value == "still typing"
        release.set()
        await wait_for(pilot, answered(app, 1))
        assert body(card).startswith("1871")
        assert app.status.text.startswith("Ready")


async def test_missing_index_is_shown_in_the_app(tmp_path):
    app = CiteQAApp(tmp_path / "no-such-index")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        errors = [str(n.content) for n in app.query(Notice) if n.has_class("error")]
        assert len(errors) == 1
        assert "Could not open the index" in errors[0] and "qa index" in errors[0]
        await ask(pilot, "Who is there?")
        await pilot.pause()
        assert "no index is open" in body(app.query_one(AnswerCard))
        assert app.is_running


async def test_corrupt_index_is_shown_in_the_app(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    app = CiteQAApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        errors = [str(n.content) for n in app.query(Notice) if n.has_class("error")]
        assert errors and "Could not open the index" in errors[0]


async def test_input_history_with_arrows():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "When was the harbour opened?")
        await ask(pilot, "Who was the first harbour master?")
        box = app.query_one(QuestionInput)
        await pilot.press(*"draft")
        await pilot.press("up")
        assert box.value == "Who was the first harbour master?"
        await pilot.press("up")
        assert box.value == "When was the harbour opened?"
        await pilot.press("up")
        assert box.value == "When was the harbour opened?"
        await pilot.press("down", "down")
        assert box.value == "draft"


async def test_follow_up_uses_the_conversation_and_new_topic_forgets_it():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "Who was the first harbour master?")
        await ask(pilot, "How many ships did she record?")
        await wait_for(pilot, answered(app, 2))
        second = app.query(AnswerCard)[1]
        assert "understood as: How many ships did Ada Quill record?" in body(second)
        assert body(second).startswith("412")
        assert len(app.conversation.turns) == 2
        await pilot.press("ctrl+n")
        assert app.conversation.turns == []
        assert any("New topic" in str(n.content) for n in app.query(Notice))


async def test_palette_toggles_sources_and_clear_empties_the_view():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "When was the harbour opened?")
        await wait_for(pilot, answered(app, 1))
        await pilot.press("ctrl+p")
        await pilot.press(*"toggle sources")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert not app.sources.display
        await pilot.press("f2")
        assert app.sources.display
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert not app.query(AnswerCard) and not app.query(QuestionBubble)


async def test_export_markdown(tmp_path):
    target = tmp_path / "chat.md"
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "Who was the first harbour master?")
        await wait_for(pilot, answered(app, 1))
        app.action_export_markdown()
        await pilot.pause()
        prompt = app.screen.query_one("#prompt-input")
        prompt.value = str(target)
        await pilot.press("enter")
        await pilot.pause()
    text = target.read_text(encoding="utf-8")
    assert "## Who was the first harbour master?" in text
    assert "**Ada Quill** [1]" in text
    assert "harbour.txt, line 2" in text


async def test_index_folder_from_the_app_with_nothing_readable(tmp_path, monkeypatch):
    monkeypatch.setenv("CITEQA_CACHE", str(tmp_path / "cache"))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "image.png").write_bytes(b"\x89PNG")
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        app.action_index_folder()
        await pilot.pause()
        app.screen.query_one("#prompt-input").value = str(empty)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(n.has_class("error") for n in app.query(Notice)))
        error = next(str(n.content) for n in app.query(Notice) if n.has_class("error"))
        assert "nothing readable" in error
        assert app.is_running and app.assistant is not None


async def test_copy_answer_with_its_citation():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "Who was the first harbour master?")
        await wait_for(pilot, answered(app, 1))
        await pilot.press("ctrl+y")
        assert app.clipboard.startswith("Ada Quill — “Its first harbour master was Ada Quill")
        assert app.clipboard.endswith("(harbour.txt, line 2)")


async def test_click_on_a_citation_shows_it():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "Who was the first harbour master?")
        await wait_for(pilot, answered(app, 1))
        citations = app.query_one(CitationList)
        await pilot.click(citations, offset=(4, 2))  # the second option (two lines each)
        await pilot.pause()
        assert "The town museum (museum.md), line 2" in sources_title(app)


async def test_open_another_index_from_the_palette(tmp_path):
    opened = []

    def opener(index, status):
        opened.append(index)
        return FakeAssistant()

    app = CiteQAApp(opener=opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "Who was the first harbour master?")
        await wait_for(pilot, answered(app, 1))
        first = app.assistant
        await pilot.press("ctrl+p", *"open another", "enter")
        await pilot.pause(0.3)
        app.screen.query_one("#prompt-input").value = str(tmp_path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.assistant is not first)
        assert opened == [None, tmp_path]
        assert first.store.closed  # the old index is closed
        assert app.conversation.turns == []  # a new index is a new topic


@pytest.mark.parametrize("size", [(80, 24), (60, 16)])
async def test_small_terminals_still_work(size):
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "Who was the first harbour master?")
        await wait_for(pilot, answered(app, 1))
        await pilot.press("escape", "2", "d", "f2", "f2")
        await pilot.pause()
        assert app.query_one(AnswerCard).result.answer.text == "Ada Quill"


async def test_a_slow_query_does_not_freeze_the_ui():
    release = threading.Event()

    class SlowAssistant(FakeAssistant):
        def ask(self, question, top_k=None):
            assert release.wait(30)
            return super().ask(question, top_k)

    app = CiteQAApp(opener=lambda index, status: SlowAssistant())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "Who was the first harbour master?")
        await ask(pilot, "When was the harbour opened?")  # queued behind the first
        assert app.status.text == "Searching…"
        await pilot.press(*"typing on")
        await pilot.press("f2")
        assert app.query_one(QuestionInput).value == "typing on" and not app.sources.display
        release.set()
        await wait_for(pilot, answered(app, 2))
        first, second = app.query(AnswerCard)
        assert body(first).startswith("Ada Quill") and body(second).startswith("1871")  # in the order asked

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
from tests.tui.helpers import answered, type_text, wait_for

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
    await type_text(pilot, question)
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
        # (its lines are not wrapped, one sentence each: they stay apart)
        assert sources_text(app).startswith("The harbour opened in 1871.\nIts first harbour master")
        assert app.query_one(QuestionInput).value == ""


async def test_number_key_selects_citation_and_ctrl_o_opens_document():
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
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.query_one(ContentSwitcher).current == "source-document"
        area = app.query_one(TextArea)
        # the Markdown paragraph flows (a soft line break is a space), the heading stays apart
        assert area.text == FakeAssistant().store.text("museum.md").replace("logbook.\n", "logbook. ")
        assert area.selected_text == "The museum holds the harbour logbook."
        await pilot.press("ctrl+o")  # back to the context
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
        understood, answer = body(second).split("\n")[:2]  # how it was understood: a line under the question
        assert understood == "understood as: How many ships did she record? Ada Quill"
        assert answer.startswith("412")
        assert len(app.conversation.turns) == 2
        await pilot.press("ctrl+n")
        assert app.conversation.turns == []
        assert any("New topic" in str(n.content) for n in app.query(Notice))
        await ask(pilot, "How many ships did she record?")  # nothing to lean on now: not guessed
        await wait_for(pilot, answered(app, 3))
        third = body(app.query(AnswerCard)[2])
        assert third.startswith(NO_ANSWER) and "cannot tell what this question refers to" in third


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
    monkeypatch.setenv("CITEQA_DATA", str(tmp_path / "data"))
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
        assert "no readable documents" in error and "--ext png=txt" in error
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
        await pilot.press("escape", "2", "ctrl+o", "f2", "f2")
        await pilot.pause()
        assert app.query_one(AnswerCard).result.answer.text == "Ada Quill"


async def test_a_slow_query_does_not_freeze_the_ui():
    release = threading.Event()

    class SlowAssistant(FakeAssistant):
        def ask(self, question, top_k=None, **scope):
            assert release.wait(30)
            return super().ask(question, top_k, **scope)

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


# -- issue 16: typed text is never lost, the mode is visible, one thing for Escape ------------


async def first_answer(pilot, app) -> None:
    """The app loaded, asked one question, and answered it."""
    await wait_for(pilot, lambda: app.assistant is not None)
    await ask(pilot, "Who was the first harbour master?")
    await wait_for(pilot, answered(app, 1))


async def test_typing_after_escape_goes_to_the_question_and_d_c_are_not_hidden_keys():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await first_answer(pilot, app)
        await pilot.press("escape")
        assert isinstance(app.focused, CitationList)
        assert app.query_one(QuestionInput).border_title.startswith("Citations")  # the mode is shown
        await pilot.press(*"dock c")
        await pilot.pause()
        assert app.query_one(QuestionInput).value == "dock c"  # d and c typed, not taken as commands
        assert isinstance(app.focused, QuestionInput)
        assert app.query_one(QuestionInput).border_title.startswith("Question")
        assert app.query_one(ContentSwitcher).current == "source-context"


async def test_escape_always_goes_to_the_citations_and_numbers_choose_there():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await first_answer(pilot, app)
        await pilot.press("escape", "escape", "2")
        assert app.query_one(QuestionInput).value == ""  # "2" chose a citation, it was not typed
        assert "museum.md" in sources_title(app)


async def test_typing_after_the_palette_closes_reaches_the_question():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await first_answer(pilot, app)
        await pilot.press("escape", "ctrl+p")
        await pilot.pause(0.2)
        await pilot.press("escape")  # close the palette: focus returns to the citations
        await pilot.pause(0.2)
        await pilot.press(*"why")
        await pilot.pause()
        assert app.query_one(QuestionInput).value == "why"


async def test_intro_names_the_keys_the_footer_shows():
    from qa.tui.keys import INTRO

    app = CiteQAApp(opener=fake_opener)
    shown = {b.key for b in app.BINDINGS if b.show}
    assert "ctrl+o" in shown and "ctrl+o" in INTRO
    assert " d " not in INTRO and "d its whole" not in INTRO
    assert not any(b.key in ("d", "c") for b in app.BINDINGS)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_status_line_is_one_line_and_not_cut(size):
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        text = app.query_one("#status-text")
        assert text.region.height == 1
        assert app.status.text.endswith("7 sentences")
        assert len(app.status.text) <= text.size.width  # the counts are not cut off


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_whole_document_stays_inside_the_sources_panel(size):
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=size) as pilot:
        await first_answer(pilot, app)
        await pilot.press("escape", "1", "ctrl+o")
        await pilot.pause()
        document = app.query_one("#source-document").region
        for other in ("#status", "#question", "Footer", "#source-title"):
            assert not document.overlaps(app.query_one(other).region), other
        assert app.query_one("#sources").region.contains_region(document)


async def test_export_goes_to_a_stated_folder_with_quotes_as_in_the_source(tmp_path, monkeypatch):
    import qa.tui.export as export_module

    monkeypatch.setattr(export_module, "export_folder", lambda: tmp_path)
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await first_answer(pilot, app)
        app.action_export_markdown()
        await pilot.pause()
        assert str(tmp_path) in str(app.screen.query_one("#prompt-title").content)  # the folder is stated
        app.screen.query_one("#prompt-input").value = "chat.md"  # a bare name goes into that folder
        await pilot.press("enter")
        await pilot.pause()
    assert (tmp_path / "chat.md").exists()


def test_quotations_are_not_quoted_twice():
    from qa.tui.widgets.render import quoted

    assert quoted("“We will not surrender,” Kuleba said.") == "“We will not surrender,” Kuleba said."
    assert quoted("It cost 40 dollars.") == "“It cost 40 dollars.”"


async def test_ask_about_this_document_scopes_the_questions():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await first_answer(pilot, app)
        await pilot.press("escape", "2")
        app.action_scope_document()
        await pilot.pause()
        assert app.assistant.scope == ["museum.md"]
        assert "museum.md" in app.query_one(QuestionInput).border_subtitle
        assert app.conversation.docs == ["museum.md"]  # the whole conversation, follow-ups included
        app.action_scope_all()
        assert app.assistant.scope is None and app.conversation.docs is None


async def test_chat_doc_keeps_the_conversation_inside_the_document():
    app = CiteQAApp(opener=fake_opener, docs=["museum.md"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await pilot.pause()
        assert app.assistant.scope == ["museum.md"] and app.conversation.docs == ["museum.md"]
        assert "museum.md" in app.query_one(QuestionInput).border_subtitle
        app.ask("How many ships were recorded?")
        await wait_for(pilot, lambda: app.assistant.asked)
        assert app.assistant.scopes[-1] == ["museum.md"]


async def test_an_empty_index_says_so_and_how_to_fill_it():
    class EmptyAssistant(FakeAssistant):
        def __init__(self) -> None:
            super().__init__()
            self.store.by_doc = {}

    app = CiteQAApp(opener=lambda index, status: EmptyAssistant())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await pilot.pause()
        notes = [str(n.content) for n in app.query(Notice)]
        assert any("holds no documents" in n and "Index a folder" in n for n in notes)


# -- issue 23: the chat's rough edges -------------------------------------------------------------


async def test_the_footer_shows_how_to_quit():
    from textual.widgets._footer import FooterKey

    for size in [(120, 36), (80, 24)]:
        app = CiteQAApp(opener=fake_opener)
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: app.assistant is not None)
            keys = {k.key: k for k in app.query(FooterKey)}
            assert "ctrl+q" in keys and keys["ctrl+q"].description == "Quit"
            footer = app.query_one("Footer").region
            assert footer.contains_region(keys["ctrl+q"].region), size  # on screen, not scrolled off
            await pilot.press("ctrl+q")
            await pilot.pause()
        assert app.return_code == 0


async def palette(pilot, command: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause(0.2)
    await type_text(pilot, command)
    await pilot.pause(0.5)  # the palette searches in the background
    await pilot.press("enter")
    await pilot.pause(0.2)


def dialogs(app) -> list:
    from textual.screen import ModalScreen

    return [s for s in app.screen_stack if isinstance(s, ModalScreen)]


async def test_a_dialog_opened_again_from_the_palette_is_not_stacked(tmp_path, monkeypatch):
    import qa.tui.export as export_module

    monkeypatch.setattr(export_module, "export_folder", lambda: tmp_path)
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await first_answer(pilot, app)
        await palette(pilot, "export conversation")
        assert len(dialogs(app)) == 1
        app.screen.query_one("#prompt-input").value = str(tmp_path / "kept.md")  # typed, then the palette again
        await palette(pilot, "export conversation")
        assert len(dialogs(app)) == 1  # the open one, as it was
        assert app.screen.query_one("#prompt-input").value == str(tmp_path / "kept.md")
        await palette(pilot, "open another index")  # another dialog takes its place
        assert len(dialogs(app)) == 1 and "index folder" in str(app.screen.query_one("#prompt-title").content)
        await pilot.press("escape")  # one Escape closes it: nothing was left under it
        await pilot.pause()
        assert dialogs(app) == [] and isinstance(app.focused, QuestionInput)
        await palette(pilot, "export conversation")
        await pilot.press("enter")
        await pilot.pause()
        assert dialogs(app) == []
    assert len(list(tmp_path.glob("*.md"))) == 1  # one export: no second dialog wrote another


async def test_the_opening_notice_goes_once_the_index_is_open(tmp_path):
    from qa.tui.messages import IndexingFinished

    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await first_answer(pilot, app)
        first = app.assistant
        app.post_message(IndexingFinished(str(tmp_path), "your library now holds 2 documents, 7 sentences"))
        await wait_for(pilot, lambda: app.assistant is not first)
        notices = [str(n.content) for n in app.query(Notice)]
        assert not any("Opening" in n for n in notices), notices
        assert any("Now answering from" in n and "2 documents, 7 sentences" in n for n in notices), notices


async def test_the_opening_notice_goes_when_the_index_cannot_be_opened(tmp_path):
    def opener(index, status):
        if index is not None:
            raise OSError("no such folder")
        return FakeAssistant()

    app = CiteQAApp(opener=opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await palette(pilot, "open another index")
        app.screen.query_one("#prompt-input").value = str(tmp_path / "nowhere")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.loading and any(n.has_class("error") for n in app.query(Notice)))
        notices = [str(n.content) for n in app.query(Notice)]
        assert not any("Opening" in n for n in notices), notices


async def test_wrapped_source_text_flows_as_paragraphs_with_the_answer_highlighted():
    from tests.tui.fakes import WRAPPED_DOCS, wrapped_opener

    app = CiteQAApp(opener=wrapped_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "What else did Ada Quill design?")
        await wait_for(pilot, answered(app, 1))
        await wait_for(pilot, lambda: "fleet.txt" in sources_title(app))
        shown = app.query_one("#source-context-text").content
        paragraph, items = WRAPPED_DOCS["fleet.txt"].rstrip("\n").split("\n\n")
        # the paragraph is one flowing text; the blank line and the list items stay
        assert str(shown) == paragraph.replace("\n", " ") + "\n\n" + items
        answer = app.query_one(AnswerCard).result.answer
        marked = [str(shown)[s.start : s.end] for s in shown.spans if "yellow" in str(s.style)]
        assert marked == [answer.text.replace("\n", " ")]  # the highlight is still on the answer
        # the whole document too, with the cited sentence selected
        await pilot.press("escape", "1", "ctrl+o")
        await wait_for(pilot, lambda: app.query_one(ContentSwitcher).current == "source-document")
        await pilot.pause(0.2)
        area = app.query_one(TextArea)
        assert area.text == paragraph.replace("\n", " ") + "\n\n" + items + "\n"
        assert area.selected_text == answer.citation.text.replace("\n", " ")
        assert not area.show_line_numbers  # its lines are not the file's any more


async def test_an_answer_across_a_line_break_is_shown_on_one_line():
    from tests.tui.fakes import wrapped_opener

    app = CiteQAApp(opener=wrapped_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await ask(pilot, "What else did Ada Quill design?")
        await wait_for(pilot, answered(app, 1))
        card = app.query_one(AnswerCard)
        lines = body(card).split("\n")
        assert lines[0] == "the lighthouse on the north pier and the harbour's first steam crane  [1]"
        assert lines[1].startswith("The market was built by the engineer Ada Quill")  # its sentence, one line
        assert "\n" in card.result.answer.text  # the result keeps the exact text


async def test_after_a_resize_the_newest_answer_is_still_in_view():
    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        questions = ["Who was the first harbour master?", "How many ships did she record?",
                     "When was the harbour opened?", "What colour is the lighthouse?"]
        for q in questions:
            await ask(pilot, q)
        await wait_for(pilot, answered(app, len(questions)))
        await pilot.pause(0.2)
        view = app.conversation_view
        assert view.max_scroll_y > 0 and view.is_vertical_scroll_end
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        newest = app.query(AnswerCard).last()
        assert view.is_vertical_scroll_end
        assert view.region.contains_region(newest.region)  # the newest answer, whole
        # scrolled up by the user, a resize leaves the view where they put it
        view.scroll_home(animate=False)
        await pilot.pause(0.2)
        await pilot.resize_terminal(120, 36)
        await pilot.pause(0.3)
        assert view.scroll_y == 0


# -- issue 31: the chat at 80 and 100 columns -------------------------------------------------------

NARROW = [(80, 24), (100, 30)]
#: What a scrollbar's thumb leaves on screen, as text.
SCROLLBAR_GLYPHS = set("▁▂▃▄▅▆▇")


@pytest.mark.parametrize("size", NARROW)
async def test_no_scrollbar_inside_the_conversation(size):
    from tests.tui.fakes import long_answers_opener
    from tests.tui.helpers import screen_lines, text_in

    app = CiteQAApp(opener=long_answers_opener)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        for question in ("Who built the fish market?", "What else did she design?"):
            await ask(pilot, question)
        await wait_for(pilot, answered(app, 2))
        await pilot.pause(0.2)
        view = app.conversation_view
        scrolling = [w for w in view.query("*") if w.show_vertical_scrollbar or w.show_horizontal_scrollbar]
        assert scrolling == []  # only the conversation itself scrolls
        for y in (0, view.max_scroll_y // 2, view.max_scroll_y):
            view.scroll_to(y=y, animate=False)
            await pilot.pause(0.1)
            text = "".join(text_in(screen_lines(app), view.scrollable_content_region))  # its scrollbar left out
            assert not SCROLLBAR_GLYPHS & set(text), text
        # the citations are all there, one line each for the source and the sentence's start
        citations = app.query(CitationList).last()
        assert citations.region.height == 2 * len(citations.result.citations)


def shown_footer_keys(app) -> list:
    from textual.widgets._footer import FooterKey

    return [key for key in app.query(FooterKey) if key.display]


@pytest.mark.parametrize("size", NARROW)
async def test_every_key_the_footer_shows_is_readable(size):
    from tests.tui.helpers import screen_lines

    app = CiteQAApp(opener=fake_opener)
    async with app.run_test(size=size) as pilot:
        await first_answer(pilot, app)
        for mode in ("typing", "citations"):
            if mode == "citations":
                await pilot.press("escape")
                await pilot.pause(0.2)
            footer = app.query_one("Footer")
            keys = shown_footer_keys(app)
            assert {k.key for k in keys} >= {"ctrl+q", "ctrl+n", "escape", "ctrl+o", "ctrl+y", "ctrl+l", "ctrl+p"}
            row = screen_lines(app)[footer.region.y]
            for key in keys:
                assert key.description, key.key
                assert footer.region.contains_region(key.region), (mode, key.key)  # not scrolled off
                others = [k for k in keys if k is not key]
                assert not any(key.region.overlaps(k.region) for k in others), (mode, key.key)  # nor covered
                assert f"{key.key_display} {key.description}" in row, row


def cited_line_in_view(area) -> bool:
    """Whether the whole document's selection (the cited sentence) starts on a row in view."""
    _, y = area.wrapped_document.location_to_offset(area.selection.end)
    return area.scroll_y <= y < area.scroll_y + area.scrollable_content_region.height


async def test_after_a_resize_the_whole_document_still_shows_the_cited_line():
    from tests.tui.fakes import long_document_opener
    from tests.tui.helpers import screen_lines, text_in

    app = CiteQAApp(opener=long_document_opener)
    async with app.run_test(size=SIZE) as pilot:
        await first_answer(pilot, app)
        await pilot.press("escape", "1", "ctrl+o")
        await wait_for(pilot, lambda: app.query_one(ContentSwitcher).current == "source-document")
        await pilot.pause(0.2)
        area = app.query_one(TextArea)
        assert area.scroll_y > 0 and cited_line_in_view(area)  # far down the document
        for size in [(80, 24), (100, 30), (120, 36)]:
            await pilot.resize_terminal(*size)
            await pilot.pause(0.3)
            assert cited_line_in_view(area), size
            assert "keeper" in " ".join(text_in(screen_lines(app), area.region)), size


async def test_a_word_hyphenated_across_a_line_break_is_shown_whole():
    from tests.tui.fakes import LONG_DOCS, long_document_opener

    app = CiteQAApp(opener=long_document_opener)
    async with app.run_test(size=SIZE) as pilot:
        await first_answer(pilot, app)
        await wait_for(pilot, lambda: "lighthouse.txt" in sources_title(app))
        card = app.query_one(AnswerCard)
        assert body(card).startswith("cobalt-blue stripes  [1]\nEvery spring the keeper painted the lighthouse in "
                                     "broad cobalt-blue stripes, so that")
        # the sources panel: the context, with the answer still highlighted
        shown = app.query_one("#source-context-text").content
        assert "broad cobalt-blue stripes, so that" in str(shown) and "cobalt- " not in str(shown)
        marked = [str(shown)[s.start : s.end] for s in shown.spans if "yellow" in str(s.style)]
        assert marked == ["cobalt-blue stripes"]
        # the whole document, with the cited sentence still selected
        await pilot.press("escape", "1", "ctrl+o")
        await wait_for(pilot, lambda: app.query_one(ContentSwitcher).current == "source-document")
        await pilot.pause(0.2)
        area = app.query_one(TextArea)
        assert "broad cobalt-blue stripes" in area.text and "cobalt- " not in area.text
        assert area.selected_text == ("Every spring the keeper painted the lighthouse in broad cobalt-blue stripes, "
                                      "so that fishermen could tell it from the lighthouse on the south pier by day.")
        # the citation itself is the source's text, as it is
        result = card.result
        assert result.answer.text == "cobalt-\nblue stripes"
        text = LONG_DOCS["lighthouse.txt"]
        assert text[result.answer.start : result.answer.end] == result.answer.text
        assert text[result.citations[0].start : result.citations[0].end] == result.citations[0].text

"""The chat app on the real seeds index and model: an answer with its citation, a follow-up."""

from __future__ import annotations

import pytest

from qa.tui.app import CiteQAApp
from qa.tui.widgets.conversation_view import AnswerCard
from tests.tui.helpers import answered, type_text, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module")
def opener(seeds_index, assistant):
    from qa import Assistant

    def open_seeds(index, status):  # a fresh store per app; the loaded model is shared
        return Assistant.open(seeds_index, encoder=assistant.encoder)

    return open_seeds


async def test_real_answer_cites_the_sentence_it_quotes(opener):
    app = CiteQAApp(opener=opener)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await type_text(pilot, "How many bodies were buried in a mass grave?")
        await pilot.press("enter")
        await wait_for(pilot, answered(app, 1))
        result = app.query_one(AnswerCard).result
        assert result.citations, "a cited sentence"
        top = result.citations[0]
        store = app.assistant.store
        assert store.text(top.doc)[top.start : top.end] == top.text
        assert "47" in top.text
        assert top.label() in str(app.query_one("#source-title").content)


async def test_real_follow_up_with_he(opener):
    app = CiteQAApp(opener=opener)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await type_text(pilot, "Who is Sasha Volkov?")
        await pilot.press("enter")
        await type_text(pilot, "How did he send his message?")
        await pilot.press("enter")
        await wait_for(pilot, answered(app, 2))
        follow_up = app.query(AnswerCard)[1].result
        assert any("Sasha Volkov" in note for note in follow_up.notes)
        assert "satellite phone" in follow_up.citations[0].text or "audio message" in follow_up.citations[0].text


async def test_index_a_folder_from_the_app_then_ask_it(tmp_path, monkeypatch, assistant):
    from qa import Assistant
    from qa.tui.messages import IndexingProgress

    monkeypatch.setenv("CITEQA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CITEQA_DATA", str(tmp_path / "data"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouse.txt").write_text(
        "The lighthouse on Gull Point was built in 1902 by the engineer Mara Lind.\n"
        "It is painted red and white.\n",
        encoding="utf-8",
    )
    opened = []

    def opener(index, status):
        opened.append(index)
        if index is None:
            from tests.tui.fakes import FakeAssistant

            return FakeAssistant()
        return Assistant.open(index, encoder=assistant.encoder)

    progress: list[tuple[int, int]] = []

    class Recording(CiteQAApp):
        def on_indexing_progress(self, message: IndexingProgress) -> None:
            progress.append((message.done, message.total))  # the base class's handler runs too

    app = Recording(opener=opener)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        app.action_index_folder()
        await pilot.pause()
        app.screen.query_one("#prompt-input").value = str(docs)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(opened) == 2 and not app.loading, timeout=180)
        assert opened[1] == tmp_path / "data" / "library"  # the folder went into the personal library
        assert progress and progress[-1][0] == progress[-1][1] == 2  # two sentences embedded
        assert "2 sentences" in app.status.text
        await type_text(pilot, "When was the lighthouse built?")
        await pilot.press("enter")
        await wait_for(pilot, answered(app, 1))
        result = app.query(AnswerCard)[0].result
        assert result.citations[0].doc == "docs/lighthouse.txt"
        assert "1902" in result.citations[0].text

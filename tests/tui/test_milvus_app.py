"""The chat app over a Milvus Lite index (``pip install -e '.[milvus]'``; skipped without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent.parent


async def test_chat_app_answers_and_shows_sources_from_milvus(tmp_path):
    """The terminal app over a Milvus Lite index: the answer, and the cited sentence in context
    (read from Milvus off the UI thread). The index is built with the tests' hash encoder: this
    checks the plumbing, not the ranking."""
    from helpers_robust import HashEncoder

    from qa.documents import read_documents
    from qa.index import update_index
    from qa.tui.app import CiteQAApp
    from qa.tui.widgets.conversation_view import AnswerCard
    from qa.tui.widgets.question_input import QuestionInput
    from tests.tui.helpers import answered, type_text, wait_for

    where = f"milvus:{tmp_path / 'lib.db'}"
    update_index(where, read_documents([ROOT / "seeds"]), HashEncoder, notify=lambda m: None)
    app = CiteQAApp(where)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.assistant is not None)
        await pilot.click(QuestionInput)
        await type_text(pilot, "Who spoke on a satellite phone?")
        await pilot.press("enter")
        await wait_for(pilot, answered(app, 1))
        card = app.query_one(AnswerCard)
        assert card.result is not None and card.result.citations
        top = card.result.citations[0]
        await wait_for(pilot, lambda: top.text in str(app.query_one("#source-context-text").content))

"""The chat app: ask questions, read cited answers, follow citations, ask follow-ups.

Two modes, shown on the question box's border: typing (the question input has
focus) and citations (Escape: 1-9 or the arrows show a citation in the sources
panel). Escape does one thing, it goes to the latest answer's citations; any
printable key other than 1-9 typed there goes to the question, so typed text
never vanishes whatever has focus.

The window paints at once; the model and index load in a thread worker while
the user types. Questions asked before the index is ready wait, and are
answered as soon as it is. Every query runs in a thread worker, one at a time,
in the order asked, so the UI never blocks.

This module holds the layout, the questions and the conversation; the app's other jobs are parts
of it in their own modules: opening indexes (``qa.tui.indexes``), following citations
(``qa.tui.citations``), export and copy (``qa.tui.export``), and its keys (``qa.tui.keys``).
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header

from qa.tui import keys
from qa.tui.citations import CitationActions
from qa.tui.commands import CiteQACommands
from qa.tui.export import ExportActions
from qa.tui.indexes import IndexActions, describe, open_assistant
from qa.tui.messages import AnswerFailed, AnswerReady, CitationChosen, error_message
from qa.tui.screens import Dialog
from qa.tui.widgets.conversation_view import AnswerCard, ConversationView, Notice, QuestionBubble
from qa.tui.widgets.question_input import QuestionInput
from qa.tui.widgets.sources import SourcesPanel
from qa.tui.widgets.status import StatusLine


class CiteQAApp(IndexActions, CitationActions, ExportActions, App):
    """citeqa chat: extractive answers with citations, in the terminal."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "citeqa"
    SUB_TITLE = "answers quoted from your documents"
    COMMANDS = App.COMMANDS | {CiteQACommands}
    BINDINGS = keys.BINDINGS

    def __init__(
        self,
        index: str | os.PathLike[str] | None = None,
        *,
        opener: Callable[[Path | None, Callable[[str], None]], object] = open_assistant,
        docs: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.index = Path(index) if index is not None else None
        #: ``qa chat --doc``: the conversation stays inside these documents (until "Ask about all documents").
        self.docs = list(docs) if docs else None
        self.opener = opener
        self.assistant = None
        self.conversation = None
        self.loading = True  # from the start: loading begins right after the first paint
        self._queue: deque[tuple[AnswerCard, str]] = deque()
        self._asking = False
        self._retired: list = []
        self._ids = itertools.count(1)
        #: "Opening …", in the conversation while another index loads: replaced by what was opened, or removed
        self._opening: Notice | None = None

    # -- layout ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="chat"):
                yield ConversationView(id="conversation")
                yield StatusLine(id="status")
                yield QuestionInput(id="question")
            yield SourcesPanel(id="sources")
        yield Footer(compact=True)  # every key readable at 80 columns (qa.tui.keys)

    def on_mount(self) -> None:
        self.query_one(QuestionInput).focus()
        self.show_mode()
        self.conversation_view.add(
            Notice(
                Text.assemble(
                    ("Ask a question about the indexed documents. ", "bold"),
                    (keys.INTRO, "dim"),
                ),
                classes="welcome",
            )
        )
        # after the first paint: the loader's imports would hold the GIL while the window draws
        self.call_after_refresh(self.start_loading, self.index)

    @property
    def conversation_view(self) -> ConversationView:
        return self.query_one(ConversationView)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def sources(self) -> SourcesPanel:
        return self.query_one(SourcesPanel)

    # -- asking --------------------------------------------------------------

    @on(QuestionInput.Submitted)
    def submit_question(self, event: QuestionInput.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        box = self.query_one(QuestionInput)
        box.remember(question)
        box.value = ""
        self.ask(question)

    def ask(self, question: str) -> AnswerCard:
        n = next(self._ids)
        card = AnswerCard(question, id=f"answer-{n}", classes="answer")
        self.conversation_view.add(QuestionBubble(question, classes="question"), card)
        if self.assistant is None and not self.loading:
            card.show_error("Not answered: no index is open. " + keys.WHAT_TO_DO)
            return card
        self._queue.append((card, question))
        if self.assistant is None:
            self.call_after_refresh(card.set_waiting, "Waiting for the model and index to load…")
        self._ask_next()
        return card

    def _ask_next(self) -> None:
        if self._asking or self.assistant is None or self.loading or not self._queue:
            return
        card, question = self._queue.popleft()
        self._asking = True
        self.status.set("Searching…")
        self.answer_question(card.id, question, self.conversation)

    @work(thread=True, group="ask")
    def answer_question(self, card_id: str, question: str, conversation) -> None:
        try:
            result = conversation.ask(question)
        except Exception as e:
            self.post_message(AnswerFailed(card_id, error_message(e)))
            return
        self.post_message(AnswerReady(card_id, result))

    async def on_answer_ready(self, message: AnswerReady) -> None:
        self._asking = False
        card = self._card(message.card_id)
        if card is not None:
            await card.show_result(message.result)
            self.conversation_view.call_after_refresh(self.conversation_view.scroll_end, animate=False)
            if message.result.citations:
                self.post_message(CitationChosen(message.result.citations[0], message.result.answer))
        self._after_answer()

    def on_answer_failed(self, message: AnswerFailed) -> None:
        self._asking = False
        card = self._card(message.card_id)
        if card is not None:
            card.show_error(f"Could not answer: {message.error}")
        self._after_answer()

    def _after_answer(self) -> None:
        while self._retired:
            self._retire(self._retired.pop())
        if self.assistant is not None and not self.loading:
            self.status.set(f"Ready · {describe(self.assistant)}")
        self._ask_next()

    def _card(self, card_id: str) -> AnswerCard | None:
        found = self.conversation_view.query(f"#{card_id}")
        return found.first() if found else None

    # -- dialogs ---------------------------------------------------------------

    def open_dialog(self, dialog: Dialog, callback: Callable) -> None:
        """Show ``dialog``, one at a time: the palette opens over a dialog too, so a command may ask for
        the dialog already open (it stays as it is, with what was typed in it) or for another one (which
        takes the open one's place, as if it had been cancelled)."""
        open_dialogs = [screen for screen in self.screen_stack if isinstance(screen, Dialog)]
        if any(screen.id == dialog.id for screen in open_dialogs):
            return
        for screen in reversed(open_dialogs):
            screen.dismiss(None)
        self.push_screen(dialog, callback)

    # -- conversation --------------------------------------------------------

    def action_new_topic(self) -> None:
        if self.conversation is not None:
            self.conversation.reset()
        notice = Text("── New topic: earlier questions no longer apply ──", style="dim")
        self.conversation_view.add(Notice(notice, classes="topic"))

    def action_clear(self) -> None:
        if self.conversation is not None:
            self.conversation.reset()
        for child in list(self.conversation_view.children):
            if not isinstance(child, AnswerCard) or child.result is not None or child.error is not None:
                child.remove()
        self.sources.show_message("Select a citation to see it in context.")

    def on_unmount(self) -> None:
        if self.assistant is not None:
            try:
                self.assistant.close()
            except Exception:
                pass


def run(index: str | os.PathLike[str] | None = None, docs: list[str] | None = None) -> int:
    CiteQAApp(index, docs=docs).run()
    return 0

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
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header

from qa.tui.commands import CiteQACommands
from qa.tui.messages import (
    AnswerFailed,
    AnswerReady,
    AssistantFailed,
    AssistantLoaded,
    CitationChosen,
    IndexingFailed,
    IndexingFinished,
    IndexingProgress,
    TypedAhead,
)
from qa.tui.screens import Dialog, PathPrompt
from qa.tui.widgets.conversation_view import AnswerCard, CitationList, ConversationView, Notice, QuestionBubble
from qa.tui.widgets.question_input import QuestionInput
from qa.tui.widgets.render import answer_clipboard, markdown
from qa.tui.widgets.sources import SourcesPanel, citation_context, displayed_document
from qa.tui.widgets.status import StatusLine

WHAT_TO_DO = (
    "Open another index with ctrl+p → “Open another index”, or add a folder to your library with "
    "ctrl+p → “Index a folder” (on the command line: qa index FOLDER)."
)
INTRO = (
    "Answers are quoted from the sources, with numbered citations: Escape then 1–9 shows one in context, "
    "ctrl+o its whole document; typing always goes to the question. Follow-ups (“What did he say?”) use "
    "the conversation."
)
TYPING_MODE = "Question · Enter to ask · Escape: citations"
CITATIONS_MODE = "Citations · 1–9 or ↑↓ to show one · ctrl+o whole document · type to ask"


def open_assistant(index: Path | None, status: Callable[[str], None]):
    """Open ``index`` (None: the personal library, or the seeds demo before there is one;
    ``qa.library.choose_index``) and load the query model."""
    from qa import Assistant
    from qa.assistant import ensure_default_index
    from qa.defaults import default_index_is_current
    from qa.library import choose_index

    if choose_index(index).path is None and not default_index_is_current():
        status("Indexing the bundled seed articles (first run only)…")
        ensure_default_index(quiet=True)
    status("Opening the index…")
    assistant = Assistant.open(index)
    status("Loading the model…")
    assistant.encoder.encode(["warm up"])
    return assistant


def index_name(location: str | Path) -> str:
    """A short name for the index at ``location``: your library, the seeds demo, its folder's
    name, or its milvus: address."""
    from qa.defaults import default_index_dir, library_dir
    from qa.index import is_milvus

    if is_milvus(location):
        return str(location)
    path = Path(location)
    if path == library_dir():
        return "your library"
    if path == default_index_dir():
        return "seeds demo"
    return path.name or str(path)


def describe(assistant) -> str:
    store = assistant.store
    docs, sentences = len(store.documents()), len(store)
    return f"{index_name(store.location)} · {_count(docs, 'document')}, {_count(sentences, 'sentence')}"


def export_folder() -> Path:
    """Where exports go by default: the user's documents folder when there is one, else the current one."""
    from platformdirs import user_documents_dir

    documents = Path(user_documents_dir())
    return documents if documents.is_dir() else Path.cwd()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def error_message(error: BaseException) -> str:
    from qa.errors import CiteQAError

    if isinstance(error, CiteQAError):
        return str(error)
    return f"unexpected error: {type(error).__name__}: {error}"


class CiteQAApp(App):
    """citeqa chat: extractive answers with citations, in the terminal."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "citeqa"
    SUB_TITLE = "answers quoted from your documents"
    COMMANDS = App.COMMANDS | {CiteQACommands}
    BINDINGS = [
        Binding("ctrl+n", "new_topic", "New topic"),
        Binding("escape", "focus_citations", "Citations"),
        Binding("ctrl+o", "open_document", "Whole doc"),
        Binding("f2", "toggle_sources", "Sources"),
        Binding("ctrl+y", "copy_answer", "Copy"),
        Binding("ctrl+l", "clear", "Clear"),
        Binding("ctrl+q", "quit", "Quit", tooltip="Quit the app and return to the command prompt.", priority=True),
        *[Binding(str(n), f"cite({n})", f"Citation {n}", show=False) for n in range(1, 10)],
    ]

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
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(QuestionInput).focus()
        self.show_mode()
        self.conversation_view.add(
            Notice(
                Text.assemble(
                    ("Ask a question about the indexed documents. ", "bold"),
                    (INTRO, "dim"),
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

    # -- loading the model and index ---------------------------------------

    def start_loading(self, index: Path | None) -> None:
        self.loading = True
        self.status.set("Loading the model and index…")
        self.load_assistant(index)

    @work(thread=True, exclusive=True, group="load")
    def load_assistant(self, index: Path | None) -> None:
        def status(text: str) -> None:
            self.call_from_thread(self.status.set, text)

        try:
            assistant = self.opener(index, status)
        except Exception as e:  # shown in the app: it never crashes on a bad index
            self.post_message(AssistantFailed(error_message(e)))
            return
        try:
            description = describe(assistant)
        except Exception:
            description = str(index or "the default index")
        self.post_message(AssistantLoaded(assistant, description))

    def on_assistant_loaded(self, message: AssistantLoaded) -> None:
        old = self.assistant
        self.assistant = message.assistant
        if self.docs and old is None:  # qa chat --doc: the first index opened
            self.assistant.scope = list(self.docs)
            self.show_mode()
        self.conversation = self.assistant.conversation()
        self.loading = False
        self.status.set(f"Ready · {message.description}")
        if self._opening is not None:
            opened = f"── Now answering from {message.description}: a new topic ──"
            self._opening.update(Text(opened, style="dim"))
            self._opening = None
        if len(self.assistant.store) == 0:
            self.conversation_view.add(Notice(Text.assemble(
                ("This index holds no documents. ", "bold"),
                ("Add a folder to your library with ctrl+p → “Index a folder” (or: qa index FOLDER).", "dim"),
            ), classes="error"))
        if old is not None:
            self._retire(old)
        self._ask_next()

    def _retire(self, assistant) -> None:
        """Close an assistant that was replaced, once no question is using it."""
        if self._asking:
            self._retired.append(assistant)
            return
        try:
            assistant.close()
        except Exception:
            pass

    def on_assistant_failed(self, message: AssistantFailed) -> None:
        self.loading = False
        self.status.set("No index open")
        if self._opening is not None:  # the error below says what happened
            self._opening.remove()
            self._opening = None
        self.conversation_view.add(
            Notice(Text.assemble(("Could not open the index: ", "bold red"), message.error, "\n", (WHAT_TO_DO, "dim")),
                   classes="error")
        )
        while self._queue:
            card, _ = self._queue.popleft()
            card.show_error("Not answered: no index is open.")

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
            card.show_error("Not answered: no index is open. " + WHAT_TO_DO)
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

    # -- citations and the sources panel -----------------------------------

    def on_citation_chosen(self, message: CitationChosen) -> None:
        if self.assistant is None:
            return
        self.load_context(message.citation, message.answer)

    @work(thread=True, exclusive=True, group="sources")
    def load_context(self, citation, answer) -> None:
        """The cited sentence's neighbours, read from the index here, shown on the UI thread."""
        try:
            excerpt = citation_context(self.assistant.store, citation)
        except Exception as e:
            self.call_from_thread(self.sources.show_message, f"Cannot show this source: {error_message(e)}")
            return
        self.call_from_thread(self.sources.show_context, citation, answer, excerpt)

    @work(thread=True, exclusive=True, group="sources")
    def load_document(self, citation) -> None:
        try:
            text, flowed = displayed_document(self.assistant.store, citation.doc)
        except Exception as e:
            self.call_from_thread(self.sources.show_message, f"Cannot show this source: {error_message(e)}")
            return
        self.call_from_thread(self.sources.show_document, citation, text, flowed)

    def _citation_list(self) -> CitationList | None:
        focused = self.focused
        if isinstance(focused, CitationList):
            return focused
        card = self.conversation_view.latest_answered()
        return card.citation_list() if card is not None else None

    def action_focus_citations(self) -> None:
        """Escape: to the latest answer's citations (typing goes back to the question)."""
        citations = self._citation_list()
        if citations is None:
            self.notify("No citations yet: ask a question first.", severity="warning")
            return
        citations.focus()
        if citations.highlighted is None:
            citations.highlighted = 0

    def on_typed_ahead(self, message: TypedAhead) -> None:
        box = self.query_one(QuestionInput)
        box.focus()
        box.insert_text_at_cursor(message.character)

    def on_descendant_focus(self, event) -> None:
        self.show_mode()

    def show_mode(self) -> None:
        """The mode (typing or citations) and the scope, on the question box's border."""
        mode = CITATIONS_MODE if isinstance(self.focused, CitationList) else TYPING_MODE
        scope = getattr(self.assistant, "scope", None)
        box = self.query_one(QuestionInput)
        box.border_title = mode
        box.border_subtitle = f"asking about {', '.join(scope)} only" if scope else None
        box.set_class(isinstance(self.focused, CitationList), "citation-mode")

    def action_cite(self, n: int) -> None:
        citations = self._citation_list()
        if citations is None or n > len(citations.result.citations):
            self.bell()
            return
        citations.highlighted = n - 1
        citations.choose(n - 1)

    def action_open_document(self) -> None:
        """ctrl+o: the cited sentence's whole document, or back to its context."""
        if not self.sources.display:
            self.sources.display = True
        if self.sources.showing_document:
            self.action_show_context()
        elif self.sources.citation is None or self.assistant is None:
            self.notify("Select a citation first (Escape, then a number).", severity="warning")
        else:
            self.load_document(self.sources.citation)

    def action_show_context(self) -> None:
        if self.sources.citation is not None and self.assistant is not None:
            self.load_context(self.sources.citation, self.sources.answer)

    def action_toggle_sources(self) -> None:
        self.sources.display = not self.sources.display

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

    def turns(self) -> list[tuple[str, object | None, str | None]]:
        return [(card.question, card.result, card.error) for card in self.conversation_view.cards()]

    def action_copy_answer(self) -> None:
        card = self.conversation_view.latest_answered()
        if card is None:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(answer_clipboard(card.result))
        self.notify("Answer and citation copied to the clipboard.")

    def action_export_markdown(self) -> None:
        folder = export_folder()
        default = folder / f"citeqa-conversation-{datetime.now():%Y%m%d-%H%M%S}.md"
        self.open_dialog(
            PathPrompt(
                f"Export the conversation as Markdown to (default folder: {folder}):",
                value=str(default),
                id="export-dialog",
            ),
            self._export,
        )

    def _export(self, path: str | None) -> None:
        if not path:
            return
        try:
            target = Path(path).expanduser()
            if not target.is_absolute():
                target = export_folder() / target
            target.write_text(markdown(self.turns()), encoding="utf-8")
        except OSError as e:
            self.notify(f"Could not write {path}: {e.strerror or e}", severity="error")
            return
        self.notify(f"Conversation written to {target.resolve()}")

    # -- scope ---------------------------------------------------------------

    def action_scope_document(self) -> None:
        """Ask about the document shown in the sources panel only (until "Ask about all documents")."""
        citation = self.sources.citation
        if citation is None or self.assistant is None:
            self.notify("Show a citation first (Escape, then a number).", severity="warning")
            return
        self.assistant.scope = [citation.doc]
        if self.conversation is not None:  # the whole conversation, follow-ups included
            self.conversation.docs = [citation.doc]
        self.show_mode()
        self.notify(f"Questions now ask about {citation.doc} only.")

    def action_scope_all(self) -> None:
        if self.assistant is not None:
            self.assistant.scope = None
        if self.conversation is not None:
            self.conversation.docs = None
        self.show_mode()

    # -- other indexes -------------------------------------------------------

    def action_open_index(self) -> None:
        self.open_dialog(
            PathPrompt("Open the index folder:", placeholder="path to a folder made by qa index", id="open-dialog"),
            self._open_index,
        )

    def _open_index(self, path: str | None) -> None:
        if not path:
            return
        self.index = Path(path).expanduser()
        if self.conversation is not None:
            self.conversation.reset()
        if self._opening is not None:
            self._opening.remove()
        self._opening = Notice(Text(f"Opening {index_name(self.index)}…", style="dim"), classes="topic")
        self.conversation_view.add(self._opening)
        self.start_loading(self.index)

    def action_index_folder(self) -> None:
        self.open_dialog(
            PathPrompt(
                "Index the documents in folder:", placeholder="a folder of .txt .md .html .pdf", id="index-dialog"
            ),
            self._index_folder,
        )

    def _index_folder(self, path: str | None) -> None:
        if not path:
            return
        folder = Path(path).expanduser()
        self.status.set(f"Adding {folder} to your library…")
        self.index_folder(folder)

    @work(thread=True, exclusive=True, group="index")
    def index_folder(self, folder: Path) -> None:
        from qa import library
        from qa.defaults import library_dir

        warnings: list[str] = []

        def progress(total: int):
            done = 0
            self.post_message(IndexingProgress(0, total))

            def step(n: int) -> None:
                nonlocal done
                done += n
                self.post_message(IndexingProgress(done, total))

            return step

        try:
            report, read, _ = library.add(folder, warn=warnings.append, progress=progress)
        except Exception as e:
            self.post_message(IndexingFailed(error_message(e)))
            return
        summary = (f"your library now holds {_count(report.documents_total, 'document')}, "
                   f"{_count(report.sentences_total, 'sentence')}"
                   + (f"; {read.skipped} file(s) skipped" if read.skipped else ""))
        self.post_message(IndexingFinished(str(library_dir()), summary))

    def on_indexing_progress(self, message: IndexingProgress) -> None:
        self.status.progress(message.done, message.total)

    def on_indexing_finished(self, message: IndexingFinished) -> None:
        self.status.hide_progress()
        self.notify(message.summary)
        self._open_index(message.index_dir)

    def on_indexing_failed(self, message: IndexingFailed) -> None:
        self.status.hide_progress()
        self.status.set("Indexing failed" + (f" · {describe(self.assistant)}" if self.assistant else ""))
        self.conversation_view.add(
            Notice(Text.assemble(("Could not index: ", "bold red"), message.error), classes="error")
        )

    def on_unmount(self) -> None:
        if self.assistant is not None:
            try:
                self.assistant.close()
            except Exception:
                pass


def run(index: str | os.PathLike[str] | None = None, docs: list[str] | None = None) -> int:
    CiteQAApp(index, docs=docs).run()
    return 0

"""Opening indexes in the chat app: the model and index loaded in a thread worker at start, another
index opened from the palette, a folder added to the library (with progress), each reported in the app.

``IndexActions`` is a part of ``CiteQAApp`` (a mixin): it uses the app's ``status``,
``conversation_view``, ``open_dialog`` and ``_ask_next``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import work

from qa.tui.keys import WHAT_TO_DO
from qa.tui.messages import (
    AssistantFailed,
    AssistantLoaded,
    IndexingFailed,
    IndexingFinished,
    IndexingProgress,
    error_message,
)
from qa.tui.screens import PathPrompt
from qa.tui.widgets.conversation_view import Notice


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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


class IndexActions:
    """Loading the model and index, opening another index, indexing a folder."""

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

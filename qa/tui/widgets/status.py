"""The status line above the input: what is loading, the index in use, indexing progress."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static


class StatusLine(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static("", id="status-text")
        yield ProgressBar(id="status-progress", show_eta=False)

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False

    def set(self, text: str) -> None:
        self.query_one("#status-text", Static).update(text)

    @property
    def text(self) -> str:
        return str(self.query_one("#status-text", Static).content)

    def progress(self, done: int, total: int) -> None:
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)

    def hide_progress(self) -> None:
        self.query_one(ProgressBar).display = False

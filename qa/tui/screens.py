"""The app's dialogs (modal screens): ask the user for a path."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class Dialog(ModalScreen):
    """A dialog of the app. Its ``id`` names what it asks for: the app shows one dialog at a time, and
    never a second one of the same id (``CiteQAApp.open_dialog``)."""


class PathPrompt(Dialog):
    """Ask for a path; dismisses with the text, or None on Escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str = "", value: str = "", *, id: str) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(self.title_text, id="prompt-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label("Enter to confirm, Escape to cancel", id="prompt-help")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""The sources panel: a cited sentence in context, or its whole document scrolled to it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Static, TextArea
from textual.widgets.text_area import Selection

#: Sentences shown before and after the cited one.
CONTEXT = 2


def citation_context(store, citation) -> list:
    """The cited sentence with up to ``CONTEXT`` neighbours either side (reads the index: call
    it off the UI thread)."""
    if citation.sentence_id is not None:  # one row, not the whole document
        sentence = next(iter(store.sentences([citation.sentence_id])), None)
    else:
        sentence = next((s for s in store.document_sentences(citation.doc) if s.start == citation.start), None)
    return store.neighbours(sentence, CONTEXT, CONTEXT) if sentence is not None else []


def location(text: str, offset: int) -> tuple[int, int]:
    """(row, column) of a character offset, as TextArea counts them."""
    row = text.count("\n", 0, offset)
    return row, offset - (text.rfind("\n", 0, offset) + 1)


class SourcesPanel(Vertical):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Sources"
        self.citation = None
        self.answer = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Select a citation to see it in context.", style="dim"), id="source-title")
        with ContentSwitcher(initial="source-context", id="source-switcher"):
            with VerticalScroll(id="source-context"):
                yield Static(id="source-context-text")
            yield TextArea(id="source-document", read_only=True, soft_wrap=True, show_line_numbers=True)

    def show_context(self, citation, answer, around: list) -> None:
        """The cited sentence, highlighted, with its neighbours (``around``: the cited sentence
        and up to ``CONTEXT`` sentences either side, read from the index by ``citation_context``
        off the UI thread)."""
        self.citation, self.answer = citation, answer
        text = Text()
        if not around:
            text.append(citation.text, style="bold black on yellow")
        for s in around:
            if text:
                text.append(" ")
            if s.start == citation.start:
                piece = Text(s.text, style="bold underline")
                if answer is not None and answer.doc == s.doc and s.start <= answer.start < answer.end <= s.end:
                    piece.stylize("black on yellow", answer.start - s.start, answer.end - s.start)
                else:
                    piece.stylize("reverse")
                text.append_text(piece)
            else:
                text.append(s.text, style="dim")
        self.query_one("#source-title", Static).update(
            Text.assemble((citation.label(), "bold"), ("\nctrl+o: whole document", "dim"))
        )
        self.query_one("#source-context-text", Static).update(text)
        self.query_one(ContentSwitcher).current = "source-context"
        self.query_one("#source-context", VerticalScroll).scroll_home(animate=False)

    def show_document(self, citation, text: str) -> None:
        """The whole document (``text``, read off the UI thread), scrolled to the cited sentence (selected)."""
        if citation != self.citation:  # another citation was chosen meanwhile
            return
        area = self.query_one("#source-document", TextArea)
        area.load_text(text)
        self.query_one(ContentSwitcher).current = "source-document"

        def select() -> None:  # once laid out, so that centring knows the wrapped lines
            # selected from the end back to the start: the cursor, kept in view, is at the start
            area.selection = Selection(location(text, citation.end), location(text, citation.start))
            # after the scroll the selection itself asks for, which only brings it into view
            area.call_after_refresh(area.scroll_cursor_visible, center=True, animate=False)

        self.call_after_refresh(select)
        self.query_one("#source-title", Static).update(
            Text.assemble((self.citation.label(), "bold"), ("\nwhole document · ctrl+o: back to the context", "dim"))
        )

    @property
    def showing_document(self) -> bool:
        return self.query_one(ContentSwitcher).current == "source-document"

    def show_message(self, message: str) -> None:
        self.citation = None
        self.query_one("#source-title", Static).update(Text(message, style="dim"))
        self.query_one("#source-context-text", Static).update("")
        self.query_one(ContentSwitcher).current = "source-context"

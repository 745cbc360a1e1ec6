"""The sources panel: a cited sentence in context, or its whole document scrolled to it.

Both show the document's text with wrapped lines flowed into their paragraphs (``qa.layout.flowed``:
a hard-wrapped line's break is a space; paragraphs, Markdown blocks and list items stay apart). The
flowed text has the document's offsets, so citations and answers are highlighted where they are;
then the breaks inside hyphenated words are left out (``qa.layout.hyphen_breaks``: ``cobalt-blue``,
not ``cobalt- blue``), the highlights kept on their characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Static, TextArea
from textual.widgets.text_area import Selection

from qa.layout import display_line, flowed, hyphen_breaks, leave_out, shown_offset
from qa.tui.widgets.render import without

#: Sentences shown before and after the cited one.
CONTEXT = 2

@dataclass(frozen=True)
class DisplayedDocument:
    """A document's text as the panel shows it: ``text`` flowed, with the document's offsets; whether
    flowing changed it (then its lines are not the file's); and ``joins``, the spans of ``text`` left
    out on screen (the breaks inside hyphenated words)."""

    text: str
    flowed: bool
    joins: list[tuple[int, int]]

    def shown(self) -> str:
        """The text on screen."""
        return leave_out(self.text, self.joins)


def _displayed(text: str, format: str) -> DisplayedDocument:
    shown = flowed(text, format)
    return DisplayedDocument(shown, shown != text, hyphen_breaks(text, shown))


#: Documents shown lately: choosing one citation after another reads the same few documents.
_displayed_lately = lru_cache(maxsize=8)(_displayed)


def displayed_document(store, doc: str) -> DisplayedDocument:
    """A document's text as the panel shows it. Reads the index: call it off the UI thread."""
    return _displayed_lately(store.text(doc), store.document(doc).format)


@dataclass(frozen=True)
class Excerpt:
    """The cited sentence and its neighbours: ``text`` is the displayed document from offset ``start``
    to the last sentence's end, ``sentences`` the index's sentences in it, in order, and ``joins`` the
    spans of the document in it left out on screen (``DisplayedDocument.joins``)."""

    text: str
    start: int
    sentences: list
    joins: list[tuple[int, int]]


def citation_context(store, citation) -> Excerpt | None:
    """The cited sentence with up to ``CONTEXT`` neighbours either side, or None when the index no
    longer holds it (reads the index: call it off the UI thread)."""
    if citation.sentence_id is not None:  # one row, not the whole document's
        sentence = next(iter(store.sentences([citation.sentence_id])), None)
    else:
        sentence = next((s for s in store.document_sentences(citation.doc) if s.start == citation.start), None)
    around = store.neighbours(sentence, CONTEXT, CONTEXT) if sentence is not None else []
    if not around:
        return None
    start, end = around[0].start, around[-1].end
    document = displayed_document(store, citation.doc)
    joins = [(s, e) for s, e in document.joins if start <= s and e <= end]
    return Excerpt(document.text[start:end], start, around, joins)


def context_text(excerpt: Excerpt | None, citation, answer) -> Text:
    """The excerpt as shown: the cited sentence in bold, the answer in it highlighted (or the whole
    sentence when the answer is elsewhere), the neighbours dim, what lies between them as in the document."""
    if excerpt is None:
        return Text(display_line(citation.text), style="bold black on yellow")
    text = Text()
    done = excerpt.start
    for s in excerpt.sentences:
        text.append(excerpt.text[done - excerpt.start : s.start - excerpt.start])
        piece = excerpt.text[s.start - excerpt.start : s.end - excerpt.start]
        if s.start == citation.start:
            shown = Text(piece, style="bold underline")
            if answer is not None and answer.doc == s.doc and s.start <= answer.start < answer.end <= s.end:
                shown.stylize("black on yellow", answer.start - s.start, answer.end - s.start)
            else:
                shown.stylize("reverse")
            text.append_text(shown)
        else:
            text.append(piece, style="dim")
        done = s.end
    return without(text, [(s - excerpt.start, e - excerpt.start) for s, e in excerpt.joins])


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

    def show_context(self, citation, answer, excerpt: Excerpt | None) -> None:
        """The cited sentence, highlighted, with its neighbours (``excerpt``, read from the index by
        ``citation_context`` off the UI thread)."""
        self.citation, self.answer = citation, answer
        text = context_text(excerpt, citation, answer)
        self.query_one("#source-title", Static).update(
            Text.assemble((citation.label(), "bold"), ("\nctrl+o: whole document", "dim"))
        )
        self.query_one("#source-context-text", Static).update(text)
        self.query_one(ContentSwitcher).current = "source-context"
        self.query_one("#source-context", VerticalScroll).scroll_home(animate=False)

    def show_document(self, citation, document: DisplayedDocument) -> None:
        """The whole document (read off the UI thread by ``displayed_document``), scrolled to the cited
        sentence (selected); with line numbers unless it was flowed (they would not be the file's lines
        that citations name)."""
        if citation != self.citation:  # another citation was chosen meanwhile
            return
        area = self.query_one("#source-document", TextArea)
        area.show_line_numbers = not document.flowed
        text = document.shown()
        area.load_text(text)
        self.query_one(ContentSwitcher).current = "source-document"
        start, end = (shown_offset(offset, document.joins) for offset in (citation.start, citation.end))

        def select() -> None:  # once laid out, so that centring knows the wrapped lines
            # selected from the end back to the start: the cursor, kept in view, is at the start
            area.selection = Selection(location(text, end), location(text, start))
            # after the scroll the selection itself asks for, which only brings it into view
            area.call_after_refresh(area.scroll_cursor_visible, center=True, animate=False)

        self.call_after_refresh(select)
        self.query_one("#source-title", Static).update(
            Text.assemble((self.citation.label(), "bold"), ("\nwhole document · ctrl+o: back to the context", "dim"))
        )

    def on_resize(self) -> None:
        """A resize rewraps the whole document: the cursor (at the cited sentence, unless moved since) is
        brought back into view, once the new lines are laid out."""
        if self.showing_document:
            area = self.query_one("#source-document", TextArea)
            self.call_after_refresh(area.scroll_cursor_visible, center=True, animate=False)

    @property
    def showing_document(self) -> bool:
        return self.query_one(ContentSwitcher).current == "source-document"

    def show_message(self, message: str) -> None:
        self.citation = None
        self.query_one("#source-title", Static).update(Text(message, style="dim"))
        self.query_one("#source-context-text", Static).update("")
        self.query_one(ContentSwitcher).current = "source-context"

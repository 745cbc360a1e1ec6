"""Following citations in the chat app: the citations mode (Escape), a citation shown in context or
in its whole document in the sources panel (read off the UI thread), and asking about one document.

``CitationActions`` is a part of ``CiteQAApp`` (a mixin): it uses the app's ``assistant``,
``conversation``, ``conversation_view`` and ``sources``.
"""

from __future__ import annotations

from textual import work

from qa.tui.keys import CITATIONS_MODE, TYPING_MODE
from qa.tui.messages import CitationChosen, TypedAhead, error_message
from qa.tui.widgets.conversation_view import CitationList
from qa.tui.widgets.question_input import QuestionInput
from qa.tui.widgets.sources import citation_context, displayed_document


class CitationActions:
    """Citations mode, the sources panel, and the scope of the questions."""

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
            document = displayed_document(self.assistant.store, citation.doc)
        except Exception as e:
            self.call_from_thread(self.sources.show_message, f"Cannot show this source: {error_message(e)}")
            return
        self.call_from_thread(self.sources.show_document, citation, document)

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

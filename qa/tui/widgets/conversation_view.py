"""The conversation: questions, answer cards with their citations, and notices."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from qa.tui.messages import CitationChosen, TypedAhead
from qa.tui.widgets.render import answer_text, citation_line


class QuestionBubble(Static):
    def __init__(self, question: str, **kwargs) -> None:
        super().__init__(Text.assemble(("› ", "bold"), question), **kwargs)
        self.question = question


class Notice(Static):
    """A line for the user: a new topic, an error with what to do."""


class CitationList(OptionList):
    """An answer's numbered citations: arrows and Enter, or a click, show one in the sources panel;
    1-9 (the app's bindings) choose one. Any other printable key belongs to the question: it is
    passed on (``TypedAhead``), so that typed text never vanishes."""

    #: Keys the citation list keeps: the citation numbers.
    NUMBERS = set("123456789")

    def on_key(self, event) -> None:
        if event.is_printable and event.character and event.character not in self.NUMBERS:
            event.stop()
            event.prevent_default()
            self.post_message(TypedAhead(event.character))

    def __init__(self, result, **kwargs) -> None:
        options = [Option(citation_line(n, c), id=f"c{n}") for n, c in enumerate(result.citations, 1)]
        super().__init__(*options, **kwargs)
        self.result = result

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(event.option_index)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self.has_focus:
            self.choose(event.option_index)

    def choose(self, index: int) -> None:
        if 0 <= index < len(self.result.citations):
            self.post_message(CitationChosen(self.result.citations[index], self.result.answer))


class AnswerCard(Vertical):
    """One question's answer: pending, answered, abstained or failed."""

    def __init__(self, question: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.question = question
        self.result = None
        self.error: str | None = None
        self.body = Static(Text("Thinking…", style="dim italic"), classes="answer-body")

    def compose(self) -> ComposeResult:
        yield self.body

    def set_waiting(self, text: str) -> None:
        self.body.update(Text(text, style="dim italic"))

    async def show_result(self, result) -> None:
        self.result = result
        self.set_class(result.answer is None, "abstained")
        self.body.update(answer_text(result))
        if result.citations:
            widgets = [CitationList(result, classes="citations")]
            if result.answer is None:
                widgets.insert(0, Static(Text("Closest matches:", style="bold"), classes="closest"))
            await self.mount(*widgets)

    def show_error(self, error: str) -> None:
        self.error = error
        self.add_class("failed")
        self.body.update(Text(error, style="bold red"))

    def citation_list(self) -> CitationList | None:
        found = self.query(CitationList)
        return found.first() if found else None


class ConversationView(VerticalScroll):
    """Questions and answers, following new content while scrolled to the bottom (as Elia does), and
    staying at the bottom when a resize rewraps the content (scrolled up, the view stays put)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        #: Whether the view was at the bottom when last scrolled (content that grows does not scroll it).
        self.following = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y

    def on_resize(self) -> None:
        if self.following:
            self.call_after_refresh(self.scroll_end, animate=False)

    def add(self, *widgets) -> None:
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        self.mount(*widgets)
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False)

    def cards(self) -> list[AnswerCard]:
        return list(self.query(AnswerCard))

    def latest_answered(self) -> AnswerCard | None:
        for card in reversed(self.cards()):
            if card.result is not None:
                return card
        return None

"""The conversation taken out of the chat app: exported as Markdown (to a file the user names, in
their documents folder by default), or the latest answer with its citation copied to the clipboard.

``ExportActions`` is a part of ``CiteQAApp`` (a mixin): it uses the app's ``conversation_view`` and
``open_dialog``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from qa.layout import display_line
from qa.tui.screens import PathPrompt
from qa.tui.widgets.render import NO_ANSWER, answer_clipboard, quoted, sources_summary, understood_note


def export_folder() -> Path:
    """Where exports go by default: the user's documents folder when there is one, else the current one."""
    from platformdirs import user_documents_dir

    documents = Path(user_documents_dir())
    return documents if documents.is_dir() else Path.cwd()


def markdown(turns: list[tuple[str, object | None, str | None]]) -> str:
    """The conversation as Markdown: (question, result or None, error or None) per turn. How a follow-up
    was understood follows its question."""
    lines = ["# citeqa conversation", ""]
    for question, result, error in turns:
        lines.append(f"## {question}")
        lines.append("")
        understood = understood_note(result) if result is not None else None
        if understood:
            lines += [f"_{understood}_", ""]
        if error:
            lines.append(f"_Error: {error}_")
        elif result is None:
            lines.append("_(no answer yet)_")
        else:
            lines.append(answer_markdown(result))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_markdown(result) -> str:
    """The answer (or that there is none), its notes but how it was understood (``markdown`` puts that
    with the question), then its citations."""
    lines = []
    if result.answer is None:
        lines.append(f"**{NO_ANSWER}.**")
    else:
        lines.append(f"**{display_line(result.answer.text)}** [1] (confidence {result.confidence:.2f})")
        summary = sources_summary(result)
        if summary:
            lines.append(f"_{summary}_")
    lines += [f"_{note}_" for note in result.notes if note != understood_note(result)]
    if result.answer is None and result.citations:
        lines += ["", "Closest matches:"]
    lines.append("")
    for n, c in enumerate(result.citations, 1):
        lines.append(f"{n}. {c.label()}: {quoted(c.text)} (chars {c.start}–{c.end})")
    return "\n".join(lines)


class ExportActions:
    """Export as Markdown, copy the answer."""

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

"""The chat app's keys: its bindings (those the footer shows, and the rest), and the texts that name
keys (the welcome, the mode on the question box's border, what to do without an index).

The footer (compact) shows every binding with ``show`` and ctrl+p palette on one line of 80 columns:
a binding added to it must fit there too (tests/tui: the footer's keys are all readable at 80
columns). f2 is left out of it; the palette toggles the sources panel too, and lists every key.
"""

from __future__ import annotations

from textual.binding import Binding

BINDINGS = [
    Binding("ctrl+n", "new_topic", "New topic"),
    Binding("escape", "focus_citations", "Citations"),
    Binding("ctrl+o", "open_document", "Whole doc"),
    Binding("f2", "toggle_sources", "Sources", show=False),
    Binding("ctrl+y", "copy_answer", "Copy"),
    Binding("ctrl+l", "clear", "Clear"),
    Binding("ctrl+q", "quit", "Quit", tooltip="Quit the app and return to the command prompt.", priority=True),
    *[Binding(str(n), f"cite({n})", f"Citation {n}", show=False) for n in range(1, 10)],
]

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

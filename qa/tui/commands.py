"""The command palette (ctrl+p): the chat app's own commands."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: (title, help, app action name)
COMMANDS = [
    ("Open another index", "Open an index folder built with `qa index`", "open_index"),
    ("Index a folder", "Add a folder of documents to your library, then open it", "index_folder"),
    ("Ask about this document", "Answer only from the document shown in the sources panel", "scope_document"),
    ("Ask about all documents", "Answer from the whole index again", "scope_all"),
    ("Copy answer with citation", "Copy the latest answer and its source to the clipboard", "copy_answer"),
    ("Export conversation as Markdown", "Write the questions, answers and citations to a .md file", "export_markdown"),
    ("Toggle sources panel", "Show or hide the sources panel", "toggle_sources"),
    ("New topic", "Forget the conversation's context: the next question starts afresh", "new_topic"),
    ("Clear conversation", "Remove every question and answer from the screen", "clear"),
]


class CiteQACommands(Provider):
    async def discover(self) -> Hits:
        for title, help, action in COMMANDS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), help=help)

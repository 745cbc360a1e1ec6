"""Sections of Markdown and HTML documents: the heading a sentence sits under.

A heading gives the sentences under it a section title. Retrieval embeds (and
indexes for BM25) each sentence with its document's title and its section's
(``Tool › Installation: Run the installer…``), and citations show it
(``README.md › Installation, line 12``). Headings are read with markdown-it-py
from the stored text: Markdown files as they are, HTML as extracted (with its
``<h1>``-``<h6>`` written as Markdown headings, ``qa.html_text``).
"""

from __future__ import annotations

import bisect

#: Document formats whose text has Markdown headings.
MARKUP_FORMATS = {"markdown", "html"}
SEPARATOR = " › "


def headings(text: str, format: str) -> list[tuple[int, str]]:
    """``(offset, title)`` of each heading of ``text``, in order (none for formats without markup)."""
    if format not in MARKUP_FORMATS or "#" not in text and "\n=" not in text and "\n-" not in text:
        return []
    from qa.markup import markdown_tokens

    tokens = markdown_tokens(text)
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    found = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map is not None and i + 1 < len(tokens):
            title = " ".join(_plain(tokens[i + 1].children or []).split())
            if title:
                found.append((starts[min(token.map[0], len(starts) - 1)], title))
    return found


def _plain(children: list) -> str:
    """An inline token's text without its markup (``**Stations**`` is ``Stations``, an image its alt text)."""
    return "".join(
        " " if c.type in ("softbreak", "hardbreak") else c.content
        for c in children
        if c.type in ("text", "text_special", "code_inline", "image", "softbreak", "hardbreak")
    )


def section_at(heads: list[tuple[int, str]], offset: int) -> str | None:
    """The title of the last heading that starts at or before ``offset``."""
    i = bisect.bisect_right([start for start, _ in heads], offset)
    return heads[i - 1][1] if i else None


def sentence_title(doc_title: str | None, section: str | None) -> str | None:
    """What a sentence is embedded with: its document's real title and its section's, when it has them."""
    parts = [p for p in (doc_title, section) if p]
    return SEPARATOR.join(parts) if parts else None

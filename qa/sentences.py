"""Sentence segmentation with exact character spans.

Blocks (``qa.layout``) are hard boundaries: paragraphs, list items, Markdown
table rows (one sentence each) and code lines, and lines of their own (headlines,
datelines, captions and bylines in news text; every line of text that is not
hard-wrapped). Inside a block a wrapped line's newline is a space, so a
sentence that spans it is one sentence, newline included. Within a block, syntok finds sentence ends; it
keeps quotes with their attribution (``“…,” Kuleba said.``) and knows
abbreviations (``U.S.``, ``a.m.``). It was chosen over pysbd and blingfire by
comparing their splits of the seed articles (see README, "Sentences"). Markdown
headings and table header rows are not sentences, and syntok reads a Markdown
block as it is read, without its markup (``qa.markup``), so that a link or
emphasis does not end a sentence; the spans are the source's.

Pathologically long sentences (no boundary for ``MAX_CHARS``) are cut at
whitespace so that one line of 50 MB does not become one unit, and such a block
reaches syntok in pieces of ``LINE_PIECE`` characters.
"""

from __future__ import annotations

from syntok import segmenter

from qa.layout import blocks
from qa.markup import MarkupView

MAX_CHARS = 2000
#: Longer lines reach syntok in pieces cut at whitespace (bounded time and memory).
LINE_PIECE = 100_000


def _syntok_sentences(block: str) -> list[tuple[int, int]]:
    spans = []
    for paragraph in segmenter.analyze(block):
        for sentence in paragraph:
            if sentence:
                spans.append((sentence[0].offset, sentence[-1].offset + len(sentence[-1].value)))
    return spans


def _pieces(line: str) -> list[tuple[int, str]]:
    """``(offset, piece)``: a line cut at whitespace into pieces of at most ``LINE_PIECE`` chars,
    so that syntok's time and memory stay bounded on a line of many megabytes."""
    if len(line) <= LINE_PIECE:
        return [(0, line)]
    pieces, start = [], 0
    while start < len(line):
        end = min(start + LINE_PIECE, len(line))
        if end < len(line):
            cut = line.rfind(" ", start + LINE_PIECE // 2, end)
            end = cut if cut > start else end
        pieces.append((start, line[start:end]))
        start = end
    return pieces


def _cap(start: int, end: int, text: str) -> list[tuple[int, int]]:
    spans = []
    while end - start > MAX_CHARS:
        cut = text.rfind(" ", start + MAX_CHARS // 2, start + MAX_CHARS)
        if cut <= start:
            cut = start + MAX_CHARS
        spans.append((start, cut))
        start = cut
    if start < end:
        spans.append((start, end))
    return spans


def split_sentences(text: str, format: str = "text") -> list[tuple[int, int]]:
    """``(start, end)`` spans of the sentences of ``text``, in order, whitespace-trimmed.
    ``format`` is the document's (``"markdown"`` reads Markdown structure: its headings and table
    header rows are not sentences, a table row is one sentence, and the other blocks are segmented
    as read, without their markup: ``qa.markup``)."""
    view = MarkupView(text, format)
    spans: list[tuple[int, int]] = []
    for block_start, block_end in blocks(text, format, labels=False):
        read = view.read(block_start, block_end)
        if read.is_row:
            found = [(block_start, block_end)]
        else:
            source = text[block_start:block_end]
            found = [
                (block_start + s, block_start + e)
                for offset, piece in _pieces(read.text)
                for s, e in read.source_spans(_syntok_sentences(piece), offset, source)
            ]
        for start, end in found:
            for cs, ce in _cap(start, end, text):
                while cs < ce and text[cs].isspace():
                    cs += 1
                while ce > cs and text[ce - 1].isspace():
                    ce -= 1
                if ce > cs:
                    spans.append((cs, ce))
    return spans

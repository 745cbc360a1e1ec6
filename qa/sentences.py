"""Sentence segmentation with exact character spans.

Lines are hard boundaries: headlines, datelines, captions and bylines sit on
lines of their own in news text. Within a line, syntok finds sentence ends; it
keeps quotes with their attribution (``“…,” Kuleba said.``) and knows
abbreviations (``U.S.``, ``a.m.``). It was chosen over pysbd and blingfire by
comparing their splits of the seed articles (see README, "Sentences").

Pathologically long sentences (no boundary for ``MAX_CHARS``) are cut at
whitespace so that one line of 50 MB does not become one unit, and such a line
reaches syntok in pieces of ``LINE_PIECE`` characters.
"""

from __future__ import annotations

import re

from syntok import segmenter

MAX_CHARS = 2000
#: Longer lines reach syntok in pieces cut at whitespace (bounded time and memory).
LINE_PIECE = 100_000
_LINE = re.compile(r"[^\n]+")


def _line_sentences(line: str) -> list[tuple[int, int]]:
    spans = []
    for paragraph in segmenter.analyze(line):
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


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the sentences of ``text``, in order, whitespace-trimmed."""
    spans: list[tuple[int, int]] = []
    for m in _LINE.finditer(text):
        line = m.group()
        if not line.strip():
            continue
        for offset, piece in _pieces(line):
            base = m.start() + offset
            for s, e in _line_sentences(piece):
                for cs, ce in _cap(base + s, base + e, text):
                    while cs < ce and text[cs].isspace():
                        cs += 1
                    while ce > cs and text[ce - 1].isspace():
                        ce -= 1
                    if ce > cs:
                        spans.append((cs, ce))
    return spans

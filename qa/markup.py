"""What a sentence of a Markdown document is read as, mapped back to the characters it comes from.

Citations index the document's text exactly as it was read (``**Gwenhwyfar**``,
``| Tregarrow Halt | 1902 | 1963 |``). The reader reads, and retrieval embeds and indexes
for BM25, the sentence as a person reads it:

- without inline markup: emphasis (``*``, ``_``, ``**``), code backticks, links as their
  text (``[the guide](docs/guide.md)`` reads ``the guide``), images as their alt text, inline
  HTML tags, backslash escapes and entities as the characters they stand for;
- a table row as its cells with their column names: ``Station: Tregarrow Halt; Opened: 1902;
  Closed: 1963``.

Each character read keeps the span of source characters it comes from (column names and
separators come from none), so a span found in the read text maps back to exact source
characters (``ReadText.source_span``): from its first to its last character that comes from
the source, inside one table cell. A sentence of plain text, PDF or JSONL reads as it is.

Markdown is parsed with markdown-it-py (CommonMark and tables; HTML is stored as
Markdown-shaped text, ``qa.html_text``). Its inline tokens carry no source positions, so each
is found, in order, in its block's source; a block where one is not found reads as its
source.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache

#: Document formats whose text is Markdown (``qa.sections.MARKUP_FORMATS`` has the same).
MARKDOWN_FORMATS = {"markdown", "html"}
#: Between a column's name and a cell's text, and between the cells of a row, as read.
LABEL, CELL_SEPARATOR = ": ", "; "


@dataclass(frozen=True)
class ReadText:
    """A sentence as read: ``text``, and for each of its characters the ``(start, end)`` span,
    relative to the sentence's start, of the source characters it comes from (``(-1, -1)`` for
    a column name or separator), and the table cell it belongs to (0 outside tables). Without
    ``spans`` the text is the sentence itself, each character from its own."""

    text: str
    spans: tuple[tuple[int, int], ...] | None = None
    cells: tuple[int, ...] | None = None

    @classmethod
    def verbatim(cls, sentence: str) -> ReadText:
        return cls(sentence)

    @property
    def is_row(self) -> bool:
        """Is this (part of) a table row read with its column names?"""
        return self.cells is not None and any(self.cells)

    def source_span(self, start: int, end: int, one_cell: bool = True) -> tuple[int, int] | None:
        """The source span (relative to the sentence) of ``text[start:end]``: from its first to its last
        character that comes from the source; with ``one_cell``, inside the table cell most of the span
        is in (a span of a column's name alone gives its cell's text). None when there is none."""
        chosen = range(max(start, 0), min(end, len(self.text)))
        if not chosen:
            return None
        if self.spans is None or self.cells is None:
            return chosen.start, chosen.stop
        cell = None
        if one_cell:
            counts: dict[int, int] = {}
            for i in chosen:
                counts[self.cells[i]] = counts.get(self.cells[i], 0) + 1
            cell = max(counts, key=lambda c: (counts[c], -c))
        found = [self.spans[i] for i in chosen if self.spans[i][0] >= 0 and cell in (None, self.cells[i])]
        if not found and cell is not None:  # the span is the column's name: its cell's text
            found = [s for s, c in zip(self.spans, self.cells) if c == cell and s[0] >= 0]
        if not found:
            return None
        return min(s for s, _ in found), max(e for _, e in found)

    def source_spans(self, sentences: list[tuple[int, int]], offset: int, source: str) -> list[tuple[int, int]]:
        """The source spans of consecutive sentences ``text[offset + s : offset + e]`` of a block whose
        source is ``source``: each runs from its first source character to its last, and the markup
        between two sentences goes with the one it touches (up to the white space between them)."""
        cuts = [self.source_span(offset + s, offset + e, one_cell=False) for s, e in sentences]
        found = [c for c in cuts if c is not None]
        out = []
        for k, (s, e) in enumerate(found):
            before = found[k - 1][1] if k else 0
            after = found[k + 1][0] if k + 1 < len(found) else len(source)
            while s > before and not source[s - 1].isspace():
                s -= 1
            while e < after and not source[e].isspace():
                e += 1
            out.append((s, e))
        return out


@dataclass(frozen=True)
class _Piece:
    """Read text that comes from ``source[start:end]`` (each character from one source character
    when ``verbatim``, all of them from the whole span otherwise), or from no source characters
    (``start == -1``: a column name or separator, read with the sentence that holds ``anchor``)."""

    text: str
    start: int
    end: int
    cell: int = 0
    anchor: int = -1

    @property
    def verbatim(self) -> bool:
        return self.start >= 0 and self.end - self.start == len(self.text)


class MarkupView:
    """A document's sentences as read (see the module docstring): ``view.read(start, end)``."""

    def __init__(self, text: str, format: str) -> None:
        self.text = text
        #: ``(start, end, pieces)`` of each block whose read text is not its source, in order
        self._blocks: list[tuple[int, int, list[_Piece]]] = []
        if format in MARKDOWN_FORMATS and text:
            self._blocks = _changed_blocks(text)
        self._starts = [s for s, _, _ in self._blocks]

    def read(self, start: int, end: int) -> ReadText:
        """What the sentence ``text[start:end]`` is read as."""
        i = bisect.bisect_right(self._starts, start) - 1
        if i < 0 or self._blocks[i][1] <= start:
            i += 1
        if i >= len(self._blocks) or self._blocks[i][0] >= end:  # no markup in the sentence
            return ReadText.verbatim(self.text[start:end])
        pieces: list[_Piece] = []
        pos = start
        for block_start, block_end, block in self._blocks[i:]:
            if block_start >= end:
                break
            if pos < block_start:
                pieces.append(_Piece(self.text[pos:block_start], pos, block_start))
            pieces += _clip(block, start, end)
            pos = max(pos, block_end)
        if pos < end:
            pieces.append(_Piece(self.text[pos:end], pos, end))
        read = _assemble(pieces, start)
        return read if read.text.strip() else ReadText.verbatim(self.text[start:end])


def _clip(pieces: list[_Piece], start: int, end: int) -> list[_Piece]:
    """The pieces (or parts of pieces) that come from ``[start, end)`` of the source, and the column
    names and separators read with it."""
    out = []
    for p in pieces:
        if p.start < 0:
            if start <= p.anchor < end:
                out.append(p)
        elif p.verbatim:
            s, e = max(p.start, start), min(p.end, end)
            if s < e:
                out.append(_Piece(p.text[s - p.start : e - p.start], s, e, p.cell))
        elif start <= p.start and p.end <= end:
            out.append(p)
    return out


def _assemble(pieces: list[_Piece], offset: int) -> ReadText:
    """The read text of ``pieces`` with spans relative to ``offset``, its ends trimmed of white space."""
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    cells: list[int] = []
    for p in pieces:
        text.append(p.text)
        cells += [p.cell] * len(p.text)
        if p.start < 0:
            spans += [(-1, -1)] * len(p.text)
        elif p.verbatim:
            spans += [(k - offset, k + 1 - offset) for k in range(p.start, p.end)]
        else:
            spans += [(p.start - offset, p.end - offset)] * len(p.text)
    joined = "".join(text)
    lead = len(joined) - len(joined.lstrip())
    keep = len(joined.rstrip())
    return ReadText(joined[lead:keep], tuple(spans[lead:keep]), tuple(cells[lead:keep]))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    at = text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


@lru_cache(maxsize=1)
def markdown_tokens(text: str) -> list:
    """markdown-it-py's tokens of ``text`` (CommonMark and tables), escapes and entities left as tokens of
    their own (``text_special``, with their source form). The last text's are kept: segmentation, headings
    and the sentences as read all parse the document being indexed (the parse is the slow part)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    md.disable("text_join")
    return md.parse(text)


def _changed_blocks(text: str) -> list[tuple[int, int, list[_Piece]]]:
    """The blocks of ``text`` whose read text is not their source: ``(start, end, pieces)``."""
    tokens = markdown_tokens(text)
    lines = _line_starts(text)

    def line_span(first: int, last: int) -> tuple[int, int]:
        end = lines[last] - 1 if last < len(lines) else len(text)
        return lines[min(first, len(lines) - 1)], max(end, lines[min(first, len(lines) - 1)])

    found: list[tuple[int, int, list[_Piece]]] = []
    header: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "tr_open" and token.map is not None:
            close = next(j for j in range(i, len(tokens)) if tokens[j].type == "tr_close")
            cells = [t for t in tokens[i:close] if t.type == "inline"]
            start, end = line_span(*token.map)
            row = _row_pieces(text, start, end, cells)
            if row is not None:
                if tokens[i - 1].type == "thead_open":
                    header = [" ".join("".join(p.text for p in cell).split()) for cell in row]
                else:
                    found.append((start, end, _labelled(row, header)))
            i = close
        elif token.type == "inline" and token.map is not None and token.children is not None:
            start, end = line_span(*token.map)
            located = _inline_pieces(text, start, end, token.children)
            if located is not None and not _is_verbatim(located[0], text, start, end):
                found.append((start, end, located[0]))
        i += 1
    return found


def _is_verbatim(pieces: list[_Piece], text: str, start: int, end: int) -> bool:
    """Do the pieces read exactly the block's source, white space at its ends aside (no markup left out)?"""
    if not pieces:
        return True
    if not all(p.verbatim for p in pieces) or any(a.end != b.start for a, b in zip(pieces, pieces[1:])):
        return False
    return text[pieces[0].start : pieces[-1].end] == text[start:end].strip()


def _row_pieces(text: str, start: int, end: int, cells: list) -> list[list[_Piece]] | None:
    """Each cell's pieces, found in order in the row ``text[start:end]``."""
    row = []
    pos = start
    for cell in cells:
        located = _inline_pieces(text, pos, end, cell.children or [])
        if located is None:
            return None
        pieces, pos = located
        row.append(pieces)
    return row


def _labelled(row: list[list[_Piece]], header: list[str]) -> list[_Piece]:
    """A body row's pieces read as ``Column: cell; Column: cell``: each column name is read with its cell
    (anchored to the cell's first character), each separator with the cell before it."""
    out: list[_Piece] = []
    number = 0
    for column, pieces in enumerate(row):
        if not "".join(p.text for p in pieces).strip():
            continue
        number += 1
        pieces = [_Piece(p.text, p.start, p.end, number) for p in pieces]
        if out:
            out.append(_Piece(CELL_SEPARATOR, -1, -1, number - 1, anchor=_last_source(out)))
        name = header[column] if column < len(header) else ""
        if name:
            out.append(_Piece(name + LABEL, -1, -1, number, anchor=pieces[0].start))
        out += pieces
    return out


def _last_source(pieces: list[_Piece]) -> int:
    return next(p.end - 1 for p in reversed(pieces) if p.start >= 0)


#: Characters that markup (emphasis, link brackets, list and quote markers, table pipes) and white
#: space are made of: what may lie, left out, between two inline tokens found in the source.
_SKIPPABLE = frozenset("*_`[]()!<>|#+-.\\~=:\"' \t\r\n") | frozenset("0123456789")


def _skippable(gap: str) -> bool:
    return all(ch in _SKIPPABLE for ch in gap)


def _inline_pieces(text: str, pos: int, end: int, children: list) -> tuple[list[_Piece], int] | None:
    """The pieces of an inline token's ``children`` found in order in ``text[pos:end]``, and where the
    last one ends; None when one is not found where it should be."""
    pieces: list[_Piece] = []

    def find(needle: str) -> int:
        at = text.find(needle, pos, end)
        return at if at >= 0 and _skippable(text[pos:at]) else -1

    for token in children:
        kind = token.type
        if kind in ("text", "code_inline", "html_inline"):
            if not token.content:
                continue
            at = find(token.content)
            if at < 0:
                return None
            if kind != "html_inline":
                pieces.append(_Piece(token.content, at, at + len(token.content)))
            pos = at + len(token.content)
        elif kind == "text_special":  # an escape (``\*``) or an entity (``&amp;``): the character it stands for
            at = find(token.markup)
            if at < 0:
                return None
            pieces.append(_Piece(token.content, at, at + len(token.markup)))
            pos = at + len(token.markup)
        elif kind in ("softbreak", "hardbreak"):
            at = text.find("\n", pos, end)
            if at < 0:
                return None
            pieces.append(_Piece("\n", at, at + 1))
            pos = at + 1
        elif kind == "image":  # its alt text
            at = find("![")
            if at < 0:
                return None
            located = _inline_pieces(text, at + 2, end, token.children or [])
            if located is None:
                return None
            pieces += located[0]
            pos = _past_destination(text, located[1], end)
        elif kind == "link_close":
            pos = _past_destination(text, pos, end, autolink=token.markup == "autolink")
        elif kind not in ("em_open", "em_close", "strong_open", "strong_close", "link_open", "s_open", "s_close"):
            return None
    return pieces, pos


def _past_destination(text: str, pos: int, end: int, autolink: bool = False) -> int:
    """Where a link's (or image's) source ends, from the end of its text: past ``>`` for an autolink,
    else past ``]`` and a destination ``(url "title")`` or a reference ``[label]`` after it."""
    close = ">" if autolink else "]"
    at = text.find(close, pos, end)
    if at < 0:
        return pos
    pos = at + 1
    if autolink or pos >= end or text[pos] not in "([":
        return pos
    if text[pos] == "[":
        at = text.find("]", pos, end)
        return at + 1 if at >= 0 else pos
    depth, quote, i = 0, "", pos
    while i < end:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'" and text[i - 1] in " \t\n":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return pos

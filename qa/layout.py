"""Blocks of a document's text: the spans that sentence segmentation never crosses.

Inside a block a single newline is a space for segmentation (wrapped prose);
between blocks there is always a sentence boundary. Blocks are:

- paragraphs: blank lines are hard boundaries;
- Markdown structure (``format`` ``"markdown"`` or ``"html"``, parsed with markdown-it-py): each
  heading, paragraph (also inside list items and quotes), table row and line of
  a code block is a block of its own; inside a paragraph, a newline is soft
  (CommonMark) unless the line is a headline or caption (below). Headings and
  table header rows are labels: segmentation leaves them out (``labels=False``);
- in plain text, a line that starts a list item (``-``, ``*``, ``•``, ``1.``,
  ``1)``) or a table row (``|``) starts a new block;
- lines of their own: in plain text that is not hard-wrapped (one paragraph or
  sentence per line, as in news text), every line is a block, as are headlines,
  datelines, captions and bylines; in hard-wrapped text, a line is a block's
  last line when it is *not full* (the next line's first word would have fitted
  on it, so the break is not a wrap) and the next line does not continue in
  lower case; in a Markdown paragraph that is not hard-wrapped, a line that
  ends without punctuation before one that does not continue in lower case.

Whether text is hard-wrapped, and at which width, is read from the text itself:
its wrapped lines are the ones followed, within a paragraph, by a line that
starts in lower case. Offsets are exact: a block is a ``(start, end)`` span of
the text given, newlines inside it included.

For display (the chat's sources panel, answers in the CLI and the chat), ``flowed``
turns the newlines inside blocks into spaces and ``one_line`` those of a sentence;
both keep the text's length, so citation offsets stay right. A word hyphenated across
a wrapped line's break (``cobalt-\nblue``) would then read ``cobalt- blue``: the chat
leaves the break out (``hyphen_breaks``, ``leave_out``, ``display_line``), and maps
offsets into the text to what it shows with ``shown_offset``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: Lines longer than this are never taken for hard-wrapped lines (prose is wrapped at 60-100 columns).
WRAP_MAX = 100
#: Hard-wrapped text shows at least this many lines that continue on the next line in lower case.
MIN_WRAPPED_LINES = 2
#: The wrap width is estimated as this quantile of the wrapped lines' lengths (low rather than high:
#: an underestimate only joins a short line to the next, which syntok still splits at its full stop).
WIDTH_QUANTILE = 0.75

_LINE = re.compile(r"[^\n]*\n?")
_LIST_OR_ROW = re.compile(r"\s*(?:[-*+•‣◦]\s|\d{1,3}[.)]\s|\|)")
_FIRST_WORD = re.compile(r"\S+")
_PUNCTUATED = re.compile(r"[.!?,;:][\"'”’)\]]*\s*$")


def _lines(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """``(start, end)`` of each line in ``text[start:end]``, newline excluded."""
    end = len(text) if end is None else end
    spans = []
    for m in _LINE.finditer(text, start, end):
        if m.start() == m.end():
            break
        e = m.end() - 1 if text[m.end() - 1 : m.end()] == "\n" else m.end()
        spans.append((m.start(), e))
    return spans


def _continues_lower(line: str) -> bool:
    """Does the line start in lower case (past Markdown's emphasis, code and link markers)?"""
    stripped = line.lstrip().lstrip("*_`[")
    return bool(stripped) and stripped[0].islower()


def wrap_width(text: str, lines: list[tuple[int, int]] | None = None) -> int | None:
    """The width ``text`` is hard-wrapped at, or None when it is not hard-wrapped."""
    lines = _lines(text) if lines is None else lines
    wrapped = []
    for (s, e), (ns, ne) in zip(lines, lines[1:]):
        line, following = text[s:e], text[ns:ne]
        if line.strip() and 0 < e - s <= WRAP_MAX and _continues_lower(following):
            wrapped.append(len(line.rstrip()))
    if len(wrapped) < MIN_WRAPPED_LINES:
        return None
    wrapped.sort()
    return wrapped[min(len(wrapped) - 1, int(WIDTH_QUANTILE * len(wrapped)))]


def _is_full(line: str, following: str, width: int) -> bool:
    """Would the next line's first word not have fitted on ``line``? (Then the break is a wrap.)"""
    word = _FIRST_WORD.search(following)
    return len(line.rstrip()) + 1 + (len(word.group()) if word else 0) > width


def _ends_line(line: str, following: str, width: int | None, markdown: bool) -> bool:
    """Is the break after ``line`` a block boundary? In hard-wrapped text: when the line is not full
    and the next one does not continue in lower case. Otherwise every line ends a block, except in a
    Markdown paragraph (whose newlines are soft), where only a line ending without punctuation
    before one that does not continue in lower case does (a headline or caption)."""
    if width is not None:
        return not _is_full(line, following, width) and not _continues_lower(following)
    if not markdown:
        return True
    return not _continues_lower(following) and not _PUNCTUATED.search(line)


def _text_blocks(
    text: str, start: int, end: int, width: int | None, markdown: bool = False
) -> Iterator[tuple[int, int]]:
    """Blocks of plain text (or of a Markdown paragraph) in ``text[start:end]``."""
    block: tuple[int, int] | None = None
    lines = _lines(text, start, end)
    for i, (s, e) in enumerate(lines):
        line = text[s:e]
        if not line.strip():
            if block:
                yield block
            block = None
            continue
        if block is not None and _LIST_OR_ROW.match(line):
            yield block
            block = None
        block = (s, e) if block is None else (block[0], e)
        following = text[lines[i + 1][0] : lines[i + 1][1]] if i + 1 < len(lines) else ""
        if _ends_line(line, following, width, markdown):
            yield block
            block = None
    if block:
        yield block


def _markdown_line_ranges(text: str) -> Iterator[tuple[int, int, str]]:
    """``(first_line, last_line_exclusive, kind)`` of each Markdown leaf block, in order; ``kind`` is
    ``"code"`` (a block per line), ``"heading"`` (a setext underline left out), ``"header"`` (a table's
    header row) or ``"text"``."""
    from qa.markup import markdown_tokens

    in_header = False
    for token in markdown_tokens(text):
        in_header = token.type == "thead_open" or in_header and token.type != "thead_close"
        if token.map is None:
            continue
        first, last = token.map
        if token.type == "heading_open":
            yield first, last - 1 if token.markup in ("=", "-") else last, "heading"
        elif token.type == "tr_open" and in_header:
            yield first, last, "header"
        elif token.type in ("paragraph_open", "tr_open"):
            yield first, last, "text"
        elif token.type in ("fence", "code_block", "html_block"):
            yield first, last, "code"


def _markdown_blocks(text: str, width: int | None, labels: bool) -> Iterator[tuple[int, int]]:
    lines = _lines(text)
    for first, last, kind in _markdown_line_ranges(text):
        last = min(last, len(lines))
        if first >= last:
            continue
        if kind == "code":
            for s, e in lines[first:last]:
                if text[s:e].strip():
                    yield s, e
        elif kind in ("heading", "header"):
            if labels:
                yield lines[first][0], lines[last - 1][1]
        else:
            yield from _text_blocks(text, lines[first][0], lines[last - 1][1], width, markdown=True)


def blocks(text: str, format: str = "text", labels: bool = True) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the blocks of ``text``, in order (see the module docstring). Without
    ``labels``, Markdown headings and table header rows are left out: they are not sentences but the
    section of the sentences under them (``qa.sections``) and the column names of the rows below
    them (``qa.markup``)."""
    width = wrap_width(text)
    if format in ("markdown", "html"):  # (HTML is stored as Markdown-shaped text: qa.documents)
        return list(_markdown_blocks(text, width, labels))
    return list(_text_blocks(text, 0, len(text), width))


def flowed(text: str, format: str = "text") -> str:
    """``text`` for display as flowing paragraphs: each line break inside a block (a wrapped line's) is a
    space, the breaks between blocks stay. The same length as ``text``, so offsets into ``text`` (citations,
    answers) index the result too."""
    pieces, done = [], 0
    for start, end in blocks(text, format):
        pieces += [text[done:start], one_line(text[start:end])]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


_BREAKS_TO_SPACES = str.maketrans("\r\n", "  ")


def one_line(text: str) -> str:
    """``text`` (a sentence, or a span of one) on one line for display: every line break a space, the same
    length, so offsets into ``text`` index the result too. A sentence never crosses a block, so each of its
    line breaks is a wrapped line's (see ``blocks``)."""
    return text.translate(_BREAKS_TO_SPACES)


#: A line break inside a hyphenated word: after a letter or digit and a hyphen, before a letter or digit
#: ("cobalt-\nblue", "mid-\n1890s"), with the next line's indent. (After a dash, " -\n", it stays a space.)
_HYPHEN_BREAK = re.compile(r"(?<=[^\W_]-)\r?\n[ \t]*(?=[^\W_])")


def hyphen_breaks(text: str, shown: str | None = None) -> list[tuple[int, int]]:
    """``(start, end)`` of each wrapped line's break inside a hyphenated word, the next line's indent
    included: left out for display, ``cobalt-\nblue`` reads ``cobalt-blue`` rather than ``cobalt- blue``.
    The hyphen stays: a word hyphenated only to wrap it (``metal-\nlurgy``) cannot be told from a
    hyphenated one without a dictionary, and showing it costs no character of the source.
    ``shown`` is ``text`` flowed (``flowed``): only the breaks it made spaces count; None when ``text``
    is a sentence or a span of one, whose line breaks are all wrapped lines'."""
    return [m.span() for m in _HYPHEN_BREAK.finditer(text) if shown is None or shown[m.start()] == " "]


def leave_out(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without ``spans`` (in order, apart)."""
    pieces, done = [], 0
    for start, end in spans:
        pieces.append(text[done:start])
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def shown_offset(offset: int, spans: list[tuple[int, int]]) -> int:
    """Where ``offset`` into a text is once ``spans`` are left out of it (``leave_out``)."""
    return offset - sum(min(end, offset) - start for start, end in spans if start < offset)


def display_line(text: str) -> str:
    """``text`` (a sentence, or a span of one) on one line for reading: ``one_line`` with its hyphenated
    words whole (``hyphen_breaks``). Shorter than ``text`` where it joins a word: offsets into ``text``
    index it through ``shown_offset``."""
    return leave_out(one_line(text), hyphen_breaks(text))

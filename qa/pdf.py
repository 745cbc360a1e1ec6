"""The text of a PDF, reflowed into paragraphs by the page's own geometry, with the span of each page.

pdfminer.six gives the text lines of each page (pieces of a line that a wide gap
splits, such as a column gutter or a justified line's word gap, come separately)
with their positions and character sizes. The paragraphs are found here from
measurements taken on the document itself, not from fixed gaps:

- **Columns**: a vertical strip that the page's lines leave (almost) empty, with
  lines on both sides of it, is a gutter. Lines across a gutter (a title, a
  running header) cut the page into bands; a band is read column by column, left
  to right, each top to bottom. The pieces of a line within one column are
  joined.
- **Paragraphs**, between consecutive lines of a column: a break where the
  baseline-to-baseline distance is clearly more than the document's typical one
  for that font size (its most common distance, so 1.5 or double spacing is
  typical, and only the extra space between paragraphs is a break), where the
  font size changes (headings), where a line is indented from the column's left
  edge and the next line is not (a first-line indent), and where a line ends so
  far short of the column's right edge that the next line's first word would
  have fitted on it, and the next line does not start in lower case (the line was
  ended, not wrapped).

Each paragraph becomes one line of the document's text (its lines joined by a
space, line-end hyphenation such as ``informa-`` / ``tion`` joined into one word,
runs of spaces from justified lines collapsed), and paragraphs are separated by a
blank line, so that segmentation (``qa.sentences``) never joins a heading to the
paragraph below it.

Running headers and footers are dropped where they can be recognised: a
paragraph at the top or bottom of a page whose text, digits aside, recurs on at
least half of the pages (of two or more), and one that is only a page number
("7", "Page 7", "7 of 12"). A paragraph that continues in the next column or on
the next page (it ends without a full stop, and the next column starts in lower
case or the paragraph is longer than a heading) is joined to it; its sentences
cite the page they start on.

pdfminer.six was chosen over pypdf (plain and layout mode) by measuring: on
the invariance benchmark's PDFs (``benchmarks/invariance.py``) it is the one
whose paragraphs are the source's paragraphs.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: PDFs whose page content streams inflate to more than this are not read (decompression bombs).
MAX_CONTENT_BYTES = 50_000_000
#: A paragraph whose top edge is within this share of the page height from the top (or bottom) edge.
MARGIN_SHARE = 0.12
#: A baseline distance over this many times the typical one is a paragraph break. Typeset lines of
#: one paragraph sit at one distance (to a percent or two); the space added between paragraphs is a
#: quarter line or more even at double spacing with 6 pt after.
GAP_RATIO = 1.15
#: Sizes (in ems of the font size) under which two positions count as the same: a line starting
#: this much right of the column's edge is indented, pieces of lines whose baselines are this close
#: are one line, a word fits in the room left on a line with this much to spare.
SAME_EM = 0.5
#: Lines whose font sizes differ by more than this share are set in different sizes (a heading and its text).
SIZE_CHANGE = 0.05
#: A strip of the page is a gutter where fewer lines cross it than this share of the lines that
#: cross the busiest places on either side of it ...
GUTTER_SHARE = 0.25
#: ... and at least this many lines lie wholly on each side of it.
GUTTER_LINES = 3
#: Gutters are looked for in strips of one point, or coarser on a page wider than this many points.
MAX_BINS = 5000
_PAGE_NUMBER = re.compile(r"(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?", re.IGNORECASE)
_HYPHENATED = re.compile(r"(?<=[^\W\d_])-\n(?=[^\W\d_])")
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass
class _Line:
    """A line of text (or a piece of one) on a page, in PDF points, y upwards."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float  # the median character size
    first_word: float  # the width of its first word


@dataclass
class _Box:
    """A paragraph on a page, with what decides whether it continues the one before (in the previous
    column or on the previous page)."""

    text: str
    top: float  # distance of the paragraph's top edge from the page's top, as a share of the page height
    bottom: float  # distance of its bottom edge from the page's bottom, as a share
    first: _Line
    last: _Line
    indented: bool  # its first line is indented (a paragraph's first line)
    right: float  # the right edge of its column (for its last line's font size)
    starts_column: bool  # the first paragraph of its column, which may continue the one before


def _reflow(raw: str) -> str:
    """One paragraph from its lines: hyphenation joined, line breaks and space runs as one space."""
    text = raw.strip()
    text = _HYPHENATED.sub(lambda m: "" if _lower_after(text, m.end()) else "-", text)
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def _lower_after(text: str, i: int) -> bool:
    return i < len(text) and text[i].islower()


def _line(element) -> _Line | None:
    """A ``_Line`` from a pdfminer ``LTTextLineHorizontal``; None when it holds no visible text."""
    from pdfminer.layout import LTChar

    chars = [c for c in element if isinstance(c, LTChar)]
    text = element.get_text().strip()
    if not text or not chars:
        return None
    visible = [c for c in chars if c.get_text().strip()] or chars
    first_word = 0.0
    start = None
    for c in element:
        blank = not isinstance(c, LTChar) or not c.get_text().strip()
        if blank and start is not None:
            break
        if not blank:
            start = c.x0 if start is None else start
            first_word = c.x1 - start
    return _Line(
        text=text,
        x0=min(c.x0 for c in visible),
        x1=max(c.x1 for c in visible),
        top=float(element.y1),
        bottom=float(element.y0),
        baseline=statistics.median(c.y0 for c in visible),
        size=round(statistics.median(c.size for c in visible), 1),
        first_word=first_word,
    )


def _page_lines(path: Path) -> list[tuple[float, list[_Line]]]:
    """Each page's height and its text lines (pieces of lines, as pdfminer.six cuts them at wide gaps)."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextBoxHorizontal, LTTextLineHorizontal

    pages = []
    for layout in extract_pages(path, laparams=LAParams(boxes_flow=None)):
        lines = []
        for box in layout:
            if isinstance(box, LTTextBoxHorizontal):
                lines += [line for e in box if isinstance(e, LTTextLineHorizontal) if (line := _line(e))]
        pages.append((max(float(layout.height), 1.0), lines))
    return pages


def _gutters(lines: list[_Line]) -> list[tuple[float, float]]:
    """The ``(x0, x1)`` strips between columns: few lines cross them, against many on either side,
    and ``GUTTER_LINES`` or more lie wholly on each side."""
    if not lines:
        return []
    left, right = min(ln.x0 for ln in lines), max(ln.x1 for ln in lines)
    step = max(1.0, (right - left) / MAX_BINS)  # points per bin: 1, unless a page is kilometres wide
    cover = [0] * (int((right - left) / step) + 2)
    for ln in lines:
        cover[int((ln.x0 - left) / step)] += 1
        cover[int((ln.x1 - left) / step)] -= 1
    for x in range(1, len(cover)):
        cover[x] += cover[x - 1]
    peak_left, peak_right = cover[:], cover[:]
    for x in range(1, len(cover)):
        peak_left[x] = max(peak_left[x - 1], cover[x])
        peak_right[-1 - x] = max(peak_right[-x], cover[-1 - x])
    low = [cover[x] < GUTTER_SHARE * min(peak_left[x], peak_right[x]) for x in range(len(cover))]
    gutters = []
    x = 0
    while x < len(low):
        if not low[x]:
            x += 1
            continue
        end = x
        while end + 1 < len(low) and low[end + 1]:
            end += 1
        x0, x1 = left + x * step, left + (end + 1) * step
        # the few lines that reach into the strip (a ragged column's longest) still lie on one side
        before = [ln.x1 for ln in lines if ln.x0 < x0 and ln.x1 < x1]
        after = [ln.x0 for ln in lines if ln.x0 > x0 and ln.x1 > x1]
        if len(before) >= GUTTER_LINES and len(after) >= GUTTER_LINES and max(before) < min(after):
            gutters.append((max(before), min(after)))
        x = end + 1
    return gutters


def _known_gutters(lines: list[_Line], known: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The gutters found on other pages that hold on this one (a last page with a short column):
    lines lie on both sides of it, and fewer than ``GUTTER_SHARE`` of them cross it."""
    held = []
    for g0, g1 in sorted(set(known)):
        crossing = sum(ln.x0 < g1 and ln.x1 > g0 for ln in lines)
        sides = any(ln.x1 <= g0 for ln in lines) and any(ln.x0 >= g1 for ln in lines)
        if sides and crossing < GUTTER_SHARE * len(lines) and all(h1 <= g0 for _, h1 in held):
            held.append((g0, g1))
    return held


def _joined(pieces: list[_Line]) -> list[_Line]:
    """The pieces of lines of one column, top to bottom, with the pieces on one baseline joined."""
    pieces = sorted(pieces, key=lambda ln: (-ln.baseline, ln.x0))
    lines: list[list[_Line]] = []
    for piece in pieces:
        last = lines[-1][-1] if lines else None
        if last is not None and abs(last.baseline - piece.baseline) < SAME_EM * min(last.size, piece.size):
            lines[-1].append(piece)
        else:
            lines.append([piece])
    out = []
    for group in lines:
        group.sort(key=lambda ln: ln.x0)
        first = group[0]
        out.append(
            _Line(
                text=" ".join(ln.text for ln in group),
                x0=first.x0,
                x1=max(ln.x1 for ln in group),
                top=max(ln.top for ln in group),
                bottom=min(ln.bottom for ln in group),
                baseline=first.baseline,
                size=max(ln.size for ln in group),
                first_word=first.first_word,
            )
        )
    return out


def _columns(lines: list[_Line], gutters: list[tuple[float, float]]) -> list[list[_Line]]:
    """The page's lines as runs in reading order: each column of each band (cut by the lines across
    a gutter) top to bottom, columns left to right; the lines across gutters are runs of their own."""
    if not gutters:
        return [_joined(lines)] if lines else []
    edges = [g[0] for g in gutters] + [float("inf")]
    across, columns = [], [[] for _ in edges]
    for ln in lines:
        column = next(i for i, edge in enumerate(edges) if ln.x1 <= edge + 1e-6)
        lo = gutters[column - 1][1] if column > 0 else float("-inf")
        (columns[column] if ln.x0 >= lo - 1e-6 else across).append(ln)
    across = _joined(across)
    bands: list[list[list[_Line]]] = [[[] for _ in edges] for _ in range(len(across) + 1)]
    for i, column in enumerate(columns):
        for ln in _joined(column):
            band = sum(a.baseline > ln.baseline for a in across)
            bands[band][i].append(ln)
    runs = []
    for band, cols in enumerate(bands):
        runs += [col for col in cols if col]
        if band < len(across):
            if runs and runs[-1] and runs[-1][-1] in across:
                runs[-1].append(across[band])
            else:
                runs.append([across[band]])
    return runs


def _typical_spacing(runs: list[list[_Line]]) -> dict[float, float]:
    """``{font size: the most common baseline distance between consecutive lines of that size}``."""
    seen: dict[float, Counter] = {}
    for run in runs:
        for a, b in zip(run, run[1:]):
            if a.size == b.size and a.baseline > b.baseline:
                seen.setdefault(a.size, Counter())[round(a.baseline - b.baseline, 1)] += 1
    return {size: counts.most_common(1)[0][0] for size, counts in seen.items()}


def _right_edges(runs: list[list[_Line]]) -> dict[tuple[int, float], float]:
    """``{(left edge, font size): right edge}`` of the document's columns, for a run too short to
    show its own: the most common right edge of the runs with that left edge and two or more lines
    of that size."""
    seen: dict[tuple[int, float], Counter] = {}
    for run in runs:
        left = round(min(ln.x0 for ln in run))
        for size, edge in _run_edges(run).items():
            if sum(ln.size == size for ln in run) >= 2:
                seen.setdefault((left, size), Counter())[round(edge, 1)] += 1
    return {key: counts.most_common(1)[0][0] for key, counts in seen.items()}


def _run_edges(run: list[_Line]) -> dict[float, float]:
    """``{font size: the right edge of the run's lines of that size}``."""
    edges: dict[float, float] = {}
    for ln in run:
        edges[ln.size] = max(edges.get(ln.size, ln.x1), ln.x1)
    return edges


def _edge(edges: dict[tuple[int, float], float], run: list[_Line], line: _Line) -> float:
    """The right edge of ``line``'s column: the run's own where it has two lines of that size or
    more, else the document's for that column, else the line's own end."""
    if sum(ln.size == line.size for ln in run) >= 2:
        return _run_edges(run)[line.size]
    return max(edges.get((round(min(ln.x0 for ln in run)), line.size), line.x1), line.x1)


def _ended(a: _Line, b: _Line, right: float) -> bool:
    """Was line ``a`` ended rather than wrapped before ``b``: ``b``'s first word would have fitted in
    the room left on ``a``, and ``b`` does not start in lower case?"""
    room = right - a.x1
    return room > b.first_word + SAME_EM * a.size and not a.text.endswith("-") and not b.text[:1].islower()


def _resized(a: _Line, b: _Line) -> bool:
    return abs(a.size - b.size) > SIZE_CHANGE * max(a.size, b.size)


def _indented(run: list[_Line], i: int, left: float) -> bool:
    """Is line ``i`` of ``run`` a first line, indented from the column's left edge while the line after
    it is not, and starting right of the line before it (when that is set in the same size)?"""
    b, same = run[i], SAME_EM * run[i].size
    before = run[i - 1] if i > 0 else None
    after = run[i + 1] if i + 1 < len(run) else None
    return (
        b.x0 > left + same
        and (after is None or after.x0 < b.x0 - same)
        and (before is None or _resized(before, b) or before.x0 < b.x0 - same / 2)
    )


def _breaks(run: list[_Line], typical: dict[float, float], leading: float, edges) -> list[bool]:
    """For each line after the first, whether a paragraph starts on it."""
    left = min(ln.x0 for ln in run)
    out = []
    for i in range(1, len(run)):
        a, b = run[i - 1], run[i]
        step = typical.get(a.size, leading * a.size)
        gap = a.baseline - b.baseline > GAP_RATIO * step or a.baseline <= b.baseline
        out.append(gap or _resized(a, b) or _indented(run, i, left) or _ended(a, b, _edge(edges, run, a)))
    return out


def _continues(before: _Box, box: _Box) -> bool:
    """Does ``box``, first in its column or on its page, go on with the paragraph ``before`` (cut by
    the column or page break)? When it is set in the same size, not indented, and the last line
    before was wrapped, not ended."""
    return not (_resized(before.last, box.first) or box.indented or _ended(before.last, box.first, before.right))


def _paragraph_boxes(path: Path) -> list[list[_Box]]:
    """Each page's paragraphs, in reading order."""
    page_lines = _page_lines(path)
    found = [_gutters(lines) for _, lines in page_lines]
    known = [g for gutters in found for g in gutters]
    pages = [
        (height, _columns(lines, gutters or _known_gutters(lines, known)))
        for (height, lines), gutters in zip(page_lines, found)
    ]
    runs = [run for _, page_runs in pages for run in page_runs]
    typical = _typical_spacing(runs)
    edges = _right_edges(runs)
    body = Counter(ln.size for run in runs for ln in run).most_common(1)
    leading = typical.get(body[0][0], 1.2 * body[0][0]) / body[0][0] if body and body[0][0] > 0 else 1.2
    out = []
    for height, page_runs in pages:
        boxes = []
        for run in page_runs:
            left = min(ln.x0 for ln in run)
            starts = [0] + [i + 1 for i, new in enumerate(_breaks(run, typical, leading, edges)) if new] + [len(run)]
            for k, (i, j) in enumerate(zip(starts, starts[1:])):
                group = run[i:j]
                text = _reflow("\n".join(ln.text for ln in group))
                if text:
                    top = (height - max(ln.top for ln in group)) / height
                    bottom = min(ln.bottom for ln in group) / height
                    indented = _indented(run, i, left)
                    right = _edge(edges, run, group[-1])
                    boxes.append(_Box(text, top, bottom, group[0], group[-1], indented, right, k == 0))
        out.append(boxes)
    return out


def _running(pages: list[list[_Box]]) -> set[str]:
    """Texts (digits as ``#``) of paragraphs in the page margins that recur on half the pages or more."""
    if len(pages) < 2:
        return set()
    seen = Counter()
    for boxes in pages:
        seen.update({_shape(b.text) for b in boxes if b.top < MARGIN_SHARE or b.bottom < MARGIN_SHARE})
    return {shape for shape, n in seen.items() if n >= max(2, len(pages) / 2)}


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _is_furniture(box: _Box, running: set[str]) -> bool:
    in_margin = box.top < MARGIN_SHARE or box.bottom < MARGIN_SHARE
    return in_margin and (_shape(box.text) in running or _PAGE_NUMBER.fullmatch(box.text) is not None)


def check_size(reader) -> None:
    """Refuse a PDF whose pages' content streams inflate past ``MAX_CONTENT_BYTES`` (a decompression
    bomb): pypdf inflates them within its own limits first, pdfminer.six would lay out every glyph.
    ``reader`` is a ``pypdf.PdfReader``; raises ``ValueError``."""
    total = 0
    for page in reader.pages:
        contents = page.get_contents()
        total += len(contents.get_data()) if contents is not None else 0
        if total > MAX_CONTENT_BYTES:
            raise ValueError(f"page content over {MAX_CONTENT_BYTES // 1_000_000} MB")


def pdf_text(path: Path) -> tuple[str, list[tuple[int, int]]]:
    """The reflowed text of the PDF at ``path`` and the ``(start, end)`` span of each page in it
    (check its size with ``check_size`` first)."""
    pages = _paragraph_boxes(path)
    running = _running(pages)
    text = ""
    spans: list[tuple[int, int]] = []
    before = None
    for boxes in pages:
        kept = [b for b in boxes if not _is_furniture(b, running)]
        page_start = len(text)
        for i, box in enumerate(kept):
            paragraph = box.text
            if (i == 0 or box.starts_column) and before is not None and _continues(before, box):
                if _HYPHENATED.search(text[-2:] + "\n" + paragraph[:1]) and paragraph[0].islower():
                    text = text[:-1]  # "informa-" | "tion": one word again
                    spans = [(s, min(e, len(text))) for s, e in spans]
                else:
                    text += " "
                page_start = len(text) if i == 0 else page_start
            elif text:
                text += "\n\n"
                page_start = len(text) if i == 0 else page_start
            text += paragraph
            before = box
        if not kept and text:
            page_start = len(text)
        spans.append((page_start, len(text)))
    return text, spans

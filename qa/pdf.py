"""The text of a PDF, reflowed into paragraphs, with the span of each page.

pdfminer.six's layout analysis groups a page's lines into text boxes, which are
paragraphs, headings or captions. Each box becomes one line of the document's
text (its wrapped lines joined by a space, line-end hyphenation such as
``informa-`` / ``tion`` joined into one word, runs of spaces from justified
lines collapsed), and boxes are separated by a blank line, so that segmentation
(``qa.sentences``) never joins a heading to the paragraph below it.

Running headers and footers are dropped where they can be recognised: a box at
the top or bottom of a page whose text, digits aside, recurs on at least half
of the pages (of two or more), and a box that is only a page number ("7",
"Page 7", "7 of 12"). A paragraph that continues on the next page (it ends
without a full stop, and the next page starts in lower case or it is longer
than a heading) is joined to it; its sentences cite the page they start on.

pdfminer.six was chosen over pypdf (plain and layout mode) by measuring: on
the invariance benchmark's PDFs (``benchmarks/invariance.py``) it is the one
whose paragraphs are the source's paragraphs.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: Characters this many character widths apart are still on one line (pdfminer's default, 2.0,
#: cuts the wide word gaps of justified lines into separate boxes).
CHAR_MARGIN = 20.0
#: PDFs whose page content streams inflate to more than this are not read (decompression bombs).
MAX_CONTENT_BYTES = 50_000_000
#: A paragraph longer than this that ends a page without a full stop goes on on the next page.
HEADING_MAX = 80
#: A box whose top edge is within this share of the page height from the top (or bottom) edge.
MARGIN_SHARE = 0.12
_PAGE_NUMBER = re.compile(r"(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?", re.IGNORECASE)
_HYPHENATED = re.compile(r"(?<=[^\W\d_])-\n(?=[^\W\d_])")
_SPACES = re.compile(r"[ \t\u00a0]+")
_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*$")


@dataclass
class _Box:
    text: str
    top: float  # distance of the box's top edge from the page's top, as a share of the page height
    bottom: float  # distance of its bottom edge from the page's bottom, as a share


def _reflow(raw: str) -> str:
    """One paragraph from a text box's lines: hyphenation joined, line breaks and space runs as one space."""
    text = raw.strip()
    text = _HYPHENATED.sub(lambda m: "" if _lower_after(text, m.end()) else "-", text)
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def _lower_after(text: str, i: int) -> bool:
    return i < len(text) and text[i].islower()


def _page_boxes(path: Path) -> list[list[_Box]]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextBox

    pages = []
    for layout in extract_pages(path, laparams=LAParams(char_margin=CHAR_MARGIN)):
        height = max(float(layout.height), 1.0)
        boxes = []
        for element in layout:
            if isinstance(element, LTTextBox):
                text = _reflow(element.get_text())
                if text:
                    boxes.append(_Box(text, (height - element.y1) / height, element.y0 / height))
        pages.append(boxes)
    return pages


def _running(pages: list[list[_Box]]) -> set[str]:
    """Texts (digits as ``#``) of boxes in the page margins that recur on half the pages or more."""
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


def _continues(text: str, paragraph: str) -> bool:
    """Does ``paragraph``, first on its page, continue the text so far (a paragraph cut by the page
    break)? When the text ends without a full stop, and the paragraph starts in lower case or the
    text's last paragraph is longer than a heading."""
    if not text or _SENTENCE_END.search(text):
        return False
    last = text[text.rfind("\n") + 1 :]
    return paragraph[0].islower() or len(last) > HEADING_MAX


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
    pages = _page_boxes(path)
    running = _running(pages)
    text = ""
    spans: list[tuple[int, int]] = []
    for boxes in pages:
        paragraphs = [b.text for b in boxes if not _is_furniture(b, running)]
        page_start = len(text)
        for i, paragraph in enumerate(paragraphs):
            continues = i == 0 and _continues(text, paragraph)
            if continues:
                text += " "
                page_start = len(text)
            elif text:
                text += "\n\n"
                page_start = len(text) if i == 0 else page_start
            text += paragraph
        if not paragraphs and text:
            page_start = len(text)
        spans.append((page_start, len(text)))
    return text, spans

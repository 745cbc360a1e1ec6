"""The text of an HTML page as its reader sees it: the article, with its structure as Markdown.

trafilatura finds the article and drops the page's boilerplate (navigation, sidebars, footers,
comments). Its rules also drop short blocks *inside* the article that a reader sees and may ask
about: bylines, datelines ("Press release, 14 September 2025"), "last updated" lines and image
captions, which it takes for page furniture (classes such as ``byline`` or ``meta``, ``<time>``,
``<figure>``). So the article's extent is taken from trafilatura, from its first block (or the
page's main ``<h1>`` just before it) to its last, and every visible block of the page in that
extent is kept: trafilatura's blocks as it shaped them, the others as plain paragraphs, except
those mostly made of links (share bars, "read more" lists) or inside navigation, asides, footers
and form controls. When trafilatura finds no article, the page's visible text is read, filtered the same
way.

The result is Markdown-shaped: headings as ``## …`` (they title the sections
under them: ``qa.sections``), list items as ``- …``, table rows as ``| … |``, blocks apart by a
blank line. It is the stored text that citation offsets index into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Elements whose text a reader does not see, or sees as page furniture, never article text.
_NOT_TEXT = frozenset(
    "head script style noscript template svg math iframe object embed canvas button select option "
    "textarea input label nav aside footer dialog menu".split()
)
#: ARIA roles of page furniture.
_FURNITURE_ROLES = frozenset("navigation banner contentinfo complementary search dialog alert menu menubar".split())
#: Elements that make a block of text of their own (the rest are inline).
_BLOCKS = frozenset(
    "address article blockquote body caption dd details div dl dt figcaption figure h1 h2 h3 h4 h5 h6 header "
    "hgroup li main ol p pre section summary table tbody td tfoot th thead tr ul br hr".split()
)
_HEADING = re.compile(r"h([1-6])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
#: How many blocks before the article's first one its title (an ``<h1>``) may be.
_TITLE_LOOKBACK = 5
#: A block whose link text is more than this share of its text is navigation, not prose.
MAX_LINK_SHARE = 0.5


@dataclass
class Block:
    """One visible block of the page: the tag of the element that holds it, its text (single
    spaces) and how many of its characters are link text."""

    tag: str
    text: str
    link_chars: int = 0

    @property
    def link_share(self) -> float:
        return self.link_chars / max(len(self.text), 1)

    def markdown(self) -> str:
        heading = _HEADING.fullmatch(self.tag)
        if heading:
            return "#" * int(heading.group(1)) + " " + self.text
        return f"- {self.text}" if self.tag == "li" else self.text


def page_text(html: str) -> str:
    """The article text of ``html`` (see the module docstring)."""
    import trafilatura

    extracted = trafilatura.extract(
        html, output_format="xml", include_comments=False, include_tables=True, favor_recall=True
    )
    article = extracted_blocks(extracted)
    page = visible_blocks(html)
    if page is None:  # not parseable as HTML: what trafilatura made of it
        return "\n\n".join(markdown for markdown, _ in article)
    return "\n\n".join(_merge(article, page))


def _merge(article: list[tuple[str, str]], page: list[Block]) -> list[str]:
    """trafilatura's blocks (``(markdown, plain text)``) with the visible blocks of ``page`` that
    lie between the first and last of them and that trafilatura dropped."""
    stream, owner = _canonical_stream(page)
    starts: dict[int, list[str]] = {}  # page block where an article block starts -> its markdown
    covered: set[int] = set()
    first = last = previous = None
    pos = 0
    pending: list[str] = []  # article blocks before any found in the page
    for markdown, plain in article:
        probe = _canonical(plain)
        at = stream.find(probe, pos) if probe else -1
        if at < 0:  # not found (in order) in the page: it follows the article block before it
            (starts[previous] if previous is not None else pending).append(markdown)
            continue
        pos = at + len(probe)
        blocks = sorted({owner[i] for i in range(at, pos)})
        covered.update(blocks)
        previous = blocks[0]
        starts.setdefault(previous, []).append(markdown)
        first = previous if first is None else first
        last = blocks[-1]
    if first is None:  # none of it found in the page: the page's own visible text instead, if any
        if not page:
            return [markdown for markdown, _ in article]
        first, last, pending = 0, len(page) - 1, []
    elif not article[0][0].startswith("#"):  # the article has no title of its own
        first = _title_before(page, first)
    out = list(pending)
    for i in range(first, last + 1):
        if i in starts:
            out.extend(starts[i])
        elif i not in covered and page[i].link_share <= MAX_LINK_SHARE:
            out.append(page[i].markdown())
    return [b for b in out if b.strip()]


def _title_before(page: list[Block], first: int) -> int:
    """Where an article without a heading starts: at its first block, or at the page's last
    ``<h1>`` before it when that is close (the title, then a byline, dateline or lead caption)."""
    for i in range(first - 1, max(first - 1 - _TITLE_LOOKBACK, -1), -1):
        if page[i].tag == "h1":
            return i
    return first


_SPACE = re.compile(r"\s+")


def _canonical(text: str) -> str:
    """Text compared without case and white space (extractors space inline elements differently)."""
    return _SPACE.sub("", text).casefold()


def _canonical_stream(page: list[Block]) -> tuple[str, list[int]]:
    """The page's blocks as one canonical string, and the block each of its characters is from."""
    parts: list[str] = []
    owner: list[int] = []
    for i, block in enumerate(page):
        c = _canonical(block.text)
        parts.append(c)
        owner.extend([i] * len(c))
    return "".join(parts), owner


def extracted_blocks(xml: str | None) -> list[tuple[str, str]]:
    """trafilatura's XML output as blocks: ``(markdown, plain text)`` each."""
    if not xml:
        return []
    from lxml import etree

    try:
        root = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return []
    main = root.find("main")
    blocks: list[tuple[str, str]] = []

    def plain(element) -> str:
        return " ".join("".join(element.itertext()).split())

    def add(element) -> None:
        tag = element.tag
        if tag == "div":  # a wrapper (favor_recall output): its children are the blocks
            if element.text and element.text.strip():
                blocks.append((" ".join(element.text.split()), " ".join(element.text.split())))
            for child in element:
                add(child)
                if child.tail and child.tail.strip():
                    tail = " ".join(child.tail.split())
                    blocks.append((tail, tail))
            return
        text = plain(element)
        if tag == "head":
            level = (element.get("rend") or "h2").lstrip("h")
            if text:
                n = int(level) if level.isdigit() and 1 <= int(level) <= 6 else 2
                blocks.append(("#" * n + " " + text, text))
        elif tag == "list":
            items = [plain(item) for item in element.iter("item")]
            blocks.append(("\n".join(f"- {item}" for item in items if item), " ".join(items)))
        elif tag == "table":
            rows = [[plain(cell) for cell in row.iter("cell")] for row in element.iter("row")]
            shaped = "\n".join("| " + " | ".join(cells) + " |" for cells in rows if any(cells))
            blocks.append((shaped, " ".join(" ".join(cells) for cells in rows)))
        elif text:
            blocks.append((text, text))

    for element in main if main is not None else []:
        add(element)
    return [(markdown, text) for markdown, text in blocks if markdown.strip()]


def visible_blocks(html: str) -> list[Block] | None:
    """The page's visible blocks of text in document order (None when it cannot be parsed)."""
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(html.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError):
        return None
    blocks: list[Block] = []
    current: list[str] = []
    links = [0]
    tags = ["body"]

    def flush() -> None:
        joined = " ".join("".join(current).split())
        if joined:
            blocks.append(Block(tags[-1], joined, min(links[0], len(joined))))
        current.clear()
        links[0] = 0

    def text(value: str | None, in_link: bool) -> None:
        if value:
            current.append(value)
            if in_link:
                links[0] += len(" ".join(value.split()))

    # an explicit stack, not recursion: a page may nest elements deeper than Python recurses
    # ("open", element, in_link) enters an element; ("close", element, in_link) leaves it and reads its tail
    body = root.find("body")
    stack: list[tuple[str, object, bool]] = [("open", body if body is not None else root, False)]
    while stack:
        step, element, in_link = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""
        if step == "close":
            if tag in _BLOCKS:
                flush()
                tags.pop()
            text(element.tail, in_link)
            continue
        if not tag or _furniture(element, tag):
            text(element.tail, in_link)  # the tail is the parent's text
            continue
        if tag in _BLOCKS:
            flush()
            tags.append(tag)
        inner = in_link or tag == "a"
        text(element.text, inner)
        stack.append(("close", element, in_link))
        stack.extend(("open", child, inner) for child in reversed(element))

    flush()
    return blocks


def _furniture(element, tag: str) -> bool:
    """Whether ``element`` holds no article text: not text at all, hidden, or page furniture."""
    if tag in _NOT_TEXT:
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    if (element.get("role") or "").lower() in _FURNITURE_ROLES:
        return True
    return bool(_HIDDEN_STYLE.search(element.get("style") or ""))

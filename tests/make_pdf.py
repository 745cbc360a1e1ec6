"""Write tiny multi-page PDFs with real text (for reader tests; no PDF-writing library needed).

``write_pdf`` draws the lines it is given; ``write_paragraphs`` sets paragraphs as a word processor
does: wrapped by the width of Helvetica's glyphs, justified or ragged, at a chosen line spacing, with
a gap after each paragraph or an indented first line, in one or more columns, page after page.
"""

from __future__ import annotations

from pathlib import Path

from pdfminer.fontmetrics import FONT_METRICS

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
MARGIN = 72
_HELVETICA_WIDTHS = FONT_METRICS["Helvetica"][1]


def write_pdf(
    path: Path,
    pages: list[list[str]],
    title: str | None = None,
    header: str | None = None,
    footer: str | None = None,
) -> None:
    """Each page is a list of text lines, drawn in Helvetica ("" leaves a line empty: a paragraph gap).
    ``header`` is drawn at the top of every page, ``footer`` at the bottom, with ``{page}`` the page number."""
    streams = []
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        streams.append(ops + _furniture(header, footer, i + 1))
    _write(path, streams, title)


def write_paragraphs(
    path: Path,
    paragraphs: list[str],
    *,
    size: float = 12,
    leading: float = 14,
    gap: float = 8,
    indent: float = 0,
    columns: int = 1,
    gutter: float = 18,
    justify: bool = True,
    header: str | None = None,
    footer: str | None = None,
) -> None:
    """Set ``paragraphs`` in Helvetica ``size`` pt, baselines ``leading`` pt apart, ``gap`` pt more
    after each paragraph, first lines indented by ``indent`` pt, in ``columns`` columns ``gutter`` pt
    apart, justified (every line but a paragraph's last reaches the right edge) or ragged right.
    A paragraph starting with ``# `` is a heading, set half as large again. ``header`` and
    ``footer`` as in ``write_pdf``."""
    width = (PAGE_WIDTH - 2 * MARGIN - gutter * (columns - 1)) / columns
    top, bottom = PAGE_HEIGHT - MARGIN, MARGIN
    streams: list[list[str]] = [[]]
    column, y = 0, top
    for paragraph in paragraphs:
        heading = paragraph.startswith("# ")
        font, step = (size * 1.5, leading * 1.5) if heading else (size, leading)
        text = paragraph[2:] if heading else paragraph
        first_indent = 0 if heading else indent
        lines = _wrap(text, font, width, first_indent)
        for k, (line, spaces, used) in enumerate(lines):
            if y < bottom:
                column, y = column + 1, top
                if column == columns:
                    streams.append([])
                    column = 0
            x = MARGIN + column * (width + gutter) + (first_indent if k == 0 else 0)
            last = k == len(lines) - 1
            room = width - (first_indent if k == 0 else 0) - used
            word_space = room / spaces if justify and spaces and not last else 0
            streams[-1] += ["BT", f"/F1 {font:g} Tf", f"{word_space:.3f} Tw", f"{x:.2f} {y:.2f} Td",
                            f"({_escape(line)}) Tj", "ET"]
            y -= step
        y -= gap
    streams = [ops + _furniture(header, footer, i + 1) for i, ops in enumerate(streams)]
    _write(path, streams, None)


def _wrap(text: str, size: float, width: float, indent: float) -> list[tuple[str, int, float]]:
    """Greedy wrapping by glyph widths: ``(line, number of spaces, width used)`` for each line."""
    lines: list[tuple[str, int, float]] = []
    words: list[str] = []
    room = width - indent
    for word in text.split():
        trial = " ".join([*words, word])
        if words and _width(trial, size) > room:
            line = " ".join(words)
            lines.append((line, len(words) - 1, _width(line, size)))
            words, room = [word], width
        else:
            words.append(word)
    line = " ".join(words)
    lines.append((line, len(words) - 1, _width(line, size)))
    return lines


def _width(text: str, size: float) -> float:
    return sum(_HELVETICA_WIDTHS.get(c, 556) for c in text) * size / 1000


def _furniture(header: str | None, footer: str | None, page: int) -> list[str]:
    ops = []
    for y, furniture in ((760, header), (40, footer)):
        if furniture:
            ops += ["BT", "/F1 9 Tf", f"72 {y} Td", f"({_escape(furniture.format(page=page))}) Tj", "ET"]
    return ops


def _write(path: Path, streams: list[list[str]], title: str | None) -> None:
    objects: list[bytes] = []
    n_pages = len(streams)
    # 1: catalog, 2: pages, 3: font, then per page: page object + content stream, then info
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, ops in enumerate(streams):
        content_id = 5 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>".encode()
        )
        stream = "\n".join(ops).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info_ref = ""
    if title:
        objects.append(f"<< /Title ({title}) >>".encode("latin-1"))
        info_ref = f" /Info {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info_ref} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

"""PDFs of any layout read back as their paragraphs: single, 1.5 and double line spacing, two
columns, indented first lines without a gap, justified or ragged, with a running header and
page-number footer (written by ``tests/make_pdf.py``)."""

from __future__ import annotations

import pytest
from make_pdf import write_paragraphs

from qa.pdf import pdf_text
from qa.sentences import split_sentences

PARAGRAPHS = [
    "# Harbour works",
    "The harbour reopened on Monday after three weeks of repairs to the northern pier, which a storm "
    "had damaged in the first days of March. Engineers from the port authority replaced forty metres "
    "of the deck and the railings along it, and divers checked the piles below the waterline.",
    "Officials said that 42 ships were waiting to dock when the gates opened in the morning. Most of "
    "them carried grain and timber, and a few had been waiting at anchor for more than a week. The "
    "first to berth was a cargo ship from Gdansk, loaded with steel beams for the new bridge.",
    "The repairs cost about 2.4 million euros, a third less than the first estimate. The mayor, Anna "
    "Lindqvist, thanked the workers, who had worked in two shifts through the nights, and said that "
    "the city would ask the regional government to pay half of the bill.",
    "# The bridge",
    "Work on the bridge over the estuary began two years ago and is expected to end next spring. It "
    "will carry two lanes of traffic and a railway line, and it will shorten the journey between "
    "the two halves of the town from forty minutes to five. Its central span, of 310 metres, was "
    "lifted into place in a single night in October, watched by several thousand people.",
    "Critics of the project say that it has cost too much and that the money should have gone to "
    "the schools. Supporters answer that the bridge will bring new firms to the eastern districts, "
    "where one in five adults has no work, and that the schools have their own budget.",
    "The contractor, a consortium of three firms, has promised to finish on time. A delay would cost "
    "it a penalty of 50,000 euros for each week, written into the contract that was signed in Oslo "
    "in the presence of both ministers of transport.",
]
#: Twice over, so that every layout runs over several pages (and columns).
TEXT = [p for _ in range(2) for p in PARAGRAPHS]
LAYOUTS = {
    "single": {"leading": 14, "gap": 8},
    "1.5 spacing": {"leading": 21, "gap": 8},
    "double": {"leading": 28, "gap": 8},
    "double, ragged": {"leading": 28, "gap": 8, "justify": False},
    "two columns": {"leading": 14, "gap": 8, "columns": 2},
    "two columns, 1.5 spacing, ragged": {"leading": 21, "gap": 6, "columns": 2, "justify": False},
    "indented first lines, no gap": {"leading": 21, "gap": 0, "indent": 24},
    "indented, single, no gap": {"leading": 14, "gap": 0, "indent": 18},
}


def expected(paragraphs: list[str]) -> list[str]:
    return [p.removeprefix("# ") for p in paragraphs]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_paragraphs_come_back_in_any_layout(tmp_path, layout):
    path = tmp_path / "report.pdf"
    write_paragraphs(path, TEXT, header="Port of Ystad - annual report", footer="Page {page}", **LAYOUTS[layout])
    text, pages = pdf_text(path)
    assert len(pages) >= 2
    assert text.split("\n\n") == expected(TEXT)
    assert "annual report" not in text and "Page " not in text
    for start, end in pages:
        assert text[start:end] == text[start:end].strip() and end <= len(text)


@pytest.mark.parametrize("layout", ["single", "double", "two columns"])
def test_sentences_are_the_source_sentences(tmp_path, layout):
    path = tmp_path / "report.pdf"
    write_paragraphs(path, TEXT, header="Port of Ystad - annual report", footer="{page}", **LAYOUTS[layout])
    text, _ = pdf_text(path)
    source = "\n\n".join(expected(TEXT))
    assert [text[s:e] for s, e in split_sentences(text)] == [source[s:e] for s, e in split_sentences(source)]


def test_pages_cover_the_text_in_order(tmp_path):
    path = tmp_path / "report.pdf"
    write_paragraphs(path, TEXT, leading=28, footer="Page {page}")
    text, pages = pdf_text(path)
    assert pages[0][0] == 0 and pages[-1][1] == len(text)
    for (_, end), (start, _) in zip(pages, pages[1:]):
        assert end <= start and not text[end:start].strip()


def test_a_paragraph_cut_by_the_page_end_is_joined_with_its_hyphenation(tmp_path):
    # a hand-set page break inside a word: "informa-" at the foot of page 1, "tion" at the top of page 2
    from make_pdf import write_pdf

    first = ["The index keeps, for each document, the text that was read and the informa-"]
    second = ["tion needed to cite it, down to the page and the line."]
    write_pdf(tmp_path / "cut.pdf", [first, second], header="Manual", footer="Page {page}")
    text, pages = pdf_text(tmp_path / "cut.pdf")
    assert text == (
        "The index keeps, for each document, the text that was read and the information needed to cite it, "
        "down to the page and the line."
    )
    assert pages[0] == (0, text.index("information") + len("informa"))


def test_an_empty_page_keeps_its_place(tmp_path):
    from make_pdf import write_pdf

    first = ["The first page holds one paragraph, set in lines of", "different lengths, ending here."]
    third = ["The third page starts another, after a page", "left empty."]
    write_pdf(tmp_path / "gap.pdf", [first, [], third], footer="Page {page}")
    text, pages = pdf_text(tmp_path / "gap.pdf")
    assert text.split("\n\n") == [" ".join(first), " ".join(third)]
    assert [text[s:e] for s, e in pages] == [" ".join(first), "", " ".join(third)]


def test_odd_geometry_is_read_without_error(tmp_path):
    # text drawn twice at one place, in a zero-size font, far off the page, and upside down
    from make_pdf import _write

    ops = [
        "BT /F1 12 Tf 72 700 Td (Drawn twice at one place.) Tj ET",
        "BT /F1 12 Tf 72 700 Td (Drawn twice at one place.) Tj ET",
        "BT /F1 0 Tf 72 650 Td (A zero-size font.) Tj ET",
        "BT /F1 12 Tf 90000000 600 Td (Far off the page.) Tj ET",
        "BT /F1 12 Tf -1 0 0 -1 300 500 Tm (Upside down.) Tj ET",
        "BT /F1 12 Tf 72 400 Td (A last line.) Tj ET",
    ]
    _write(tmp_path / "odd.pdf", [ops, ops[-1:]], None)
    text, pages = pdf_text(tmp_path / "odd.pdf")
    assert "A last line." in text and len(pages) == 2
    assert all(0 <= s <= e <= len(text) for s, e in pages)

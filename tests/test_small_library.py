"""A user's small library, end to end: a company's press release (HTML), its docs page and blog
post, and a plain-text history. Indexed once for the module with the real models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HTML_PAGES = Path(__file__).resolve().parent / "data" / "html"
README = Path(__file__).resolve().parent / "data" / "markdown" / "README.md"
#: A volunteer's notes saved by Windows Notepad as "Unicode" (UTF-16 with a byte-order mark, CRLF).
NOTES = (
    "Volunteer notes\r\n\r\n"
    "The booking office at St Elwyn was rebuilt in 2004 by the carpenter Jory Pengelly.\r\n"
    "Its clock came from the closed station at Tregarrow Halt.\r\n"
)
#: A letter written in Windows-1252 (curly quotes, a pound sign, accents).
LETTER = (
    "Dear members,\r\n\r\n"
    "The café at Porthcurnow now sells “Zephyr” scones for £2.\r\n"
    "Our new treasurer is Zoé Hendra, who takes over from Jack Nance in May.\r\n"
)
HISTORY = """Brightwater Marine: a short history

Brightwater Marine was founded in 1987 by the engineer Eileen Cassidy.
The first Brightwater garage was in Dunmore, where Cassidy repaired outboard engines for local fishermen.
In 1996 the company moved to a larger workshop in Kilrush and began to build its own echo sounders.
"""
TIMELINE = """Brightwater timeline

1987: Eileen Cassidy opens the first Brightwater garage in Dunmore.
2025: the Osprey side-scan sonar is launched.
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    from qa import Assistant
    from qa.indexing import index_paths

    root = tmp_path_factory.mktemp("library")
    docs = root / "docs"
    shutil.copytree(HTML_PAGES, docs / "company")
    (docs / "history.txt").write_text(HISTORY, encoding="utf-8")
    (docs / "timeline.txt").write_text(TIMELINE, encoding="utf-8")
    index_paths([docs], root / "index", warn=lambda m: None)
    with Assistant.open(root / "index") as assistant:
        yield assistant


def test_the_press_release_dateline_and_a_caption_answer_questions(library):
    r = library.ask("What is the date of the Osprey press release?")
    assert r.answer is not None and r.answer.text == "14 September 2025"
    assert r.answer.doc == "company/newsroom.html"
    assert library.store.text(r.answer.doc)[r.answer.start : r.answer.end] == r.answer.text
    r = library.ask("Who photographed the Naomh Fionán?")
    assert r.answer is not None and r.answer.text == "Aoife Walsh"
    r = library.ask("When was Osprey announced?")
    assert "Press release, 14 September 2025" in [c.text for c in r.citations]
    for c in r.citations:
        assert library.store.text(c.doc)[c.start : c.end] == c.text  # citations exact in the stored text


def test_a_citation_does_not_repeat_the_title_as_its_section(library):
    r = library.ask("What is the date of the Osprey press release?")
    assert r.answer.citation.label() == "Brightwater launches the Osprey sonar (company/newsroom.html), line 3"


def test_a_source_that_only_mentions_the_answer_does_not_support_it(library):
    r = library.ask("Where was the first Brightwater garage?", top_k=10)
    assert r.answer is not None and r.answer.text == "Dunmore"
    cited = {c.doc for c in r.citations}
    assert "company/newsroom.html" in cited  # "built at the Dunmore factory": cited, but no second source
    supporting = [c.doc for c in r.corroboration[0].citations]
    assert sorted(supporting) == ["history.txt", "timeline.txt"]


@pytest.fixture(scope="module")
def railway(tmp_path_factory):
    """A railway society's folder: a Markdown README (headings, a table, emphasis, links), notes in UTF-16
    and a letter in Windows-1252."""
    import codecs

    from qa import Assistant
    from qa.indexing import index_paths

    root = tmp_path_factory.mktemp("railway")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(README, docs / "README.md")
    (docs / "notes.txt").write_bytes(codecs.BOM_UTF16_LE + NOTES.encode("utf-16-le"))
    (docs / "letter.txt").write_bytes(LETTER.encode("cp1252"))
    warnings: list[str] = []
    index_paths([docs], root / "index", warn=warnings.append)
    with Assistant.open(root / "index") as assistant:
        yield assistant, docs, warnings


def assert_exact(assistant, docs, result):
    """The answer and every citation reproduce their text from the file, decoded as it was read."""
    from qa.documents import _decode

    def source(doc: str) -> str:
        return _decode((docs / doc).read_bytes())[0]

    assert result.answer is not None
    for c in [result.answer, *result.citations]:
        assert source(c.doc)[c.start : c.end] == c.text == assistant.store.text(c.doc)[c.start : c.end]


def test_a_table_row_answers_with_its_cell_and_is_cited_whole(railway):
    assistant, docs, _ = railway
    r = assistant.ask("When did Tregarrow Halt open?")
    assert r.answer is not None and r.answer.text == "1902"
    assert r.answer.citation.text == "| Tregarrow Halt | 1902 | 1963 |"
    assert r.answer.citation.label() == "README.md › Stations, line 12"
    assert_exact(assistant, docs, r)


def test_answers_carry_no_markup(railway):
    assistant, docs, _ = railway
    r = assistant.ask("What is the oldest locomotive on the line?")
    assert r.answer is not None and r.answer.text == "Gwenhwyfar"
    assert r.answer.citation.text.startswith("The oldest locomotive on the line is **Gwenhwyfar**")
    assert_exact(assistant, docs, r)
    r = assistant.ask("Who led the restoration of the railway?")
    assert r.answer is not None and r.answer.text == "Morwenna Trelease"
    assert_exact(assistant, docs, r)


def test_headings_are_sections_not_citations(railway):
    assistant, docs, _ = railway
    r = assistant.ask("What stations does the Zephyr Coast Railway have?", top_k=10)
    assert r.citations and not [c for c in r.citations if c.text.lstrip().startswith("#")]


def test_utf16_and_windows_1252_files_answer_with_exact_citations(railway):
    assistant, docs, warnings = railway
    assert warnings == []  # neither is skipped
    r = assistant.ask("Who rebuilt the booking office at St Elwyn?")
    assert r.answer is not None and r.answer.text.endswith("Jory Pengelly") and r.answer.doc == "notes.txt"
    assert_exact(assistant, docs, r)
    r = assistant.ask("Who is the new treasurer?")
    assert r.answer is not None and r.answer.text == "Zoé Hendra" and r.answer.doc == "letter.txt"
    assert_exact(assistant, docs, r)

"""Markdown sentences as read (issue 31): without markup, table rows with their column names, and every
character read mapped back to the exact source characters it comes from."""

from __future__ import annotations

from conftest import DATA

from qa.markup import MarkupView, ReadText
from qa.sentences import split_sentences

README = (DATA / "markdown" / "README.md").read_text(encoding="utf-8")


def sentences_as_read(text: str, format: str = "markdown") -> dict[str, str]:
    view = MarkupView(text, format)
    return {text[s:e]: view.read(s, e).text for s, e in split_sentences(text, format)}


def test_a_readme_is_read_without_its_markup_and_its_rows_with_their_column_names():
    read = sentences_as_read(README)
    assert read["| Tregarrow Halt | 1902 | 1963 |"] == "Station: Tregarrow Halt; Opened: 1902; Closed: 1963"
    assert (
        read["The oldest locomotive on the line is **Gwenhwyfar**, a saddle tank built by Hunslet in 1896."]
        == "The oldest locomotive on the line is Gwenhwyfar, a saddle tank built by Hunslet in 1896."
    )
    assert (
        read["In winter the trains are hauled by a `Class 08` diesel shunter named _Kernow_."]
        == "In winter the trains are hauled by a Class 08 diesel shunter named Kernow."
    )
    assert read["Timetables are published on the [Zephyr Coast website](https://zephyr.example/timetables)."] == (
        "Timetables are published on the Zephyr Coast website."
    )
    assert read[
        "It reopened in 1998 after a restoration led by *Morwenna Trelease*, a retired\nsignal engineer."
    ] == "It reopened in 1998 after a restoration led by Morwenna Trelease, a retired\nsignal engineer."
    # a list item's marker is markup too
    assert read["The [volunteer guide](docs/volunteers.md) explains how to join \\*and\\* what to bring."] == (
        "The volunteer guide explains how to join *and* what to bring."
    )


def test_headings_and_header_rows_are_not_sentences():
    found = sentences_as_read(README)
    assert not [s for s in found if s.startswith("#")]
    assert "| Station | Opened | Closed |" not in found
    assert len([s for s in found if s.startswith("|")]) == 3


def test_every_character_read_comes_from_the_source_characters_it_names():
    view = MarkupView(README, "markdown")
    for s, e in split_sentences(README, "markdown"):
        read = view.read(s, e)
        for i, ch in enumerate(read.text):
            span = read.source_span(i, i + 1, one_cell=False)
            if span is None:
                assert read.is_row  # a column name or separator
                continue
            a, b = span
            assert s <= s + a < s + b <= e
            source = README[s + a : s + b]
            assert source == ch or source in ("\\*",), (ch, source)


def span_of(read: ReadText, sentence_start: int, words: str) -> str:
    i = read.text.index(words)
    a, b = read.source_span(i, i + len(words))
    return README[sentence_start + a : sentence_start + b]


def test_a_span_read_maps_back_to_source_characters_without_markup_and_inside_one_cell():
    view = MarkupView(README, "markdown")
    row = README.index("| Tregarrow Halt")
    read = view.read(row, README.index("\n", row))
    assert span_of(read, row, "1902") == "1902"
    assert span_of(read, row, "Opened: 1902;") == "1902"  # the column's name is not in the source
    assert span_of(read, row, "Tregarrow Halt; Opened") == "Tregarrow Halt"  # one cell: the one most of it is in
    assert span_of(read, row, "Halt; Opened: 1902") == "1902"
    assert span_of(read, row, "Opened") == "1902"  # the column's name alone: its cell
    line = README.index("The oldest")
    read = view.read(line, README.index("\n", line))
    assert span_of(read, line, "Gwenhwyfar") == "Gwenhwyfar"
    assert span_of(read, line, "is Gwenhwyfar, a") == "is **Gwenhwyfar**, a"  # inner markup stays: the source


def test_plain_text_and_markdown_without_markup_read_as_they_are():
    text = "The line reopened in 1998.\n\n| not | a table in plain text |\n"
    assert sentences_as_read(text, "text") == {s: s for s in sentences_as_read(text, "text")}
    assert MarkupView("Plain prose, no markup.", "markdown").read(0, 23) == ReadText.verbatim("Plain prose, no markup.")

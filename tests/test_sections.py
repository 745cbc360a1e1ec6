"""Markdown and HTML headings give the sentences under them a section title, which citations show
and retrieval embeds (issue 16)."""

from __future__ import annotations

from helpers_robust import run_qa

from qa.documents import read_documents
from qa.sections import headings, section_at, sentence_title

README = """\
# Tool

Tool answers questions about files.

## Installation

Run the installer from the command line; it
takes about a minute on a laptop.

## Usage

Call the tool with a file name.
"""


def test_headings_and_the_section_of_an_offset():
    heads = headings(README, "markdown")
    assert [title for _, title in heads] == ["Tool", "Installation", "Usage"]
    assert section_at(heads, README.index("Run the installer")) == "Installation"
    assert section_at(heads, README.index("Call the tool")) == "Usage"
    assert headings(README, "text") == []  # plain text has no markup
    assert sentence_title("Tool README", "Usage") == "Tool README › Usage"
    assert sentence_title(None, None) is None


def test_html_headings_become_sections(tmp_path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>Tool</title></head><body><article><h2>Installation</h2>"
        "<p>Run the <b>installer</b> from the command line, which takes a minute or so.</p>"
        "<ul><li>first step</li><li>second step</li></ul></article></body></html>",
        encoding="utf-8",
    )
    (doc,) = list(read_documents([tmp_path]))
    assert "## Installation" in doc.text and "**" not in doc.text and "- first step" in doc.text
    heads = headings(doc.text, doc.format)
    assert section_at(heads, doc.text.index("Run the installer")) == "Installation"


def test_citations_show_the_section(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "README.md").write_text(README, encoding="utf-8")
    index = tmp_path / "idx"
    assert run_qa("index", str(docs), "--index", str(index), "-q").returncode == 0
    proc = run_qa("ask", "How long does the installer take on a laptop?", "--index", str(index))
    assert proc.returncode == 0, proc.stderr
    assert "README.md › Installation, line 7" in proc.stdout
    # the wrapped sentence is one citation, its line break included
    assert "Run the installer from the command line; it\n     takes about a minute on a laptop." in proc.stdout


def test_a_section_that_repeats_the_title_is_not_shown_twice():
    from qa.results import Citation

    def label(title, section):
        return Citation("news/osprey.html", 0, 5, "Text.", 1.0, 3, title=title, section=section).label()

    same = label("Brightwater launches the Osprey sonar", "Brightwater launches the  osprey sonar")
    assert same == "Brightwater launches the Osprey sonar (news/osprey.html), line 3"
    other = label("Brightwater launches the Osprey sonar", "Availability")
    assert other == "Brightwater launches the Osprey sonar (news/osprey.html) › Availability, line 3"
    assert label(None, "Availability") == "news/osprey.html › Availability, line 3"


def test_a_heading_titles_its_section_without_its_markup():
    text = "# The *Zephyr* `Coast` line\n\nA heritage line.\n\n## **Stations**\n\nThree stations.\n"
    assert [title for _, title in headings(text, "markdown")] == ["The Zephyr Coast line", "Stations"]

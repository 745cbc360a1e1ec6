"""A user's small library, end to end: a company's press release (HTML), its docs page and blog
post, and a plain-text history. Indexed once for the module with the real models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HTML_PAGES = Path(__file__).resolve().parent / "data" / "html"
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

"""Reading documents: formats, ids, offsets, and bad files skipped with a warning."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from make_pdf import write_pdf

from qa.documents import ReadReport, read_documents


def read_all(*paths):
    warnings: list[str] = []
    report = ReadReport()
    docs = list(read_documents(paths, warn=warnings.append, report=report))
    return docs, warnings, report


def test_folder_ids_are_relative_posix_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text("Deep text.", encoding="utf-8")
    (tmp_path / "top.md").write_text("# Title\n\nSome *markdown*.", encoding="utf-8")
    docs, warnings, _ = read_all(tmp_path)
    assert sorted(d.id for d in docs) == ["a/b/deep.txt", "top.md"]
    assert warnings == []


def test_single_file_id_is_its_name(tmp_path):
    f = tmp_path / "note.txt"
    f.write_text("Hello.\r\nWorld.\n", encoding="utf-8")
    (doc,) = read_all(f)[0]
    assert doc.id == "note.txt"
    assert doc.text == "Hello.\r\nWorld.\n"  # newlines untouched


def test_text_is_exactly_the_decoded_file(tmp_path):
    raw = "Zürich — “quoted” text\n\nand more.\n"
    (tmp_path / "x.txt").write_bytes(raw.encode("utf-8"))
    (doc,) = read_all(tmp_path)[0]
    assert doc.text == raw


def test_bad_files_are_skipped_with_one_warning_each(tmp_path):
    (tmp_path / "good.txt").write_text("A good sentence.", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "broken.txt").write_bytes("Zürich café".encode("utf-8") + b"\xff")  # UTF-8 with a bad byte
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n")
    docs, warnings, report = read_all(tmp_path)
    assert [d.id for d in docs] == ["good.txt"]
    assert len(warnings) == 3
    assert any("empty.txt" in w and "empty" in w for w in warnings)
    assert any("binary.txt" in w and "binary" in w for w in warnings)
    assert any("broken.txt" in w and "invalid UTF-8 at byte 13" in w for w in warnings)  # not read as mojibake
    assert report.skipped == 3 and report.unsupported == 1 and report.documents == 1


def test_jsonl_corpus_records_and_malformed_lines(tmp_path):
    lines = [
        json.dumps({"id": "d1", "title": "One", "text": "First document."}),
        "{not json",
        json.dumps({"_id": 7, "text": "Second document."}),
        json.dumps({"id": "d3"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "d1", "text": "duplicate id"}),
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs, warnings, _ = read_all(tmp_path / "corpus.jsonl")
    assert [(d.id, d.title, d.text) for d in docs] == [
        ("d1", "One", "First document."),
        ("7", None, "Second document."),
    ]
    assert len(warnings) == 4
    assert all("corpus.jsonl:" in w for w in warnings)
    assert any(":2:" in w and "malformed" in w for w in warnings)
    assert any(":4:" in w for w in warnings)


def test_html_article_text_and_title(tmp_path):
    html = """<html><head><title>Harbour report</title></head><body>
    <nav>Home | About | Contact</nav>
    <article><h1>Harbour report</h1>
    <p>The harbour reopened on Monday after three weeks of repairs to the northern pier.</p>
    <p>Officials said 42 ships were waiting to dock when the gates opened in the morning.</p>
    </article><footer>Copyright 2024</footer></body></html>"""
    (tmp_path / "page.html").write_text(html, encoding="utf-8")
    (doc,) = read_all(tmp_path)[0]
    assert doc.title == "Harbour report"
    assert "42 ships were waiting to dock" in doc.text
    assert "<p>" not in doc.text


HTML_PAGES = Path(__file__).resolve().parent / "data" / "html"


def html_page(name: str):
    (doc,) = read_all(HTML_PAGES / name)[0]
    return doc


def blocks(text: str) -> list[str]:
    return text.split("\n\n")


def test_html_news_article_keeps_its_dateline_and_byline_not_the_site_furniture():
    doc = html_page("newsroom.html")
    assert blocks(doc.text)[:3] == [
        "# Brightwater launches the Osprey sonar",
        "Press release, 14 September 2025",
        "By Hannah Reyes, Brightwater communications",
    ]
    assert "## Availability" in blocks(doc.text)
    for furniture in ("Careers", "Related news", "design award", "Copyright", "Cookie settings"):
        assert furniture not in doc.text


def test_html_docs_page_keeps_its_last_updated_line_not_the_sidebar_breadcrumbs_or_pager():
    doc = html_page("docs-page.html")
    assert blocks(doc.text)[:2] == ["# Configuring the export queue", "Last updated on 3 March 2025"]
    assert "A failed export is retried three times, waiting 30 seconds between attempts." in blocks(doc.text)
    for furniture in ("Quickstart", "Retention policies", "Search the docs", "Edit this page", "Apache", "helpful"):
        assert furniture not in doc.text


def test_html_blog_post_keeps_captions_and_each_paragraph_apart_not_comments_or_footer():
    doc = html_page("blog-post.html")
    shown = blocks(doc.text)
    assert shown[:3] == [
        "# A week on the Skellig ferry",
        "Posted by Tomás Byrne on 2 August 2024 · 6 min read",
        "I spent a week as a deckhand on the small ferry that runs from Portmagee to the Skellig islands.",
    ]
    assert shown[3] == "The Naomh Fionán at Portmagee pier, photographed by Aoife Walsh."
    assert "The monks' steps on Skellig Michael rise 618 steps from the landing." in shown
    for furniture in ("Archive", "RSS", "comments", "Lovely write-up", "Subscribe", "Powered by"):
        assert furniture not in doc.text


def test_html_page_without_an_article_keeps_its_visible_text(tmp_path):
    (tmp_path / "note.html").write_text(
        "<html><body><nav><a href='/'>Home</a></nav><p>Gate code: 4417.</p><footer>Site map</footer></body></html>",
        encoding="utf-8",
    )
    (doc,) = read_all(tmp_path)[0]
    assert "Gate code: 4417." in doc.text and "Home" not in doc.text and "Site map" not in doc.text


def test_html_page_wrapped_in_a_form_keeps_its_article(tmp_path):
    article = (HTML_PAGES / "newsroom.html").read_text(encoding="utf-8")
    wrapped = article.replace("<body>", '<body><form id="form1" method="post">').replace("</body>", "</form></body>")
    (tmp_path / "webforms.html").write_text(wrapped, encoding="utf-8")
    (doc,) = read_all(tmp_path)[0]
    assert doc.text == html_page("newsroom.html").text


def test_html_block_trafilatura_keeps_but_not_in_order_is_not_lost():
    from qa.html_text import Block, _merge

    page = [Block("h1", "Title"), Block("p", "First paragraph here."), Block("p", "By A. Writer")]
    article = [("# Title", "Title"), ("First paragraph here.", "First paragraph here."), ("Extra", "Extra")]
    assert _merge(article, page) == ["# Title", "First paragraph here.", "Extra"]


def test_pdf_text_with_page_spans(tmp_path):
    write_pdf(
        tmp_path / "report.pdf",
        [["The treaty was signed in Geneva.", "It had 12 articles."], ["The second page mentions Oslo."]],
        title="Treaty Notes",
    )
    (doc,) = read_all(tmp_path)[0]
    assert doc.title == "Treaty Notes"
    assert len(doc.pages) == 2
    s, e = doc.pages[1]
    assert "Oslo" in doc.text[s:e] and "Geneva" not in doc.text[s:e]


def test_corrupt_pdf_is_skipped(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    docs, warnings, _ = read_all(tmp_path)
    assert docs == [] and len(warnings) == 1 and "broken.pdf" in warnings[0]


def test_pdf_is_reflowed_without_running_headers_footers_or_page_numbers(tmp_path):
    body = [
        "The MIME database stores the type of each file and the programs that",
        "open it, but it does not store the icons of the file managers, which",
        "come from the theme. Each entry is read at start-up for informa-",
        "tion about globs.",
    ]
    write_pdf(
        tmp_path / "spec.pdf",
        [body, ["A second page of the specification, with one more", "sentence on it."]],
        header="Shared MIME-info Database Specification",
        footer="Page {page}",
    )
    (doc,) = read_all(tmp_path)[0]
    assert "Specification\n" not in doc.text and "Page 1" not in doc.text and "Page 2" not in doc.text
    assert "for information about globs." in doc.text
    sentence = (
        "The MIME database stores the type of each file and the programs that open it, but it does not store "
        "the icons of the file managers, which come from the theme."
    )
    assert sentence in doc.text
    s, e = doc.pages[1]
    assert doc.text[s:e] == "A second page of the specification, with one more sentence on it."


def test_markdown_files_are_read_as_markdown(tmp_path):
    (tmp_path / "README.md").write_text("# Title\n\nSome text.\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("Some text.\n", encoding="utf-8")
    docs = {d.id: d for d in read_all(tmp_path)[0]}
    assert docs["README.md"].format == "markdown" and docs["notes.txt"].format == "text"


NOTES = "Notes on the Zephyr Coast line\r\n\r\nThe “Tregarrow Halt” café opened in 1902.\r\n"


@pytest.mark.parametrize(
    "bom, codec",
    [
        (codecs.BOM_UTF16_LE, "utf-16-le"),  # what Windows Notepad calls "Unicode"
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
    ],
)
def test_text_with_a_byte_order_mark_is_decoded_by_it(tmp_path, bom, codec):
    (tmp_path / "notes.txt").write_bytes(bom + NOTES.encode(codec))
    (tmp_path / "README").write_bytes(bom + "# Zephyr\n\nA heritage line.\n".encode(codec))  # no extension
    docs, warnings, report = read_all(tmp_path)
    assert warnings == [] and report.guessed == []
    assert {d.id: d.text for d in docs} == {"README": "# Zephyr\n\nA heritage line.\n", "notes.txt": NOTES}


def test_utf16_with_a_broken_character_is_skipped_with_a_clear_warning(tmp_path):
    (tmp_path / "notes.txt").write_bytes(codecs.BOM_UTF16_LE + "Café".encode("utf-16-le") + b"\x00\xd8")
    docs, warnings, _ = read_all(tmp_path)
    assert docs == [] and len(warnings) == 1 and "invalid UTF-16 at byte" in warnings[0]


def test_windows_1252_text_is_read_and_listed(tmp_path):
    letter = "Dear Ms Trelease,\r\n\r\nThe café’s “Zephyr” scones – £2 each – sold out by noon.\r\n"
    (tmp_path / "letter.txt").write_bytes(letter.encode("cp1252"))
    (tmp_path / "latin1.md").write_bytes("# Résumé\n\nCafé à Penzance.\n".encode("latin-1"))
    docs, warnings, report = read_all(tmp_path)
    assert warnings == []
    assert {d.id: d.text for d in docs} == {"latin1.md": "# Résumé\n\nCafé à Penzance.\n", "letter.txt": letter}
    assert report.guessed == [str(tmp_path / "latin1.md"), str(tmp_path / "letter.txt")]


def test_bytes_that_are_neither_utf8_nor_windows_1252_text_are_skipped(tmp_path):
    (tmp_path / "control.txt").write_bytes(b"caf\xe9\x1b[0m")  # an escape sequence: not text
    (tmp_path / "undefined.txt").write_bytes(b"caf\xe9 \x81")  # 0x81 is no Windows-1252 character
    docs, warnings, report = read_all(tmp_path)
    assert docs == [] and report.guessed == [] and len(warnings) == 2
    assert all("invalid UTF-8 at byte 3 (nor is it Windows-1252 text)" in w for w in warnings)


def test_qa_index_says_which_files_it_read_as_windows_1252(tmp_path):
    from helpers_robust import run_qa

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "letter.txt").write_bytes("The café’s “Zephyr” scones sold out by noon.\n".encode("cp1252"))
    proc = run_qa("index", str(docs), "--index", str(tmp_path / "idx"), "-q")
    assert proc.returncode == 0, proc.stderr
    assert "qa: note: 1 file read as Windows-1252, not being valid UTF-8: letter.txt" in proc.stderr

"""Sentence spans: exact offsets, news conventions, and never cutting a sentence in two."""

from __future__ import annotations

from conftest import SEEDS

from qa.sentences import MAX_CHARS, split_sentences


def texts(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_spans_are_exact_trimmed_and_ordered():
    text = "  First one here.  Second one!\nThird line?\n\n"
    spans = split_sentences(text)
    assert texts(text) == ["First one here.", "Second one!", "Third line?"]
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)
    assert [s for s, _ in spans] == sorted(s for s, _ in spans)


def test_quote_stays_with_its_attribution():
    text = "“We will not surrender,” Kuleba said. He left."
    assert texts(text) == ["“We will not surrender,” Kuleba said.", "He left."]


def test_abbreviations_do_not_end_sentences():
    text = "The U.S. and its allies met at 6 a.m. on Friday. Then they left."
    assert texts(text) == ["The U.S. and its allies met at 6 a.m. on Friday.", "Then they left."]


def test_headlines_and_captions_on_their_own_lines():
    text = "Peace Talks Collapse\nTalks ended on Thursday.\nJohn Doe/Getty Images"
    assert texts(text) == ["Peace Talks Collapse", "Talks ended on Thursday.", "John Doe/Getty Images"]


def test_seed_articles_every_span_reproduces_and_none_is_cut_mid_sentence():
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        spans = split_sentences(text)
        assert len(spans) > 15
        for s, e in spans:
            sentence = text[s:e]
            assert sentence.strip() == sentence and sentence
            # a sentence never ends inside a word or right after a comma
            assert not sentence.rstrip("”\"’").endswith(",")
            assert e == len(text) or not text[e].isalnum()


def test_very_long_runs_are_capped():
    text = "word " * 3000
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(e - s <= MAX_CHARS for s, e in spans)
    assert all(text[s:e].strip() == text[s:e] for s, e in spans)


def test_empty_and_blank_text():
    assert split_sentences("") == []
    assert split_sentences(" \n\t\n ") == []


# --- real layouts: wrapped prose, Markdown blocks (issue 16) ---

FFI = """\
The libffi library provides a portable, high level programming interface to
various calling conventions.

Known problems:

-  On some platforms, ffi_prep_cif may modify the size and
   alignment of some types, depending on the chosen ABI. This
   affects PowerPC, where the alignment of long double differs.
-  Another item on a line of its own.
"""


def test_a_wrapped_line_break_is_a_space_and_the_sentence_is_cited_whole():
    spans = split_sentences(FFI)
    found = [FFI[s:e] for s, e in spans]
    assert found[0] == (
        "The libffi library provides a portable, high level programming interface to\nvarious calling conventions."
    )
    whole = "This\n   affects PowerPC, where the alignment of long double differs."
    assert whole in found  # the newline (and the indent) inside the sentence, offsets exact
    assert "Known problems:" in found
    assert not any(t.endswith("the size and") for t in found)


def test_list_items_start_new_sentences():
    found = texts(FFI)
    assert found[-1] == "-  Another item on a line of its own."
    assert any(t.startswith("-  On some platforms") and t.endswith("depending on the chosen ABI.") for t in found)


def test_hard_wrapped_seeds_split_as_the_one_line_seeds():
    import textwrap

    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for width in (60, 72):
            wrapped = "\n".join(
                "\n".join(textwrap.wrap(line, width, break_on_hyphens=False)) for line in text.split("\n")
            )
            one = [" ".join(t.split()) for t in texts(text)]
            assert [" ".join(t.split()) for t in texts(wrapped)] == one


def test_seeds_split_into_47_sentences():
    assert sum(len(split_sentences(p.read_text(encoding="utf-8"))) for p in sorted(SEEDS.glob("*.txt"))) == 47


def test_headline_and_caption_lines_stay_apart_in_wrapped_text():
    text = (
        "Harbour Strike Ends\n"
        "The dock workers went back to work on Monday after the port authority\n"
        "agreed to raise their pay by four per cent over the next two years.\n"
        "Photo: Jane Roe\n"
        "The agreement was signed by both unions and the authority after nine\n"
        "days of talks in the city hall.\n"
    )
    assert texts(text) == [
        "Harbour Strike Ends",
        "The dock workers went back to work on Monday after the port authority\n"
        "agreed to raise their pay by four per cent over the next two years.",
        "Photo: Jane Roe",
        "The agreement was signed by both unions and the authority after nine\ndays of talks in the city hall.",
    ]


def test_markdown_tables_and_code_are_blocks_and_headings_are_not_sentences():
    text = (
        "# Installation\n"
        "Run the installer from the\n"
        "command line.\n"
        "\n"
        "| flag | meaning |\n"
        "|---|---|\n"
        "| -v | verbose |\n"
        "\n"
        "```\n"
        "make install\n"
        "make test\n"
        "```\n"
    )
    found = [text[s:e] for s, e in split_sentences(text, "markdown")]
    assert found[0] == "Run the installer from the\ncommand line."  # the heading is its section (issue 31)
    assert "| -v | verbose |" in found and "| flag | meaning |" not in found  # (column names: qa.markup)
    assert "make install" in found and "make test" in found


def test_setext_headings_are_not_sentences():
    body = "Compilers for high level languages generate code that follow\ncertain conventions."
    text = "What is libffi?\n===============\n\n" + body + "\n"
    found = [text[s:e] for s, e in split_sentences(text, "markdown")]
    assert found == [body]


def test_markdown_paragraph_newlines_are_soft_but_headlines_stay_apart():
    text = "Run the installer from the command line; it\ntakes a minute.\nRelease Notes\nThe first release.\n"
    found = [text[s:e] for s, e in split_sentences(text, "markdown")]
    assert found == [
        "Run the installer from the command line; it\ntakes a minute.",
        "Release Notes",
        "The first release.",
    ]


def test_seeds_read_as_markdown_split_the_same():
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert split_sentences(text, "markdown") == split_sentences(text)

"""How results are written in the app: corroboration, abstention, Markdown export."""

from __future__ import annotations

from qa.assistant import Answer, Citation, Corroboration, Result
from qa.tui.export import answer_markdown, markdown
from qa.tui.widgets.render import NO_ANSWER, answer_clipboard, answer_text, citation_line, sources_summary


def _c(doc: str, text: str, start: int = 0) -> Citation:
    return Citation(doc, start, start + len(text), text, 0.5, 3, None, None)


def _result(corroboration) -> Result:
    c1, c2, c3 = _c("a.txt", "It cost 40 dollars."), _c("b.txt", "The price was 40 dollars."), _c("c.txt", "It was 45.")
    answer = Answer("40 dollars", "a.txt", 8, 18, c1)
    return Result("How much did it cost?", answer, 0.8, [c1, c2, c3], corroboration=corroboration(c1, c2, c3))


def test_agreeing_sources_are_counted():
    result = _result(lambda c1, c2, c3: [Corroboration("40 dollars", [c1, c2])])
    assert sources_summary(result) == "2 sources agree"
    assert "2 sources agree · confidence 0.80" in str(answer_text(result))


def test_disagreeing_sources_show_both_versions_with_their_citations():
    result = _result(lambda c1, c2, c3: [Corroboration("40 dollars", [c1, c2]), Corroboration("45", [c3])])
    assert sources_summary(result) == "sources differ: “40 dollars” [1], [2] vs “45” [3]"


def test_a_single_source_says_nothing():
    assert sources_summary(_result(lambda c1, c2, c3: [Corroboration("40 dollars", [c1])])) == ""
    assert sources_summary(_result(lambda c1, c2, c3: [])) == ""


def test_span_is_highlighted_inside_its_sentence():
    text = answer_text(_result(lambda *c: []))
    plain = str(text)
    assert plain.startswith("40 dollars  [1]\nIt cost 40 dollars.")
    sentence_start = plain.index("It cost")
    marked = [s for s in text.spans if "yellow" in str(s.style)]
    assert [(s.start - sentence_start, s.end - sentence_start) for s in marked] == [(8, 18)]


def test_markdown_export():
    c = _c("a.txt", "Nothing relevant.")
    abstained = Result("Who?", None, 0.1, [c])
    turns = [
        ("How much did it cost?", _result(lambda *c: []), None),
        ("Who?", abstained, None),
        ("Why?", None, "no index"),
    ]
    md = markdown(turns)
    assert "## How much did it cost?" in md and "**40 dollars** [1] (confidence 0.80)" in md
    assert f"**{NO_ANSWER}.**" in md and "Closest matches:" in md
    assert "_Error: no index_" in md
    noted = Result("Who?", None, 0.1, [c], notes=["understood as: Who is Ada Quill?"])
    assert "_understood as: Who is Ada Quill?_" in answer_markdown(noted)
    assert "1. a.txt, line 3: “It cost 40 dollars.” (chars 0–19)" in answer_markdown(_result(lambda *c: []))


def test_flowed_joins_wrapped_lines_only_and_keeps_offsets():
    from qa.layout import flowed, one_line

    text = (
        "The harbour's fleet grew quickly after the railway came in 1869. By 1890 the\n"
        "port counted forty small trawlers that fished in the North Sea and landed\n"
        "their catch at the new fish market beside the station.\n"
        "\n"
        "- The first trawler was launched in 1872.\n"
        "- The last sail trawler left in 1931.\n"
    )
    shown = flowed(text)
    assert len(shown) == len(text)  # offsets into the document index the display
    assert shown.split("\n") == [
        "The harbour's fleet grew quickly after the railway came in 1869. By 1890 the port counted forty small "
        "trawlers that fished in the North Sea and landed their catch at the new fish market beside the station.",
        "",
        "- The first trawler was launched in 1872.",
        "- The last sail trawler left in 1931.",
        "",
    ]
    start = text.index("forty")
    assert shown[start : start + len("forty small trawlers")] == "forty small trawlers"
    # text that is not wrapped (a sentence a line) keeps its lines; Markdown's soft breaks flow
    assert flowed("One line.\nAnother line.\n") == "One line.\nAnother line.\n"
    assert flowed("# Title\nFirst line,\nsecond line.\n", "markdown") == "# Title\nFirst line, second line.\n"
    assert one_line("a\r\nb\nc") == "a  b c"


def test_an_answer_across_a_line_break_is_one_line_in_the_card_export_and_clipboard():
    sentence = "It cost 40\ndollars in all."
    c = _c("a.txt", sentence)
    result = Result("How much did it cost?", Answer("40\ndollars", "a.txt", 8, 18, c), 0.8, [c])
    text = answer_text(result)
    plain = str(text)
    assert plain.startswith("40 dollars  [1]\nIt cost 40 dollars in all.")
    sentence_start = plain.index("It cost")
    marked = [s for s in text.spans if "yellow" in str(s.style)]
    assert [plain[s.start : s.end] for s in marked] == ["40 dollars"]
    assert sentence_start + 8 == marked[0].start
    assert "**40 dollars** [1]" in answer_markdown(result)
    assert answer_clipboard(result).startswith("40 dollars — “It cost 40 dollars in all.”")


# -- issue 31 -------------------------------------------------------------------------------------


def test_hyphen_breaks_are_the_wrapped_breaks_inside_hyphenated_words():
    from qa.layout import display_line, flowed, hyphen_breaks, leave_out, shown_offset

    text = (
        "Every spring the keeper painted the lighthouse in broad cobalt-\n"
        "blue stripes, so that fishermen could tell it from the lighthouse on -\n"
        "the south pier - by day, and by night from the lamp lit in the mid-\n"
        "1890s on.\n"
    )
    shown = flowed(text)
    breaks = hyphen_breaks(text, shown)
    assert [text[s:e] for s, e in breaks] == ["\n", "\n"]  # after "cobalt-" and "mid-", not the dash's
    joined = leave_out(shown, breaks)
    assert "broad cobalt-blue stripes" in joined and "in the mid-1890s on." in joined and "on - the south" in joined
    # offsets into the text find the same characters in what is shown
    for word in ("blue", "fishermen", "1890s"):
        at = text.index(word)
        assert joined[shown_offset(at, breaks) :].startswith(word)
    # a break that flowing keeps (lines that are not wrapped) stays
    lines = "A sentence that ends in a well-\nKnown line.\nAnother line that is not wrapped.\n"
    assert hyphen_breaks(lines, flowed(lines)) == []
    # a sentence's breaks are all wrapped lines': joined, the indent of the next line too
    assert display_line("broad cobalt-\n  blue stripes") == "broad cobalt-blue stripes"
    assert display_line("forty small\ntrawlers") == "forty small trawlers"


def test_hyphenated_words_are_whole_in_the_card_export_and_clipboard():
    sentence = "It was painted in cobalt-\nblue stripes."
    c = _c("a.txt", sentence)
    start = sentence.index("cobalt")
    result = Result("What colour?", Answer("cobalt-\nblue", "a.txt", start, start + 12, c), 0.8, [c])
    text = answer_text(result)
    assert str(text).startswith("cobalt-blue  [1]\nIt was painted in cobalt-blue stripes.")
    assert [str(text)[s.start : s.end] for s in text.spans if "yellow" in str(s.style)] == ["cobalt-blue"]
    md = markdown([("What colour?", result, None)])
    assert "**cobalt-blue** [1]" in md and "“It was painted in cobalt-blue stripes.” (chars 0–39)" in md
    assert answer_clipboard(result) == "cobalt-blue — “It was painted in cobalt-blue stripes.” (a.txt, line 3)"
    assert "cobalt-blue" in str(citation_line(1, c))


def test_understood_as_follows_the_question_it_resolves_in_the_export():
    c = _c("a.txt", "Nothing relevant.")
    follow_up = Result("What did she build?", None, 0.1, [c], notes=["understood as: What did Ada Quill build?"],
                       resolved="What did Ada Quill build?")
    answered = Result("Where?", None, 0.1, [], notes=["understood as: Where did Ada Quill work?", "a note"],
                      resolved="Where did Ada Quill work?")
    md = markdown([("What did she build?", follow_up, None), ("Where?", answered, None)])
    assert (
        "## What did she build?\n\n_understood as: What did Ada Quill build?_\n\n"
        f"**{NO_ANSWER}.**\n\nClosest matches:\n\n1. a.txt, line 3: “Nothing relevant.” (chars 0–17)\n"
    ) in md
    assert md.count("understood as") == 2
    assert "## Where?\n\n_understood as: Where did Ada Quill work?_\n\n" in md and "_a note_" in md

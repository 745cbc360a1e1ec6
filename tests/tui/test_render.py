"""How results are written in the app: corroboration, abstention, Markdown export."""

from __future__ import annotations

from qa.assistant import Answer, Citation, Corroboration, Result
from qa.tui.widgets.render import NO_ANSWER, answer_markdown, answer_text, markdown, sources_summary


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

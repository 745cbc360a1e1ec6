"""Rich ``Text`` for results: the answer span highlighted in its sentence, citations, corroboration.

Pure functions of the public ``Result``/``Citation``/``Answer``/``Corroboration``
fields, shared by the answer cards, the sources panel and the Markdown export (``qa.tui.export``). An answer
or sentence that spans a wrapped line's break is shown on one line, a word hyphenated across it whole
(``qa.layout.display_line``); the result keeps the source's exact text.
"""

from __future__ import annotations

from rich.text import Text

from qa.layout import display_line, hyphen_breaks, leave_out, one_line, shown_offset
from qa.results import SENTENCE_ANSWER_NOTE
from qa.text import asks_yes_no

NO_ANSWER = "No answer found in the indexed documents"


def citation_number(result, citation) -> int | None:
    for n, c in enumerate(result.citations, 1):
        if (c.doc, c.start, c.end) == (citation.doc, citation.start, citation.end):
            return n
    return None


def sources_summary(result) -> str:
    """"2 sources" when several documents agree; the variants when they disagree."""
    groups = [g for g in (getattr(result, "corroboration", None) or []) if g.citations]
    if not groups:
        return ""
    if len(groups) == 1:
        n = len(groups[0].citations)
        return f"{n} sources agree" if n > 1 else ""
    parts = []
    for g in groups:
        refs = ", ".join(f"[{citation_number(result, c)}]" for c in g.citations if citation_number(result, c))
        parts.append(f"{quoted(g.text)} {refs}".strip())
    return "sources differ: " + " vs ".join(parts)


def highlighted_sentence(
    sentence: str, span: tuple[int, int] | None, base: str = "", mark: str = "bold reverse"
) -> Text:
    """``sentence`` with ``span`` (offsets into it) marked."""
    text = Text(sentence, style=base)
    if span is not None and 0 <= span[0] < span[1] <= len(sentence):
        text.stylize(mark, span[0], span[1])
    return text


def without(text: Text, spans: list[tuple[int, int]]) -> Text:
    """``text`` without ``spans`` (``qa.layout.leave_out``), its styles on the characters they were on."""
    if not spans:
        return text
    out = text.blank_copy(leave_out(text.plain, spans))
    for span in text.spans:
        start, end = shown_offset(span.start, spans), shown_offset(span.end, spans)
        if start < end:
            out.stylize(span.style, start, end)
    return out


def understood_note(result) -> str | None:
    """How a follow-up asked otherwise than typed was understood (its note, ``qa.conversation``), or None."""
    return f"understood as: {result.resolved}" if getattr(result, "resolved", None) else None


def answer_text(result) -> Text:
    """The body of an answer card; a follow-up asked otherwise than typed starts with how it was understood."""
    out = Text()
    understood = understood_note(result)
    if understood:
        out.append(understood + "\n", style="dim italic")
    if result.answer is None:
        out.append(NO_ANSWER, style="bold")
    else:
        a = result.answer
        c = a.citation
        out.append(display_line(a.text), style="bold")
        n = citation_number(result, c) or 1
        out.append(f"  [{n}]", style="bold cyan")
        if (a.start, a.end) != (c.start, c.end):
            out.append("\n")
            span = (a.start - c.start, a.end - c.start)
            sentence = highlighted_sentence(one_line(c.text), span, mark="bold black on yellow")
            out.append_text(without(sentence, hyphen_breaks(c.text)))
        if getattr(a, "kind", "span") == "sentence" and asks_yes_no(result.question):
            out.append(f"\n({SENTENCE_ANSWER_NOTE})", style="dim italic")
    meta = [f"confidence {result.confidence:.2f}"]
    summary = sources_summary(result)
    if summary:
        meta.insert(0, summary)
    out.append("\n" + " · ".join(meta), style="dim")
    for note in result.notes:
        if note != understood:
            out.append(f"\n{note}", style="dim italic")
    return out


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def citation_line(n: int, citation, width: int = 56) -> Text:
    """One citation in an answer card: number, source, and the start of the sentence."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"[{n}] ", style="bold cyan")
    line.append(citation.label())
    line.append("\n    " + shorten(display_line(citation.text), width), style="dim")
    return line


def answer_clipboard(result) -> str:
    """The answer with its citation, for the clipboard."""
    if result.answer is None:
        return f"{NO_ANSWER}."
    c = result.answer.citation
    return f"{display_line(result.answer.text)} — {quoted(c.text)} ({c.label()})"


#: Characters a sentence may open with when it is itself a quotation.
_OPENING_QUOTES = "“\"‘'«„"


def quoted(text: str) -> str:
    """``text`` on one line in curly quotes, unless it is already a quotation (then as in the source, not
    doubled)."""
    text = " ".join(display_line(text).split())
    return text if text[:1] in _OPENING_QUOTES else f"“{text}”"

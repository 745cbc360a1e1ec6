"""A question as typed, checked and cleaned before anything answers it (below both
``qa.assistant`` and ``qa.conversation``, which use it)."""

from __future__ import annotations

import re

from qa.defaults import MAX_QUESTION_CHARS
from qa.errors import BadInputError

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # lone surrogates (undecodable argv bytes, JSON escapes)


def clean_question(question: str) -> tuple[str, list[str]]:
    """Validate a question; returns the text to use and notes for the user."""
    if not isinstance(question, str):
        raise BadInputError("the question must be a string")
    notes = []
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", question)).strip()
    if not text:
        raise BadInputError('the question is empty; ask something, e.g. qa ask "Who is the deputy mayor?"')
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS]
        notes.append(f"question truncated to its first {MAX_QUESTION_CHARS} characters")
    return text, notes

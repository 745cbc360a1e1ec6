"""Counts in words for messages: ``counted(1, "document")`` is "1 document", ``counted(2, "document")``
"2 documents"."""

from __future__ import annotations

#: Plurals that are not the singular plus "s".
_IRREGULAR = {"query": "queries", "was": "were", "is": "are", "has": "have", "does": "do"}


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``singular`` when ``n`` is 1, else its plural (``plural_form``, a known irregular one, or + "s")."""
    if n == 1:
        return singular
    return plural_form or _IRREGULAR.get(singular) or singular + "s"


def counted(n: int, singular: str, plural_form: str | None = None) -> str:
    """``n`` and the noun that agrees with it: "1 document", "0 documents", "12 sentences"."""
    return f"{n} {plural(n, singular, plural_form)}"

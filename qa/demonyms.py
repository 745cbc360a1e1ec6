"""Country adjectives read as their country: "Ukrainian" and "Ukraine", "Russian" and "Russia"
are one word when a question and a sentence are matched ("Who is *Ukraine's* foreign
minister?" against "*Ukrainian* Foreign Minister Dmytro Kuleba"). The pairs come from the
``countryinfo`` package's country data, loaded once, on first use."""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """Lower-case adjective -> lower-case country, for one-word countries and adjectives (the
    first country listed wins where two share an adjective)."""
    import countryinfo

    out: dict[str, str] = {}
    for country in countryinfo.all_countries():
        try:
            name, adjectives = country.name(), country.demonym()
        except (KeyError, AttributeError):
            continue
        if not name or not adjectives or " " in name.strip():
            continue
        for adjective in adjectives.split(","):
            adjective = adjective.strip().lower()
            if adjective and " " not in adjective and adjective != name.lower():
                out.setdefault(adjective, name.strip().lower())
    return out


def country_of(word: str) -> str:
    """The country a lower-case country adjective names ("ukrainian" -> "ukraine"); any other
    word as it is. Callers pass only words written capitalised: "polish", "turkey" and
    "china" in lower case are mostly not countries."""
    return _countries().get(word, word)


@functools.lru_cache(maxsize=1)
def _adjectives() -> dict[str, tuple[str, ...]]:
    """Lower-case country -> its lower-case adjectives."""
    out: dict[str, list[str]] = {}
    for adjective, country in _countries().items():
        out.setdefault(country, []).append(adjective)
    return {country: tuple(adjectives) for country, adjectives in out.items()}


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def other_forms(text: str) -> list[str]:
    """For each capitalised country or country adjective in ``text``, the other forms of it
    ("Ukraine's" -> "ukrainian"; "Russian" -> "russia"), so a keyword search finds either.
    Lower-case words are left alone: "polish", "turkey" and "china" are mostly not countries."""
    out = []
    for word in _WORD.findall(text):
        if not word[0].isupper():
            continue
        word = word.lower()
        if word in _countries():
            out.append(_countries()[word])
        out.extend(_adjectives().get(word, ()))
    return out

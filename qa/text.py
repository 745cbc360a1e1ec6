"""Text normalisation, in one place: words, stop words, question names, yes/no questions, and
the SQuAD answer normaliser.

Every module that compares words (confidence features, corroboration, the rerank,
evaluation) uses these, so that they agree on what a word is. Stemming for BM25 is
``qa.index.bm25.tokenize`` (bm25s with PyStemmer); the late-interaction rerank filters word
pieces with ``content_piece``.
"""

from __future__ import annotations

import re
import string

#: Function words and question words: the word pieces late interaction (``qa.rerank``) skips.
FUNCTION_WORDS = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been being has have had do does did "
    "what which who whom whose when where why how that this these those it its as into about than then there".split()
)
#: Those plus pronouns, negations and "many"/"much": not content when comparing words.
STOP_WORDS = FUNCTION_WORDS | frozenset(
    "many much his her their he she they not no i you we me my your our him them".split()
)
#: A word: letters, digits and apostrophes.
WORD = re.compile(r"[\w’']+")

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation) | frozenset("“”‘’—–")


def norm_word(word: str) -> str:
    """Lower case, straight apostrophes, no possessive: "Ukraine’s" -> "ukraine"."""
    w = word.lower().replace("’", "'").strip("'")
    return w[:-2] if w.endswith("'s") else w


def content_words(text: str) -> set[str]:
    """The normalised words of ``text`` that are not stop words (nor one letter)."""
    out = set()
    for w in WORD.findall(text):
        n = norm_word(w)
        if n not in STOP_WORDS and len(w) > 1:
            out.add(n)
    return out


def question_names(question: str) -> set[str]:
    """Capitalised words of the question past its first word (likely names)."""
    found = WORD.findall(question)
    return {norm_word(w) for w in found[1:] if w[:1].isupper() and norm_word(w) not in STOP_WORDS}


def content_piece(piece: str) -> bool:
    """Whether a word piece is worth matching: not a special token, punctuation or a stop word."""
    if piece in ("[CLS]", "[SEP]", "[PAD]"):
        return False
    w = piece.removeprefix("##").lower()
    return any(ch.isalnum() for ch in w) and w not in FUNCTION_WORDS


def normalize_answer(text: str) -> str:
    """SQuAD's answer normalisation, exactly as ``../shared/eval/score.py`` does it: lower case,
    no ASCII punctuation nor curly quotes and dashes, no articles a/an/the, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


#: Words that open a yes/no question ("Did the two sides agree ...?", "Is it true that ...?").
_YES_NO_OPENERS = frozenset(
    "is are was were am do does did can could will would shall should has have had may might must "
    "isn't aren't wasn't weren't don't doesn't didn't can't couldn't won't wouldn't shouldn't "
    "hasn't haven't hadn't".split()
)
_YES_NO_LEAD = re.compile(r"^\s*(?:(?:and|but|so|then|also|tell me|please|true or false)[,:]?\s+)*", re.I)


def asks_yes_no(question: str) -> bool:
    """Whether the question asks yes or no: it opens with an auxiliary verb ("Did ...?",
    "Will Ukraine surrender?") or "is it true that"; such questions have no span answer."""
    rest = _YES_NO_LEAD.sub("", question.replace("’", "'"))
    first = rest.split(maxsplit=1)[0].lower().strip(",:") if rest.strip() else ""
    return first in _YES_NO_OPENERS

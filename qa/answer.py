"""Choosing the answer span inside the best supporting sentence.

Candidates are verbatim spans of the sentence: numbers, quantities and durations,
dates, runs of capitalised words (names, places, organisations), quoted phrases,
reason and purpose clauses ("because it would help ..."), and short word runs that
neither start nor end on a function word, plus the whole sentence. Candidates that
repeat the question's own words are dropped, except the noun the question asks
about ("What kinds of *stores* ..." may be answered by "food stores"). A linear
scorer (weights in ``qa/span_weights.py``, fitted listwise by
``benchmarks/fit_spans.py`` on half of the NarrativeQA stories) ranks them from
cheap features: the answer type asked for ("how many" a number, "when" a date,
"who" a name), the candidate's kind and length, where it sits relative to the
question's words in the sentence (an object question's answer follows the verb, a
subject question's precedes it), and, when the index stores token vectors, the
token features of ``qa.span_vectors``. When the whole sentence scores best, the
answer is the whole sentence, which is always a correct (if long) extractive answer.
A question asking what someone does ("What will Lavrov do ...?", "What are the allies
doing ...?") is answered by a verb phrase of the sentence (``verb_phrases``): only those
compete, when the sentence has one. A question asking what someone said ("What did Lavrov say
about the West?") is answered by what the sentence reports was said (``reported_speech``:
quotations and "said that ..." clauses), on the question's topic when one is. A question
asking who a named person is ("Who is Serhiy Orlov?") is answered by how the sentence
describes that person (``descriptions``: an appositive, a title, "is a ..."), and "Who said
...?" by the speaker (``speakers``), and a "where" question whose sentence names no place by a
place phrase (``places``: "in *a mass grave*"). These answer forms (``asked_form``) compete
only when the sentence has one.
A chosen span that stops inside a list ("food, water" of "food, water, heat and
medical care") is completed to the list's end, and one that opens with a verb right after
the question's stranded preposition ("accused Russia of *using* ...") to the verb phrase's
end; a subject answer that is only the object of a preposition before the question's verb
("fighters from *Donbas* have surrounded ...") starts at its clause's start (``finish_span``).
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass

from qa.demonyms import country_of
from qa.span_vectors import FEATURES as TOKEN_FEATURES
from qa.span_vectors import TokenView, span_token_features

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|dozens|half"
)

PATTERNS = {
    "date": re.compile(
        rf"\b(?:(?:{_DAYS}),?\s+)?(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:,\s*\d{{4}})?|\d{{1,2}}\s+(?:{_MONTHS})(?:\s+\d{{4}})?"
        rf"|(?:{_MONTHS})\s+\d{{4}}|(?:in\s+)?(?:1[6-9]|20)\d\d|{_DAYS})\b"
    ),
    "number": re.compile(
        rf"(?:[$€£]\s?)?\b\d[\d,.]*(?:\s?%|\s+(?:percent|million|billion|thousand|hundred))?"
        rf"(?:[-\s](?:[a-z]+))?|\b(?:{_NUMBER_WORDS})(?:\s+(?:of\s+)?(?:{_NUMBER_WORDS}))*\b",
        re.IGNORECASE,
    ),
    "name": re.compile(
        r"\b(?:(?:[A-Z]\.){2,}|[A-Z][\w’'-]*\.?)(?:\s+(?:of\s+the\s+|of\s+|de\s+|al-\s*|and\s+)?(?:(?:[A-Z]\.){2,}|[A-Z][\w’'-]*\.?))*"
    ),
    "quote": re.compile(r"[“\"]([^”\"]{3,200})[”\"]"),
}

_DURATION = re.compile(
    rf"\b(?:(?:about|around|nearly|almost|over|more than|less than|some)\s+)?(?:an?|\d[\d,.]*|{_NUMBER_WORDS})"
    r"(?:[-\s]+(?:and\s+a\s+half|half))?[-\s]+(?:second|minute|hour|day|week|month|year|decade|century)s?"
    r"(?:\s+and\s+a\s+half)?\b",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"(?:[$€£]\s?)?\d[\d,.]*(?:\s?%|\s+(?:percent|million|billion|thousand|hundred)\b)?")

_WH = [
    ("number", re.compile(r"\bhow (many|much|long|old|far|often)\b|\bwhat (number|percentage|figure|amount)\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat (year|day|date|month|time)\b|\bwhich (year|day|date|month)\b", re.I)),
    (
        "name",
        re.compile(
            r"\bwho(m|se)?\b|\bwho's\b|\bwhere\b"
            r"|\b(which|what) (country|city|town|outlet|organi[sz]ation|company|person|"
            r"newspaper|network|name|place|planet|state|island|university|school|college|ship|team)\b",
            re.I,
        ),
    ),
]
#: Question words, in the order the features list them.
WH_WORDS = ("who", "what", "where", "when", "which", "why", "how", "whose", "whom", "other")

STOP_WORDS = set(
    "a an the of to in on at for by with from and or but is are was were be been being has have had do does did "
    "what which who whom whose when where why how many much that this these those it its his her their he she they "
    "as into about than then there said says say tell told according not no him them i you we me my your our "
    "us if so up out over after before while during also just only can could would should will may might must "
    "s t".split()
)
#: Capitalised words that start sentences but are not names.
NOT_NAMES = set(
    "the a an he she it they we i you his her their its this that these those there then when while after before "
    "however but and or so if as at in on by for with from of to meanwhile later eventually finally once soon "
    "although though because since despite upon during mr mrs ms dr sir now here yet still even soon "
    "instead thus meanwhile afterwards later".split()
)
_WORD = re.compile(r"[\w’'-]+")
_MAX_RUN = 8
#: When the question asks for a type (number, date, name) and the sentence has spans of that
#: type, only those compete.
TYPED_ONLY = True


@dataclass(frozen=True)
class Span:
    start: int  # offsets into the sentence text
    end: int
    kind: str
    score: float


@functools.lru_cache(maxsize=65536)
def norm_word(w: str) -> str:
    """Lower case, without surrounding quotes or dashes and without a possessive 's
    ("Cross’s" and "Cross" are the same word)."""
    w = w.lower().strip("’'-")
    for suffix in ("’s", "'s"):
        w = w.removesuffix(suffix)
    return w


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=65536)
def word_key(w: str) -> str:
    """A word as the question and the sentence are matched on: normalised, a capitalised country
    adjective read as its country ("Ukrainian" as "Ukraine"), then stemmed ("liberate" and "liberating",
    "accused" and "accuse" match). Stop words stay as they are."""
    key = norm_word(w)
    if key in STOP_WORDS:
        return key
    return _stemmer().stemWord(country_of(key) if w[:1].isupper() else key)


def _content_words(text: str) -> set[str]:
    return {word_key(w) for w in _WORD.findall(text) if norm_word(w) not in STOP_WORDS}


def question_kind(question: str) -> str | None:
    for kind, pattern in _WH:
        if pattern.search(question):
            return kind
    return None


def wh_word(question: str) -> str:
    words = [w.lower() for w in _WORD.findall(question)]
    for w in words:
        w = w.replace("’", "'").removesuffix("'s")
        if w in WH_WORDS:
            return w
    return "other"


_AUX = set("do does did is are was were has have had will would can could should may might must".split())
_BE = set("is are was were be been being".split())
_HEAD_SKIP = set("kind kinds type types sort sorts".split()) | {"of"}
_PRONOUNS = set("he she it they we i you his her their its the a an this that these those".split())
#: Words that open a clause giving a reason, purpose or means ("because it would help ...").
_CLAUSE_MARKERS = re.compile(r"\b(?:because(?: of)?|so that|in order to|due to|by|to)\s+", re.I)


#: Questions that ask for a name even though they start with "what" ("What is her nickname?").
_NAME_ASKED = re.compile(r"\b(?:name|names|named|nickname|called|title|alias|surname)\b", re.I)


def wh_head(question: str) -> set[str]:
    """The words naming what the question asks about ("Which *military unit* ...", "What kinds
    of *stores* ..."): up to three lower-case words after "which"/"what"/"whose", before a
    function word. They may appear inside the answer ("food stores and pharmacies"), unlike
    the other question words. Capitalised words are names, not the asked-about thing."""
    raw = _WORD.findall(question)
    words = [norm_word(w) for w in raw]
    for i, w in enumerate(words):
        if w in ("which", "what", "whose"):
            j = i + 1
            while j < len(words) and words[j] in _HEAD_SKIP:
                j += 1
            head = set()
            for k in range(j, min(j + 3, len(words))):
                if words[k] in STOP_WORDS or words[k] in _AUX:
                    break
                if not raw[k][:1].isupper():
                    head.add(words[k])
            return head
    return set()


def slot_is_subject(question: str) -> bool:
    """Whether the question asks for the subject ("Who *has surrounded* Mariupol?", "Which
    alliance refused ...") rather than an object ("What has *NATO* ruled out?"): in the
    answer sentence, a subject answer comes before the verb, an object answer after it.
    An auxiliary right after the wh-phrase followed by a name, pronoun or determiner
    ("did Lavrov", "has it", "does the") marks an object question; so does one followed by a
    bare noun and then a verb form ("What were *people* in Mariupol *taking* ...?"; for "who",
    "what" and "which")."""
    raw = _WORD.findall(question)
    words = [norm_word(w) for w in raw]
    for i, w in enumerate(words):
        if w not in WH_WORDS:
            continue
        # the auxiliary, if any, within the wh-phrase ("which week of the invasion *has* it")
        for j in range(i + 1, min(i + 6, len(words))):
            if words[j] in _AUX:
                if j + 1 < len(words) and (words[j + 1] in _PRONOUNS or raw[j + 1][:1].isupper()):
                    return False
                if w in ("who", "whom", "what", "which") and _bare_noun_then_verb(raw[j + 1 : j + 6]):
                    return False
                break
        return True
    return False


def _bare_noun_then_verb(words: list[str]) -> bool:
    """Whether ``words`` open with a lower-case noun-like word (no verb form, adverb or
    function word) followed within four words by a verb form: "*people* in Mariupol *taking*"."""
    if not words:
        return False
    first = norm_word(words[0])
    if _looks_like_verb(words[0]) or first in _BEFORE_VERB or first in STOP_WORDS or first.endswith("ly"):
        return False
    return any(_looks_like_verb(w) for w in words[1:5])


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    """Without surrounding spaces, punctuation and quotes, or a possessive 's ("Red Cross’s")."""
    if text[s:e].endswith(("’s", "'s")) and e - s > 2:
        e -= 2
    while e > s and text[e - 1] in " ,.;:’'\"”)":
        if text[e - 1] == "." and re.search(r"\b[A-Z]\.$|\b(?:U\.S|a\.m|p\.m)\.$", text[s:e]):
            break
        e -= 1
    while s < e and text[s] in " ,;:.“\"(‘'":
        s += 1
    return s, e


#: Where a clause ends: punctuation (not the dot of "Mr." or "U.S.") or a dash between spaces.
_CLAUSE_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\b[A-Z])[.]|[,;:!?”\")]|\s[–—-]\s")


def _candidates(sentence: str) -> list[tuple[int, int, str]]:
    """Typed candidates: numbers, dates, names and quotes."""
    out = []
    for kind, pattern in PATTERNS.items():
        for m in pattern.finditer(sentence):
            s, e = (m.start(1), m.end(1)) if kind == "quote" else (m.start(), m.end())
            s, e = _trim(sentence, s, e)
            if kind == "name":
                s, e = _strip_non_names(sentence, s, e)
            if e <= s:
                continue
            out.append((s, e, kind))
            if kind == "name":
                # "Ukrainian Foreign Minister Dmytro Kuleba" -> also "Minister Dmytro Kuleba", "Dmytro Kuleba"
                for w in list(_WORD.finditer(sentence, s, e))[1:]:
                    if sentence[w.start()].isupper() and sentence[w.start() - 1].isspace():
                        out.append((w.start(), e, kind))
            if kind == "number":
                bare = re.match(_BARE_NUMBER, sentence[s:e])
                if bare and s + bare.end() < e:  # "1,207 people" -> also "1,207"; "3 million residents" -> "3 million"
                    out.append((s, s + len(sentence[s : s + bare.end()].rstrip(",.")), kind))
    durations = []
    for m in _DURATION.finditer(sentence):
        durations.append(_trim(sentence, m.start(), m.end()))
        out.append((*durations[-1], "number"))
    for m in _CLAUSE_MARKERS.finditer(sentence):
        end = _CLAUSE_END.search(sentence, m.end())
        s, e = _trim(sentence, m.end(), end.start() if end else len(sentence))
        if e > s and len(_WORD.findall(sentence[s:e])) >= 2:
            out.append((s, e, "clause"))
    # a number inside a date ("9" of "March 9, 2022") or a duration ("half" of "an hour and a half")
    # is part of it, not an answer of its own
    wholes = [(s, e) for s, e, k in out if k == "date"] + durations
    return [
        c
        for c in out
        if not (c[2] == "number" and any(ds <= c[0] and c[1] <= de and (ds, de) != c[:2] for ds, de in wholes))
    ]


def _strip_non_names(sentence: str, s: int, e: int) -> tuple[int, int]:
    """Drop leading capitalised function words ("However", "The") from a name run."""
    while s < e:
        m = _WORD.match(sentence, s)
        if not m or m.group().lower() not in NOT_NAMES:
            break
        s = m.end()
        while s < e and sentence[s] in " ,":
            s += 1
    # a trailing "and" (from "X and Y" matching) is not part of a name
    text = sentence[s:e]
    for tail in (" and", " of", " of the", " de"):
        if text.endswith(tail):
            e -= len(tail)
    return s, e


def typed_candidates(sentence: str, kind: str) -> list[tuple[int, int]]:
    """Spans of ``sentence`` of the answer type ``kind`` ("number", "date", "name")."""
    return [(s, e) for s, e, k in _candidates(sentence) if k == kind or (kind == "number" and k == "date")]


#: A word of a run: a number with its separators ("1,207", "3.5") or an abbreviation ("U.S.") is one
#: word, never cut.
_RUN_WORD = re.compile(r"(?:[A-Z]\.){2,}|\d[\d,.]*\d|[\w’'-]+")


def _word_runs(sentence: str, q_words: set[str]) -> list[tuple[int, int]]:
    """Runs of up to ``_MAX_RUN`` words, inside one clause, not starting or ending on a
    function word, holding no question word."""
    words = [(m.start(), m.end(), norm_word(m.group())) for m in _RUN_WORD.finditer(sentence)]
    keys = [word_key(w) for *_, w in words]
    out = []
    for i in range(len(words)):
        if words[i][2] in STOP_WORDS or keys[i] in q_words or words[i][2] in NOT_NAMES:
            continue
        for j in range(i, min(i + _MAX_RUN, len(words))):
            w = words[j][2]
            if keys[j] in q_words:
                break
            if j > i and re.search(r"[;:.!?()“”\"]", sentence[words[j - 1][1] : words[j][0]]):
                break
            if w in STOP_WORDS:
                continue
            out.append((words[i][0], words[j][1]))
    return out


#: Words that open a new phrase after an answer ("a no-fly zone *over* the country",
#: "its economic blockade *and* vowed ...").
_PHRASE_OPENERS = set(
    "over under despite because while when where which who whom whose that after before during since until as "
    "in on at for with from to by into through against among between without within and or but than via".split()
)


#: The text before an appositive: a comma or bracket right after a word, then maybe an article.
_APPOSITIVE_AFTER = re.compile(r"\w[’'s]*\s*[,(]\s*(?:(?:a|an|the|his|her|their|its)\s+)?$", re.I)


@dataclass(frozen=True)
class _Edges:
    """Where a phrase of the sentence may start and end, and the gaps the question leaves."""

    starts: frozenset[int]  # at the sentence start, after punctuation, a function word or a question word
    ends: frozenset[int]  # at the sentence end, before punctuation or a word that opens a new phrase
    ends_before_and: frozenset[int]  # the ends above that come before "and", "or" or ", and" (a list may go on)
    after_last_anchor: frozenset[int]  # first new word after the question's last word (stop or question words
    # between: "the cupboard *searching* for the ___")
    after_other_anchor: frozenset[int]  # the same after the question's other words
    before_anchor: frozenset[int]  # end of the last new word before a question word (stop words between)


def _gap_edges(sentence: str, words: list[tuple[int, int, str]], q_words: set[str], last: set[str]) -> _Edges:
    """Phrase edges of ``sentence`` (``words``: its words as (start, end, key)) and the gaps
    next to the question's words: "NATO has ruled out ___" leaves the answer right after
    "ruled out", "___ have surrounded Mariupol" right before "surrounded"."""
    starts, ends, before_and, after_last, after_any, before = set(), set(), set(), set(), set(), set()
    n = len(words)
    for i, (s, e, k) in enumerate(words):
        prev = sentence[words[i - 1][1] : s] if i else ""
        prev_key = words[i - 1][2] if i else ""
        if i == 0 or re.search(r"[,;:.!?()“”\"—–]", prev) or prev_key in STOP_WORDS or prev_key in q_words:
            starts.add(s)
        nxt = sentence[e : words[i + 1][0]] if i + 1 < n else ""
        if i + 1 == n or re.search(r"[,;:.!?()“”\"—–]", nxt) or words[i + 1][2] in _PHRASE_OPENERS:
            ends.add(e)
            if i + 1 < n and words[i + 1][2] in ("and", "or") and not re.search(r"[;:.!?()“”\"—–]", nxt):
                before_and.add(e)
        if k not in q_words:
            continue
        j = i + 1
        while j < n and (words[j][2] in STOP_WORDS or words[j][2] in q_words):
            j += 1
        if j < n:
            (after_last if k in last else after_any).add(words[j][0])
        j = i - 1
        while j >= 0 and (words[j][2] in STOP_WORDS or words[j][2] in _AUX):
            j -= 1
        if j >= 0 and words[j][2] not in q_words:
            before.add(words[j][1])
    return _Edges(
        frozenset(starts),
        frozenset(ends),
        frozenset(before_and),
        frozenset(after_last),
        frozenset(after_any),
        frozenset(before),
    )


#: Prepositions a question may end on ("What did he lash out at the West *for*?").
_PREPOSITIONS = set(
    "for of on in at with about from to by into as after against over under through onto upon toward towards".split()
)
_DETERMINERS = set("a an the its his her their this that these those our my your".split())


def _after_question_prep(question: str, s_words: list[tuple[int, int, str]], q_words: set[str]) -> set[int]:
    """Where the answer of a question ending on a preposition starts: right after that
    preposition in the sentence (or after the determiner that follows it), when a question
    word comes at most three words before it ("lash out at the West for *its economic
    blockade*", "accused Russia of *using* ...")."""
    raw = _WORD.findall(question)
    if len(raw) < 2 or norm_word(raw[-1]) not in _PREPOSITIONS:
        return set()
    prep = word_key(raw[-1])
    out = set()
    for i, (_s, _e, k) in enumerate(s_words):
        if k != prep or i + 1 >= len(s_words) or not any(w[2] in q_words for w in s_words[max(0, i - 3) : i]):
            continue
        out.add(s_words[i + 1][0])
        if s_words[i + 1][2] in _DETERMINERS and i + 2 < len(s_words):
            out.add(s_words[i + 2][0])
    return out


#: Modal verbs (and the infinitive "to") a verb phrase may follow, by the question modal they answer.
_MODAL_FAMILY = {
    "will": "will", "would": "will", "shall": "will", "can": "can", "could": "can",
    "should": "should", "must": "must", "may": "may", "might": "may", "to": "to",
    "has": "have", "have": "have", "had": "have",
}
#: Lower-case words ending in "-ing" that are not verbs.
_NOT_GERUNDS = set(
    "during nothing something anything everything thing things king ring rings spring string morning evening "
    "ceiling wedding bring sing sting swing wing sibling darling pudding "
    # prepositions ("a press conference *following* the failure ...") and adjectives
    "following including according regarding concerning notwithstanding "
    "willing unwilling ongoing upcoming outstanding interesting amazing surprising".split()
)
#: Adverbs that may stand between a modal and its verb ("will *not* surrender"); they stay in the phrase.
_MODAL_ADVERBS = set("not never also still again then soon now always just only even been".split())
#: Auxiliaries and adverbs between a subject and its verb ("fighters *have* surrounded", "Lavrov *also* claimed").
_BEFORE_VERB = _AUX | _MODAL_ADVERBS | {"being", "already"}
#: Words that open an adjunct clause after a verb phrase ("imposing a no-fly zone *despite* ...").
_ADJUNCT_OPENERS = set(
    "because while when whereas although though despite since until unless if but before after".split()
)
#: Words a verb phrase stops before: an auxiliary ("*seizing Mariupol* would be a triumph": the
#: "-ing" phrase was a subject) or a relative pronoun.
_PHRASE_ENDS = _AUX | {"that", "which", "who"}
_MAX_ACTION_WORDS = 15
#: Words after which an "-ed" word is an adjective or a passive, not a verb starting a phrase
#: ("the *repaired* school", "were *buried*").
_NOT_BEFORE_PAST = _DETERMINERS | _PREPOSITIONS | _AUX


def asks_for_action(question: str) -> str | None:
    """Whether the question asks what someone does or what happened: "What will Lavrov *do*
    ...?", "What are the allies *doing* ...?", "What is he ready *to do*?", "What *has happened*
    to the residents?". Returns the verb form the question wants: the modal's family ("will"
    for "will"/"would", "have" for a perfect, "to" for an infinitive), "ing" for a progressive,
    "" for another action question, and None when the question asks for something else
    ("What *job* did she do?" asks for a noun)."""
    words = [norm_word(w) for w in _WORD.findall(question)]
    if len(words) < 3 or words[0] != "what":
        return None
    if words[1] in ("happened", "happens"):
        return ""  # "What happened next?"
    if words[1] not in _AUX:
        return None
    verb = next((i for i in range(3, len(words)) if words[i] in ("do", "doing", "done")), None)
    if verb is None and words[2] in ("happen", "happened", "happening"):
        verb = 2  # "What has happened to the residents?"
    if verb is None:
        return None
    if words[verb - 1] in _MODAL_FAMILY:
        return _MODAL_FAMILY[words[verb - 1]]  # "What is he ready *to do*?", "What did he say he *would do*?"
    if words[1] in _MODAL_FAMILY:
        return _MODAL_FAMILY[words[1]]
    return "ing" if words[verb] in ("doing", "happening") else ""


#: Verbs of saying, in the forms questions and reports use.
_SPEECH_VERBS = set(
    "say says said tell tells told claim claims claimed warn warns warned vow vows vowed add adds added "
    "state states stated insist insists insisted argue argues argued announce announces announced declare "
    "declares declared promise promises promised reply replies replied explain explains explained".split()
)
_SPEECH = "|".join(sorted(_SPEECH_VERBS))
#: A quotation opening the sentence, its opening mark maybe left in the sentence before, closed
#: before its attribution: 'We will try to never again be dependent on the West," Lavrov said.'
_LEADING_QUOTE = re.compile(rf"\s*[“\"]?([^“”\"]+?)[,.!?][”\"]\s+(?:[\w’'.-]+\s+){{0,4}}?(?:{_SPEECH})\b")
#: A verb of saying ("said", "told").
_SPEECH_VERB = re.compile(rf"\b(?:{_SPEECH})\b")
#: Whom "told" may name before what was told ("told *reporters* that ...").
_ADDRESSEE = re.compile(r"\s+(?:reporters|journalists|him|her|them|us|me|[A-Z][\w’'-]+)\b")
_THAT = re.compile(r"\s+that\b")


def _reported_clauses(sentence: str) -> list[int]:
    """Where the clauses reported by a verb of saying start: after the verb, the addressee of
    "told" and "that" ("told reporters that *the bridge ...*"); none where a preposition follows
    ("said *in* an audio message", "told reporters *after* ...")."""
    out = []
    for m in _SPEECH_VERB.finditer(sentence):
        pos = m.end()
        addressee = None
        if m.group().lower() in ("tell", "tells", "told"):
            addressee = _ADDRESSEE.match(sentence, pos)
            pos = addressee.end() if addressee else pos
        that = _THAT.match(sentence, pos)
        pos = that.end() if that else pos
        nxt = _WORD.match(sentence, pos + 1) if sentence[pos : pos + 1] == " " else None
        if not nxt:
            continue
        word = norm_word(nxt.group())
        if word not in _PREPOSITIONS | {"so", "it"} or (addressee and word == "to"):  # "told him *to leave*"
            out.append(nxt.start())
    return out


#: Words that may follow the verb of a question asking what was said ("say *about* ...", "tell
#: her *just* before ..."); "claim *as* a reward" asks for a thing.
_SPEECH_FOLLOWERS = set(
    "about on of regarding concerning in at during after before when just then to next later first last".split()
)


def asks_what_was_said(question: str) -> bool:
    """Whether the question asks what someone said: "What did Lavrov *say about* the West?",
    "What did the voice *say*?" (not "What did he say *Russia had wanted*?", which asks for
    the object of another verb)."""
    words = [norm_word(w) for w in _WORD.findall(question)]
    if len(words) < 3 or words[0] != "what" or words[1] not in _AUX:
        return False
    for i in range(3, len(words)):
        if words[i] in _SPEECH_VERBS:
            rest = words[i + 1 :]
            if rest[:1] and words[i] in ("tell", "tells", "told"):
                rest = rest[1:]  # the addressee
            return not rest or rest[0] in _SPEECH_FOLLOWERS
    return False


def speech_topic(question: str) -> set[str]:
    """The content words after "about" in a question asking what was said ("What did Lavrov say
    about *depending* on the *West*?")."""
    m = re.search(r"\babout\b(.*)", question, re.I)
    return _content_words(m.group(1)) if m else set()


_ATTRIBUTION_WORDS = 6


def _attributed(sentence: str, start: int, end: int) -> bool:
    """Whether a verb of saying stands within six words before or after the quotation at
    ``start``-``end`` ('claimed that "civilians are ..."', '"...," Kuleba told'), unlike a
    quoted label ('which he described as "difficult"')."""
    before = _WORD.findall(sentence[:start])[-_ATTRIBUTION_WORDS:]
    after = _WORD.findall(sentence[end:])[:_ATTRIBUTION_WORDS]
    return any(norm_word(w) in _SPEECH_VERBS for w in before + after)


def reported_speech(sentence: str) -> list[tuple[int, int]]:
    """What the sentence reports someone said: its quotations next to a verb of saying (all of
    them when none is), a quotation opening it, and the clause after a verb of saying ("said
    that ...") to the sentence end."""
    quotes = [(m.start(1), m.end(1)) for m in PATTERNS["quote"].finditer(sentence)]
    found = [(s, e) for s, e in quotes if _attributed(sentence, s - 1, e + 1)] or quotes
    lead = _LEADING_QUOTE.match(sentence)
    if lead:
        found.append((lead.start(1), lead.end(1)))
    found += [(start, len(sentence)) for start in _reported_clauses(sentence)]
    spans = (_trim(sentence, s, e) for s, e in found)
    return list(dict.fromkeys((s, e) for s, e in spans if e > s))


def asks_who_said(question: str) -> bool:
    """Whether the question asks who said something: "Who *said* half the residents have left?"."""
    words = [norm_word(w) for w in _WORD.findall(question)]
    return len(words) >= 3 and words[0] == "who" and words[1] in _SPEECH_VERBS


_BY_AGENT = re.compile(r"\s+by\s+")
#: Words that open a clause inside a sentence ("He said *that* fighters have surrounded ...").
_CLAUSE_OPENERS = re.compile(r"\b(?:that|which|who|whom|when|while|because|although|though|if|where|but)\s+", re.I)

#: "and"/"or" and the word after it, a verb when a second verb is coordinated ("defeated ... *and occupied*").
_COORDINATED_VERB = re.compile(r"\s+(?:and|or)\s+(\w+)")


def _clause_start(sentence: str, pos: int) -> int:
    """Where the clause holding ``pos`` starts: after the last punctuation or closing quote before it."""
    return max((b.end() for b in _CLAUSE_END.finditer(sentence, 0, pos)), default=0)


def _subject_before(sentence: str, verb: int, appositive: bool) -> tuple[int, int] | None:
    """The subject of the verb at ``verb``: the words before it back to the clause start (a
    comma, a closing quote, a clause opener such as "while"), without the auxiliaries and adverbs
    next to the verb ("Lavrov *also* claimed"). Across an appositive ("Serhiy Orlov, the city's
    deputy mayor, said"), the name with it when ``appositive``, else the name alone. The first
    subject of two coordinated verbs ("fighters *have surrounded* the city and are smashing it").
    None for a pronoun, a phrase opening with a preposition or "and", or more than twelve words."""
    bounds = [b.end() for b in _CLAUSE_END.finditer(sentence, 0, verb)]
    start, end = max(bounds, default=0), verb  # the clause start (``_clause_start``)
    if not _WORD.search(sentence, start, verb) and len(bounds) >= 2 and sentence[start - 1] == ",":
        start = bounds[-3] if len(bounds) >= 3 else 0  # "Orlov, the city's deputy mayor, said"
        end = verb if appositive else bounds[-2]
    start = max([start] + [m.end() for m in _CLAUSE_OPENERS.finditer(sentence, start, end)])
    words = list(_WORD.finditer(sentence, start, end))
    while words and norm_word(words[-1].group()) in _BEFORE_VERB:
        words.pop()  # "Lavrov *also* claimed"
    if words and norm_word(words[-1].group()) in ("and", "or"):
        # "... fighters have surrounded the city and are smashing it": the first verb's subject
        first_aux = next((k for k in range(1, len(words)) if norm_word(words[k].group()) in _AUX), None)
        words = words[:first_aux] if first_aux else []
    if not words or norm_word(words[0].group()) in _PREPOSITIONS | {"and", "or"}:
        return None
    s, e = _trim(sentence, words[0].start(), words[-1].end())
    text = sentence[s:e]
    if e <= s or norm_word(text) in _PRONOUNS or len(_WORD.findall(text)) > 12:
        return None
    return s, e


def _agent_after(sentence: str, verb_end: int) -> tuple[int, int] | None:
    """The agent of a passive verb ending at ``verb_end``, to the clause end or a coordinated
    verb: "told *by the old fisherman*", "defeated *by that of Nemedia* and occupied"."""
    by = _BY_AGENT.match(sentence, verb_end)
    if not by:
        return None
    close = _CLAUSE_END.search(sentence, by.end())
    end = close.start() if close else len(sentence)
    for m in _COORDINATED_VERB.finditer(sentence, by.end(), end):
        if _looks_like_verb(m.group(1)) or norm_word(m.group(1)) in _AUX:
            end = m.start()
            break
    return _trim(sentence, by.end(), end)


def speakers(sentence: str) -> list[tuple[int, int]]:
    """Who the sentence says said something: the subject of a verb of saying (``_subject_before``:
    "*The mayor of Kyiv* said ...", '"...," *Kuleba* told reporters', "*Serhiy Orlov, the city's
    deputy mayor*, said"), the name after it ('"...," said *Kuleba*'), or the agent of a passive
    ("told *by the old fisherman*"). A pronoun names no one and is left out."""
    out = []
    for m in _SPEECH_VERB.finditer(sentence):
        span = _agent_after(sentence, m.end()) or _subject_before(sentence, m.start(), appositive=True)
        if span is None and not _WORD.search(sentence, _clause_start(sentence, m.start()), m.start()):
            after = PATTERNS["name"].match(sentence, m.end() + 1)  # '"...," said *Kuleba*'
            span = _trim(sentence, after.start(), after.end()) if after else None
        if span and span[1] > span[0]:
            out.append(span)
    return list(dict.fromkeys(out))


def _modifies_noun(sentence: str, end: int, phrase_end: int) -> bool:
    """Whether a name ending at ``end`` inside a phrase ending at ``phrase_end`` only qualifies the
    common noun that heads the phrase: "The *Russian* foreign minister" (up to three lower-case
    words follow it to the phrase's end, none a function word or a verb form), not "*George
    Cukor*", "fighters from *Donbas*", "*Lavrov* used the occasion" or "*Nemedia* and occupied"."""
    rest = _WORD.findall(sentence, end, phrase_end)
    return 0 < len(rest) <= 3 and all(
        w[:1].islower() and norm_word(w) not in STOP_WORDS and not _looks_like_verb(w) for w in rest
    )


def asks_who_did(question: str) -> str | None:
    """The verb (as a ``word_key``) of a question asking who did something: "Who *has ruled
    out* ...?", "Which militia *is defending* ...?". None for other questions, and for a passive
    or a copula ("Who was *killed*?", "Who is the mayor?"), whose answer is no subject."""
    raw = _WORD.findall(question)
    words = [norm_word(w) for w in raw]
    if not words or not slot_is_subject(question):
        return None
    i = 1
    if words[0] in ("which", "what"):
        head = wh_head(question)
        if not head:
            return None
        while i < len(words) and (words[i] in head or words[i] in _HEAD_SKIP):
            i += 1
        # the head may take the verb along: "Which party leaders *voted* ...?", "Which army *defeats* the ...?"
        verb_at = next((k for k in range(2, i) if words[k] in _BEFORE_VERB or _looks_like_verb(raw[k])), None)
        if verb_at is not None:
            i = verb_at
        elif i > 2 and raw[i - 1].endswith("s") and (i == len(words) or words[i] in _DETERMINERS):
            i -= 1
    elif words[0] != "who":
        return None
    auxes = []
    while i < len(words) and words[i] in _BEFORE_VERB:
        auxes.append(words[i])
        i += 1
    if i >= len(words) or not raw[i][:1].islower() or words[i] in STOP_WORDS:
        return None
    verb = raw[i]
    if any(a in _BE for a in auxes) and _verb_form(verb) != "ing":
        return None  # a passive or a copula
    if not auxes and not _looks_like_verb(verb) and not verb.endswith("s"):
        return None
    return word_key(verb)


def _verb_forms(sentence: str, verb: str) -> list[re.Match]:
    """The words of ``sentence`` that are forms of ``verb`` (a ``word_key``) used as a verb: one
    that looks like a verb (``_looks_like_verb``), an "-s" form not after a determiner, a
    preposition or an auxiliary ("Nemedia *defeats*", not "the *repairs*"), or a base form after a
    modal or "to" ("used the occasion to *lash* out"); not "invention" for "invented"."""
    out = []
    before = ""
    for m in _WORD.finditer(sentence):
        w, previous, before = m.group(), before, norm_word(m.group())
        if word_key(w) != verb or not w[:1].islower():
            continue
        present = w.endswith("s") and previous not in _NOT_BEFORE_PAST
        if _looks_like_verb(w) or present or previous in _MODAL_FAMILY:
            out.append(m)
    return out


def agents(sentence: str, verb: str, passive: bool = True) -> list[tuple[int, int]]:
    """Who does ``verb`` (a ``word_key``) in ``sentence``: the subject of each of its verb forms
    (``_subject_before``: "However, *NATO* has ruled out ...", "*Sasha Volkov*, deputy head of
    ..., described"), or, with ``passive``, the agent of a passive ("a party hosted *by George
    Cukor*")."""
    out = []
    for m in _verb_forms(sentence, verb):
        by = _agent_after(sentence, m.end())
        span = (by if passive else None) if by else _subject_before(sentence, m.start(), appositive=False)
        if span and span[1] > span[0]:
            out.append(span)
    return list(dict.fromkeys(out))


#: "Who is Serhiy Orlov?": a question asking who a named person is.
_WHO_IS_NAME = re.compile(r"\s*(?i:who)\s+(?:is|was|are|were)\s+((?:[A-Z][\w’'.-]*\s*)+)\?*\s*")
#: Words that open a description after a name ("Orlov, *the* city's deputy mayor").
_COPULA = re.compile(r"\s+(?:is|was|are|were)\s+")


def asks_who_is(question: str) -> str | None:
    """The name a question asks about when it asks who someone is ("Who is *Serhiy Orlov*?"), else None."""
    m = _WHO_IS_NAME.fullmatch(question)
    return m.group(1).strip() if m else None


_NAMED = re.compile(r"(?:\s+(?:named|called))?\s*,?\s*$")


def _noun_phrase_before(sentence: str, start: int) -> tuple[int, int] | None:
    """The noun phrase a name stands in apposition to or is the name of: "*Fait's daughter*,
    Vanessa," or "a verbally abusive *police officer* named Lucas": up to six words back from the
    name, over "named"/"called" or a comma, stopping at a function word, punctuation or an
    "-ed"/"-ing" word; it must end on a lower-case word."""
    link = _NAMED.search(sentence, 0, start)
    if not link or not link.group().strip():
        return None  # neither "named"/"called" nor a comma links the phrase to the name
    end = link.start()
    words = list(_WORD.finditer(sentence, 0, end))
    if not words or words[-1].end() != end or not words[-1].group()[:1].islower():
        return None
    first = len(words)
    for k in range(len(words) - 1, max(-1, len(words) - 7), -1):
        w = words[k].group()
        gap = sentence[words[k].end() : words[k + 1].start()] if k + 1 < len(words) else ""
        if norm_word(w) in STOP_WORDS or _verb_form(w) or re.search(r"[,;:.!?()“”\"—–]", gap):
            break
        first = k
    if first == len(words) or norm_word(words[-1].group()) in STOP_WORDS:
        return None
    if "," in link.group():
        # "Speaking to *the radio*, Anna Berg": the object of a preposition is no apposition
        k = first - 1
        while k >= 0 and norm_word(words[k].group()) in _DETERMINERS:
            k -= 1
        if k >= 0 and norm_word(words[k].group()) in _PREPOSITIONS:
            return None
    return words[first].start(), end


def descriptions(sentence: str, name: str) -> list[tuple[int, int]]:
    """How ``sentence`` describes the person ``name``: an appositive after the name ("Serhiy
    Orlov, *the city’s deputy mayor*, said"; not a relative clause or another name), the noun
    phrase before it ("*Fait's daughter*, Vanessa", "a *police officer* named Lucas"), what the
    name "is" ("Lucas is *a police officer*"), or the title before it ("*Ukrainian Foreign
    Minister* Dmytro Kuleba")."""
    last = _WORD.findall(name)[-1]
    out = []
    for m in PATTERNS["name"].finditer(sentence):
        run = list(_WORD.finditer(sentence, m.start(), m.end()))
        at = next((i for i, w in enumerate(run) if w.group() == last), None)
        if at is None:
            continue
        name_words = len(_WORD.findall(name))
        start_of_name = run[max(0, at + 1 - name_words)].start()
        if start_of_name > m.start():
            title_s, title_e = _strip_non_names(sentence, m.start(), start_of_name)
            title_s, title_e = _trim(sentence, title_s, title_e)
            if title_e > title_s:
                out.append((title_s, title_e))
        end_of_name = run[at].end()
        if sentence.startswith((", ", " ("), end_of_name):
            close = _CLAUSE_END.search(sentence, end_of_name + 2)
            s, e = _trim(sentence, end_of_name + 2, close.start() if close else len(sentence))
            words = _WORD.findall(sentence[s:e])
            opener = norm_word(words[0]) if words else ""
            if (
                words
                and len(words) <= 15
                and (opener in _DETERMINERS or opener not in STOP_WORDS)
                and not all(w[:1].isupper() for w in words)  # "Lucas (Mos Def)": an actor, another name
            ):
                out.append((s, e))
        before = _noun_phrase_before(sentence, start_of_name)
        if before:
            out.append(before)
        copula = _COPULA.match(sentence, end_of_name)
        if copula:
            close = _CLAUSE_END.search(sentence, copula.end())
            s, e = _trim(sentence, copula.end(), close.start() if close else len(sentence))
            if e > s:
                out.append((s, e))
    return list(dict.fromkeys(out))


def _is_gerund(word: str) -> bool:
    return word[:1].islower() and word.endswith("ing") and len(word) >= 5 and word not in _NOT_GERUNDS


def _verb_form(word: str) -> str | None:
    """"ing" or "ed" for a word that looks like such a verb form, else None."""
    if _is_gerund(word):
        return "ing"
    return "ed" if word[:1].islower() and word.endswith("ed") and len(word) >= 5 else None


#: Past tenses and participles that do not end in "-ed" ("They *took* the jewels", "a group *seen* as ...").
_IRREGULAR_VERB_FORMS = set(
    "known born given taken seen shown found made held told left built sent kept brought caught thought fought "
    "bought lost won become done gone written driven chosen stolen broken spoken hidden eaten fallen forgotten "
    "begun drawn grown thrown got gotten put set cut hit hurt let shut "
    "took gave stole saw knew wrote drove chose broke spoke hid ate fell forgot began drew grew threw ran came "
    "went".split()
)


def _looks_like_verb(word: str) -> bool:
    """Whether ``word`` looks like a verb form: "-ing", "-ed" or an irregular past ("took", "seen")."""
    return _verb_form(word) is not None or word in _IRREGULAR_VERB_FORMS


def _closes_quote(text: str, pos: int) -> bool:
    """Whether the quote mark at ``pos`` closes a quotation (a straight quote after an odd number of them)."""
    return text[pos] == "”" or (text[pos] == '"' and text.count('"', 0, pos) % 2 == 1)


def verb_phrases(sentence: str, tense: str = "") -> list[tuple[int, int]]:
    """Verb phrases of ``sentence``: from a verb ("-ing" words, a word right after a modal or
    "to", and without ``tense`` also "-ed" words not after an article, a preposition or an
    auxiliary) to the clause end, an adjunct clause ("despite ...", "because ...") or fifteen words,
    coordinated phrases included ("imposing major sanctions on Russia and providing aid to
    Ukraine"). A phrase inside an earlier one is not a phrase of its own. With ``tense`` (the
    question's modal family, or "ing"), only the verbs after such a modal, or only "-ing" verbs,
    count when there are any."""
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(sentence)]
    starts: dict[int, str] = {}
    for i, (_s, _e, w) in enumerate(words):
        if not w[:1].islower():
            continue
        family = _MODAL_FAMILY.get(norm_word(w))
        if family:
            # the verb after the modal, maybe after an adverb or two that stay with it ("will *not surrender*")
            j = i + 1
            while j < min(i + 3, len(words) - 1) and norm_word(words[j][2]) in _MODAL_ADVERBS:
                j += 1
            gap = sentence[words[i][1] : words[i + 1][0]] if i + 1 < len(words) else ""
            if j < len(words) and re.fullmatch(r"\s*[“\"]?", gap):
                verb = words[j][2]
                if verb[:1].islower() and verb.lower() not in STOP_WORDS:
                    starts.setdefault(i + 1, family)
        elif w.lower() in STOP_WORDS:
            continue
        elif _verb_form(w) == "ing":
            starts.setdefault(i, "ing")
        elif not tense and _verb_form(w) == "ed" and i and norm_word(words[i - 1][2]) not in _NOT_BEFORE_PAST:
            starts.setdefault(i, "ed")  # "the minister *delivered* a press conference"
    if tense and any(t == tense for t in starts.values()):
        starts = {i: t for i, t in starts.items() if t == tense}
    out: list[tuple[int, int]] = []
    covered = -1
    for i in sorted(starts):
        if words[i][0] < covered:
            continue
        j = i
        form = _verb_form(words[i][2]) or "base"
        while j + 1 < len(words) and j + 1 - i < _MAX_ACTION_WORDS:
            gap_start = words[j][1]
            gap = sentence[gap_start : words[j + 1][0]]
            following = norm_word(words[j + 1][2])
            if re.search(r"[,;:.!?()—–]", gap) or following in _ADJUNCT_OPENERS or following in _PHRASE_ENDS:
                if following in _AUX:
                    # "have left *and the bridge has* ...": what follows the last "and" is a new clause's subject
                    joins = [k for k in range(i + 1, j + 1) if norm_word(words[k][2]) in ("and", "or")]
                    j = joins[-1] - 1 if joins else j
                break
            if following in ("and", "or") and j + 2 < len(words) and _verb_form(words[j + 2][2]) not in (None, form):
                break  # "continue to engage ... *and expressed* some hope": another verb form, another subject
            if any(_closes_quote(sentence, gap_start + k) for k, c in enumerate(gap) if c in "”\""):
                if not (words[i][0] and sentence[words[i][0] - 1] in "“\"") or j > i:
                    break  # a quote that closes ('not in a position to commit" to ...') ends the phrase
            j += 1
        capped = j + 1 - i >= _MAX_ACTION_WORDS and j + 1 < len(words)
        while capped and j > i and norm_word(words[j][2]) in STOP_WORDS:
            j -= 1  # a phrase cut at fifteen words does not end on "and" or "the"
        _, e = _trim(sentence, words[i][0], words[j][1])
        s = words[i][0]
        closing = {"“": "”", '"': '"'}.get(sentence[s - 1]) if s else None
        if closing and closing in sentence[s:e]:
            s -= 1  # a quoted verb keeps its quotes: '"correspond" with Russian authorities'
        if e > s:
            out.append((s, e))
            covered = e
    return out


#: Prepositions of place ("buried *in* a mass grave").
_PLACE_PREPOSITIONS = set("in at on near inside outside into onto under behind beside across along throughout".split())
_MAX_PLACE_WORDS = 6


def places(sentence: str) -> list[tuple[int, int]]:
    """Places the sentence names without a name: the noun phrase after a preposition of place
    ("buried in *a mass grave*"), to the clause end, the next preposition or six words."""
    words = list(_WORD.finditer(sentence))
    out = []
    for i, w in enumerate(words[:-1]):
        if norm_word(w.group()) not in _PLACE_PREPOSITIONS:
            continue
        j = i + 1
        while (
            j + 1 < len(words)
            and j + 1 - i <= _MAX_PLACE_WORDS
            and not re.search(r"[,;:.!?()“”\"—–]", sentence[words[j].end() : words[j + 1].start()])
            and norm_word(words[j + 1].group()) not in _PHRASE_OPENERS | _AUX | {"cannot"}
        ):
            j += 1
        s, e = _trim(sentence, words[i + 1].start(), words[j].end())
        if e > s and norm_word(words[j].group()) not in STOP_WORDS:
            out.append((s, e))
    return out


#: Particles that stay with their verb ("ruled *out* ... over the country").
_PARTICLES = set("out up down off away back over in on".split())
#: Words that open a clause inside a question ("... his comic *that* is based on ...").
_CLAUSE_WORDS = _ADJUNCT_OPENERS | {"that", "which", "who", "whom", "whose"}
_MAX_OBJECT_WORDS = 4


def asks_object_before_phrase(question: str) -> tuple[str, str, str] | None:
    """Whether the question asks for the object of its verb, before the phrase that closes it:
    "What were people taking ___ *from other people's cars*?", "What has NATO ruled out ___
    *over the country*?". Returns the phrase's preposition, its last word and the question's verb
    (as ``word_key``s); None for other questions, for typed ones ("On what date ...") and when a
    clause comes in between ("What does he name his comic *that* is based on ...")."""
    raw = _WORD.findall(question)
    words = [norm_word(w) for w in raw]
    if len(words) < 5 or wh_word(question) not in ("what", "which") or question_kind(question) is not None:
        return None
    if slot_is_subject(question):
        return None
    aux = next((k for k in range(1, 4) if words[k] in _AUX), None)
    if aux is None:
        return None
    do_support = words[aux] in ("do", "does", "did")
    head = {word_key(w) for w in wh_head(question)}
    for p in range(aux + 2, len(words) - 1):
        if words[p] in _CLAUSE_WORDS:
            return None
        if words[p] not in _PREPOSITIONS:
            continue
        v = p - 1 if words[p - 1] not in _PARTICLES or p - 2 <= aux else p - 2
        verb = raw[v]
        # after "did/does", the verb is the base form ("What did Lavrov *deliver* on Thursday?")
        base = do_support and verb[:1].islower() and words[v] not in STOP_WORDS | _AUX and word_key(verb) not in head
        if not (_looks_like_verb(verb) or base):
            continue
        if words[p] == "to" and raw[p + 1][:1].islower() and words[p + 1] not in _DETERMINERS:
            return None  # "to destroy": an infinitive, not a phrase
        if any(w in _CLAUSE_WORDS for w in words[p + 1 :]) or words[-1] in STOP_WORDS:
            return None
        return words[p], word_key(raw[-1]), word_key(verb)
    return None


def _adjacent(sentence: str, a: re.Match, b: re.Match) -> bool:
    """Whether no punctuation separates the words ``a`` and ``b``."""
    return not re.search(r"[,;:.!?()“”\"—–]", sentence[a.end() : b.start()])


def objects_before_phrase(sentence: str, prep: str, last: str, q_words: set[str]) -> list[tuple[int, int]]:
    """The noun phrases of ``sentence`` between a verb and the phrase ``asks_object_before_phrase``
    found (its preposition ``prep``, then ``last`` within five words): "siphoning *gas* from other
    people's cars", "imposing *a no-fly zone* over the country". Up to four words back from the
    preposition, to a determiner, stopping at a function word, a verb form, punctuation or a
    question word (``q_words``); the word before must look like a verb (``_looks_like_verb``)
    or follow a modal or "to"."""
    words = list(_WORD.finditer(sentence))
    keys = [word_key(w.group()) for w in words]

    def joined(a: int, b: int) -> bool:
        return _adjacent(sentence, words[a], words[b])

    out = []
    for i in range(1, len(words) - 1):
        if norm_word(words[i].group()) != prep or last not in keys[i + 1 : i + 6]:
            continue
        first = None
        for k in range(i - 1, max(-1, i - 1 - _MAX_OBJECT_WORDS), -1):
            w = words[k].group()
            if not joined(k, k + 1):
                break
            if norm_word(w) in _DETERMINERS:
                first = k
                break
            if norm_word(w) in STOP_WORDS or _looks_like_verb(w) or keys[k] in q_words:
                break
            first = k
        if first is None or first == 0 or not joined(first - 1, first):
            continue  # no verb before the phrase
        verb = words[first - 1].group()
        after_modal = first >= 2 and norm_word(words[first - 2].group()) in _MODAL_FAMILY
        if not (_looks_like_verb(verb) or after_modal):
            continue
        s, e = words[first].start(), words[i - 1].end()
        if _content_words(sentence[s:e]) - q_words:
            out.append((s, e))
    return out


_NOT_IN_OBJECT = STOP_WORDS | _PARTICLES | _PREPOSITIONS


def objects_after_verb(sentence: str, verb: str, q_words: set[str]) -> list[tuple[int, int]]:
    """The noun phrases of ``sentence`` right after a form of ``verb`` (a ``word_key``,
    ``_verb_forms``): "to take *the gasoline* out", "raised *the issue of a ceasefire*". A
    determiner, then up to four words, stopping at punctuation, a function word or particle, a
    verb form or a question word (``q_words``); an "of" phrase goes on the same way."""
    words = list(_WORD.finditer(sentence))
    starts = {m.start() for m in _verb_forms(sentence, verb)}

    def noun_phrase_end(first: int) -> int | None:
        """The last word of the noun phrase from word ``first`` on (past a determiner), if any."""
        if first < len(words) and norm_word(words[first].group()) in _DETERMINERS:
            first += 1
        last = None
        for k in range(first, min(len(words), first + _MAX_OBJECT_WORDS)):
            w = words[k].group()
            if not _adjacent(sentence, words[k - 1], words[k]):
                break
            if norm_word(w) in _NOT_IN_OBJECT or _looks_like_verb(w) or word_key(w) in q_words:
                break
            last = k
        return last

    out = []
    for i, m in enumerate(words[:-1]):
        if m.start() not in starts:
            continue
        last = noun_phrase_end(i + 1)
        if last is not None and last + 2 < len(words) and norm_word(words[last + 1].group()) == "of":
            last = noun_phrase_end(last + 2) or last  # "the issue *of a ceasefire*"
        if last is not None:
            s, e = words[i + 1].start(), words[last].end()
            if _content_words(sentence[s:e]) - q_words:
                out.append((s, e))
    return out


#: The answer forms ``asked_form`` knows; spans of these kinds compete only among themselves.
ASKED_FORMS = ("action", "speaker", "description", "place", "speech", "object")


def asked_form(question: str, sentence: str) -> tuple[str, list[tuple[int, int]]] | None:
    """The form of answer the question asks for, beyond a type, with the sentence's spans of that
    form: "action" (``verb_phrases``), "speaker" (``speakers``), "description" (``descriptions``),
    "place" (``places``, for a "where" question when the sentence names no place), "speech"
    (``reported_speech``, on the question's topic when the sentence says more) or "object"
    (``objects_before_phrase``, else ``objects_after_verb``); None for other questions."""
    action = asks_for_action(question)
    if action is not None:
        return "action", verb_phrases(sentence, action)
    if asks_who_said(question):
        return "speaker", speakers(sentence)
    name = asks_who_is(question)
    if name:
        return "description", descriptions(sentence, name)
    if wh_word(question) == "where" and not typed_candidates(sentence, "name"):
        return "place", places(sentence)
    if asks_what_was_said(question):
        said = reported_speech(sentence)
        topic = speech_topic(question)
        return "speech", [(s, e) for s, e in said if topic & _content_words(sentence[s:e])] or said
    phrase = asks_object_before_phrase(question)
    if phrase:
        prep, last, verb = phrase
        q_words = _content_words(question)
        found = objects_before_phrase(sentence, prep, last, q_words) or objects_after_verb(sentence, verb, q_words)
        return "object", found
    return None


FEATURES = (
    ["bias", "whole_sentence", "typed_match", "typed_related", "typed_other"]
    + [f"kind_{k}" for k in ("name", "number", "date", "quote", "run", *ASKED_FORMS)]
    + [f"{w}_x_{k}" for w in WH_WORDS for k in ("name", "number", "date", "quote", "run", "sentence")]
    + ["n_words_1", "n_words_2", "n_words_3", "n_words_4", "n_words_5_6", "n_words_7plus", "log_chars"]
    + ["has_comma", "ends_clause", "starts_after_anchor_gap"]
    + [f"{w}_x_len" for w in WH_WORDS]
    + ["near_anchor", "log_distance", "after_anchor", "adjacent_after", "adjacent_before", "no_anchor"]
    + ["capitalised", "has_digit", "starts_sentence", "sentence_share", "name_inside"]
    + ["kind_clause", "why_x_clause", "how_x_clause", "what_x_clause", "other_x_clause", "has_head"]
    + ["what_x_name_asked", "what_x_name_not_asked", "what_headless_x_name"]
    + ["subject_slot", "subject_x_before_verb", "object_x_after_last", "object_x_after_any", "subject_x_after_last"]
    + ["appositive_after_anchor", "in_parentheses"]
    + ["ends_at_boundary", "ends_before_and", "starts_at_boundary"]
    + ["object_x_gap", "object_x_gap_other", "subject_x_gap", "object_x_before_anchors"]
    + ["after_question_prep", "after_question_prep_x_boundary", "number_with_noun"]
    + list(TOKEN_FEATURES)
)
_INDEX = {f: i for i, f in enumerate(FEATURES)}


def candidate_features(
    question: str, sentence: str, views: tuple[TokenView, TokenView] | None = None
) -> list[tuple[int, int, str, dict[str, float]]]:
    """Every candidate span of ``sentence`` with its features (sparse dicts); with the
    question's and the sentence's token vectors (``views``), also the token features of
    ``qa.span_vectors``."""
    head = {word_key(w) for w in wh_head(question)}
    q_words = _content_words(question) - head
    wanted = question_kind(question)
    wh = wh_word(question)
    subject = slot_is_subject(question)
    name_asked = bool(_NAME_ASKED.search(question))
    q_order = [w for w in (word_key(m) for m in _WORD.findall(question)) if w in q_words]
    s_words = [(m.start(), m.end(), word_key(m.group())) for m in _WORD.finditer(sentence)]
    anchors = [(s, e) for s, e, k in s_words if k in q_words]
    last_words = set(q_order[-1:])
    verb_words = set(q_order[:1]) if subject else set()
    last_anchor_ends = [e for _, e, k in s_words if k in last_words]
    verb_starts = [s for s, _, k in s_words if k in verb_words]
    edges = _gap_edges(sentence, s_words, q_words, last_words)
    prep_gaps = _after_question_prep(question, s_words, q_words)
    typed = {}
    for s, e, kind in _candidates(sentence):
        typed.setdefault((s, e), kind)
    spans: dict[tuple[int, int], str] = dict(typed)
    for s, e in _word_runs(sentence, q_words):
        spans.setdefault((s, e), "run")
    names = [(s, e) for (s, e), k in typed.items() if k == "name"]
    out = []
    n = len(sentence) + 1

    def new_words(s: int, e: int, kind: str = "") -> set[str]:
        """The span's content words, or an empty set when it has none or repeats the question
        (a reason clause or a verb phrase may repeat some: "because it would give *Acme* a
        market")."""
        words = _content_words(sentence[s:e])
        if kind in ("clause", *ASKED_FORMS):
            return words - q_words
        return set() if words & q_words else words

    # when the question asks for a type the sentence has, only spans of that type compete
    # (a "why" question asks for a reason clause)
    typed_only = False
    competing = "clause" if wh == "why" else wanted
    form = asked_form(question, sentence)
    if form is not None:
        # "What will Lavrov do ...?" asks for a verb phrase, "Who said ...?" for a speaker, ...
        form_kind, found = form
        found = [span for span in found if new_words(*span, form_kind)]
        if found:
            competing = form_kind
            for span in found:
                spans[span] = form_kind
    verb = asks_who_did(question) if form is None else None
    if verb:
        # "Who has ruled out a no-fly zone?": only the spans inside the subject of "ruled out" compete
        subjects = agents(sentence, verb)
        inside = {
            (s, e): k
            for (s, e), k in spans.items()
            if any(a <= s and e <= b and not (k == "name" and _modifies_noun(sentence, e, b)) for a, b in subjects)
        }
        if inside:
            spans = inside | {subject: spans.get(subject, "run") for subject in subjects}
    if TYPED_ONLY and competing is not None:
        of_type = {span: kind for span, kind in spans.items() if kind == competing and new_words(*span, kind)}
        if of_type and wanted == "name":
            # "*Russian* troops and pro-Russian fighters from *Donbas* have surrounded ...": a phrase from
            # name to name right before the question's words
            of_type |= {
                (s, e): k
                for (s, e), k in spans.items()
                if k == "run"
                and any(ns == s for ns, _ in of_type)
                and any(ne == e for _, ne in of_type)
                and e in edges.before_anchor
                and new_words(s, e)
            }
        if of_type:
            spans, typed_only = of_type, True
    for (s, e), kind in spans.items():
        text = sentence[s:e]
        words = new_words(s, e, kind)
        if not words:
            continue
        f: dict[str, float] = {"bias": 1.0, f"kind_{kind}": 1.0}
        if kind in ASKED_FORMS:
            pass  # these compete only among themselves: kind and question word say nothing more
        elif kind != "clause" or f"{wh}_x_clause" in _INDEX:
            f[f"{wh}_x_{kind}"] = 1.0
        else:
            f["other_x_clause"] = 1.0
        if wh == "what" and kind == "name":
            f["what_x_name_asked" if name_asked else "what_x_name_not_asked"] = 1.0
            if not head and not name_asked:
                f["what_headless_x_name"] = 1.0  # "What did X lash out at Y for?" asks for a thing, rarely a name
        if head and words & head:
            f["has_head"] = 1.0
        ends_b = e in edges.ends
        if _APPOSITIVE_AFTER.search(sentence, 0, s) and any(a_e <= s and s - a_e <= 8 for _, a_e in anchors):
            f["appositive_after_anchor"] = 1.0  # "Benjamin Bathurst, a *British diplomat*, ..."
        if sentence[:s].rstrip().endswith("(") and sentence[e:].lstrip().startswith(")"):
            f["in_parentheses"] = 1.0  # "Ginger Knowles (*Halle Berry*)"
        f["ends_at_boundary"] = 1.0 if ends_b else 0.0
        f["ends_before_and"] = 1.0 if e in edges.ends_before_and else 0.0
        f["starts_at_boundary"] = 1.0 if s in edges.starts else 0.0
        if kind == "number" and re.search(r"\d\s+[a-z]+$", text):
            f["number_with_noun"] = 1.0  # "47 bodies" rather than "47"
        if s in prep_gaps:
            f["after_question_prep"] = 1.0
            f["after_question_prep_x_boundary"] = 1.0 if ends_b else 0.0
        if subject:
            f["subject_slot"] = 1.0
            if e in edges.before_anchor and s in edges.starts:
                f["subject_x_gap"] = 1.0
            if any(0 <= v - e <= 12 for v in verb_starts):
                f["subject_x_before_verb"] = 1.0
            if any(0 <= s - a <= 6 for a in last_anchor_ends):
                f["subject_x_after_last"] = 1.0
        else:
            if s in edges.after_last_anchor and ends_b:
                f["object_x_gap"] = 1.0
            elif s in edges.after_other_anchor and ends_b:
                f["object_x_gap_other"] = 1.0
            if anchors and e <= anchors[0][0]:
                f["object_x_before_anchors"] = 1.0
            if any(0 <= s - a <= 6 for a in last_anchor_ends):
                f["object_x_after_last"] = 1.0
            if anchors and any(0 <= s - a_e <= 6 for _, a_e in anchors):
                f["object_x_after_any"] = 1.0
        if wanted is not None:
            related = wanted == "number" and kind == "date"
            f["typed_match" if kind == wanted else "typed_related" if related else "typed_other"] = 1.0
        n_words = len(_WORD.findall(text))
        f[f"n_words_{n_words}" if n_words <= 4 else "n_words_5_6" if n_words <= 6 else "n_words_7plus"] = 1.0
        f[f"{wh}_x_len"] = math.log1p(n_words)
        f["has_comma"] = 1.0 if "," in text else 0.0
        f["ends_clause"] = 1.0 if e >= len(sentence) or sentence[e : e + 1] in ",;:.!?)" else 0.0
        f["log_chars"] = math.log1p(len(text))
        if anchors:
            gaps = [(a_s - e) if a_s >= e else (s - a_e) if s >= a_e else 0 for a_s, a_e in anchors]
            d = min(abs(g) for g in gaps)
            f["log_distance"] = math.log1p(d)
            f["near_anchor"] = 1.0 if d <= 25 else 0.0
            f["after_anchor"] = 1.0 if any(a_e <= s for _, a_e in anchors) else 0.0
            f["adjacent_after"] = 1.0 if any(0 <= s - a_e <= 6 for _, a_e in anchors) else 0.0
            f["adjacent_before"] = 1.0 if any(0 <= a_s - e <= 6 for a_s, _ in anchors) else 0.0
            before = [s - a_e for _, a_e in anchors if a_e <= s]
            if before:
                f["starts_after_anchor_gap"] = math.log1p(min(before))
        else:
            f["no_anchor"] = 1.0
        toks = _WORD.findall(text)
        f["capitalised"] = sum(t[:1].isupper() for t in toks) / len(toks)
        f["has_digit"] = 1.0 if re.search(r"\d", text) else 0.0
        f["starts_sentence"] = 1.0 if s == 0 else 0.0
        f["sentence_share"] = len(text) / n
        if kind == "run" and any(ns <= s and e <= ne for ns, ne in names):
            f["name_inside"] = 1.0
        out.append((s, e, kind, f))
    if views is not None and out:
        for (_s, _e, _k, f), tf in zip(out, span_token_features(*views, [(c[0], c[1]) for c in out]), strict=True):
            f.update(tf)
    if not typed_only:
        out.append((0, len(sentence), "sentence", {"bias": 1.0, "whole_sentence": 1.0, f"{wh}_x_sentence": 1.0}))
    return out


def _score(f: dict[str, float], weights: dict[str, float]) -> float:
    return sum(weights.get(k, 0.0) * v for k, v in f.items())


def best_span(question: str, sentence: str, views: tuple[TokenView, TokenView] | None = None) -> Span | None:
    """The best-scored candidate of ``sentence`` for ``question`` (possibly the whole
    sentence, kind ``"sentence"``), or None when the sentence has no candidate at all.

    ``views`` (the question's and the sentence's token vectors) add the token features;
    without them (an index stored without token vectors) a scorer fitted without them ranks.
    """
    from qa.span_weights import PLAIN_WEIGHTS, WEIGHTS

    weights = WEIGHTS if views is not None else PLAIN_WEIGHTS
    best: Span | None = None
    for s, e, kind, f in candidate_features(question, sentence, views):
        score = _score(f, weights)
        if best is None or score > best.score:
            best = Span(s, e, kind, score)
    return best


#: How items of a list are joined: ", ", ", and ", " and ", " or ".
_LIST_JOIN = re.compile(r",\s+(?:(and|or)\s+)?|\s+(and|or)\s+")
_LIST_ITEM_WORDS = 4
#: What ends the last item of a list: the prepositions among the phrase openers ("Arden, Bree
#: and Colm *in* May"). Not "to", "that" or the clause openers, which follow verbs ("... blockade
#: and vowed *that* ...") as often as nouns.
_ITEM_ENDS = _PHRASE_OPENERS - set("to that as because while when where which who whom whose and or but than".split())


def complete_list(question: str, sentence: str, start: int, end: int) -> int:
    """Where a span that stops inside a list should end: "food, water" of "lack food, water,
    heat, electricity and medical care." ends after "medical care". The list goes on over
    ", item" and "(,) and/or item" joins to the and/or item. Each item is at most four words;
    it ends at a clause boundary, the next join or a preposition ("Arden, Bree and Colm in
    May"), and starts like the span does, capitalised or not ("Nemedia *and occupied* ..." is
    not a list item). A question asking for one thing ("Which *woman* ...") keeps the span;
    so does a span with no list after it."""
    head = wh_head(question)
    if head and not any(h.endswith("s") for h in head):
        return end
    first = _WORD.match(sentence, start)
    if not first:
        return end
    capitalised = first.group()[0].isupper()
    pos = end
    while True:
        join = _LIST_JOIN.match(sentence, pos)
        if not join:
            return end
        words = list(itertools.islice(_WORD.finditer(sentence, join.end()), _LIST_ITEM_WORDS))
        cut = next((i for i, w in enumerate(words) if i and w.group().lower() in ("and", "or")), None)
        words = words[:cut]
        if (
            not words
            or words[0].start() != join.end()
            or words[0].group()[0].isupper() != capitalised
            or norm_word(words[0].group()) in STOP_WORDS
        ):
            return end
        item_end = next(
            (
                w.end()
                for i, w in enumerate(words)
                if _at_clause_end(sentence, w.end())
                or _LIST_JOIN.match(sentence, w.end())
                or (i + 1 < len(words) and norm_word(words[i + 1].group()) in _ITEM_ENDS)
            ),
            None,
        )
        if item_end is None:
            return end
        if join.group(1) or join.group(2):
            return item_end
        pos = item_end


def _at_clause_end(sentence: str, pos: int) -> bool:
    """Whether ``pos`` ends a clause: the sentence's end, punctuation (not the dot of "Dr."), a dash."""
    return pos >= len(sentence.rstrip()) or _CLAUSE_END.match(sentence, pos) is not None


def complete_verb_phrase(question: str, sentence: str, start: int, end: int) -> int:
    """Where a span that opens with a verb right after the question's last preposition should
    end: the verb takes its whole phrase ("accused Russia of *using people* as human shields as
    well as committing war crimes" ends after "war crimes"; ``verb_phrases``)."""
    first = _WORD.match(sentence, start)
    if not first or not _is_gerund(first.group()):
        return end
    s_words = [(m.start(), m.end(), word_key(m.group())) for m in _WORD.finditer(sentence)]
    if start not in _after_question_prep(question, s_words, _content_words(question)):
        return end
    phrases = verb_phrases(sentence[start:])
    return max(end, start + phrases[0][1]) if phrases and phrases[0][0] == 0 else end


def complete_subject(question: str, sentence: str, start: int, end: int) -> int:
    """Where a span answering a subject question ("Who has surrounded Mariupol?") should start
    when it is the object of a preposition right before the question's verb: "fighters from
    *Donbas* have surrounded the city" names who surrounded it from the clause start, "Russian
    troops and pro-Russian separatist fighters from Donbas". Unchanged when that phrase would
    repeat a question word."""
    if wh_word(question) not in ("who", "which", "what") or not slot_is_subject(question):
        return start
    before = _WORD.findall(sentence[:start])
    verb_key = asks_who_did(question)
    if verb_key and before and norm_word(before[-1]) in _PREPOSITIONS:
        # "Who is smashing Mariupol?": "fighters from *Donbas* have surrounded the city and are smashing it"
        subject = next((a for a, b in agents(sentence, verb_key, passive=False) if a < start and end <= b), None)
        if subject is not None:
            return subject
    q_words = _content_words(question) - {word_key(w) for w in wh_head(question)}
    q_order = [w for w in (word_key(m) for m in _WORD.findall(question)) if w in q_words]
    after = [m.group() for m in itertools.islice(_WORD.finditer(sentence, end), 4)]
    verb = next((w for w in after if norm_word(w) not in _BEFORE_VERB), None)
    if not q_order or verb is None or word_key(verb) != q_order[0] or not before:
        return start
    if norm_word(before[-1]) not in _PREPOSITIONS:
        return start
    bounds = [m.end() for m in _CLAUSE_END.finditer(sentence, 0, start)]
    bounds += [m.end() for m in _CLAUSE_OPENERS.finditer(sentence, 0, start)]
    clause_start, _ = _trim(sentence, max(bounds, default=0), start)
    if _content_words(sentence[clause_start:start]) & q_words:
        return start
    return clause_start


def finish_span(question: str, sentence: str, span: Span) -> Span:
    """The chosen span, completed where it stops inside a list (``complete_list``) or inside
    the verb phrase a stranded preposition asks for (``complete_verb_phrase``), and started at
    its clause's start where it is only part of the subject asked for (``complete_subject``)."""
    if span.kind in ("sentence", "clause", "number", "date", "quote", *ASKED_FORMS):
        return span
    start = complete_subject(question, sentence, span.start, span.end)
    end = complete_verb_phrase(question, sentence, start, span.end)
    end = complete_list(question, sentence, start, end)
    return span if (start, end) == (span.start, span.end) else Span(start, end, span.kind, span.score)


def extract_span(question: str, sentence: str, views: tuple[TokenView, TokenView] | None = None) -> Span | None:
    """The answer span of ``sentence`` for ``question``, or None to answer with the whole sentence."""
    best = best_span(question, sentence, views)
    return None if best is None or best.kind == "sentence" else finish_span(question, sentence, best)

"""Corroboration: same answer across documents = one group; another number = another group."""

from __future__ import annotations

from qa.assistant import Answer, Citation
from qa.corroboration import corroborate, normalise


def cite(doc: str, text: str, start: int = 0) -> Citation:
    return Citation(doc=doc, start=start, end=start + len(text), text=text, score=1.0, line=1)


def extract_number(question, c):
    import re

    m = re.search(r"\d[\d,]*", c.text)
    if not m:
        return Answer(c.text, c.doc, c.start, c.end, c)
    return Answer(m.group(), c.doc, c.start + m.start(), c.start + m.end(), c)


Q = "How many bodies were buried in the mass grave?"


def test_normalise():
    assert normalise("The “Azov” Battalion.") == "azov battalion"


def test_same_answer_in_two_documents_is_one_group_of_two():
    a = cite("a.txt", "He said 47 bodies were buried in a mass grave.")
    b = cite("b.txt", "Officials said 47 bodies were buried in one grave outside the city.")
    answer = extract_number(Q, a)
    groups = corroborate(Q, answer, [a, b], extract_number)
    assert len(groups) == 1
    assert groups[0].text == "47" and [c.doc for c in groups[0].citations] == ["a.txt", "b.txt"]


def test_conflicting_number_from_another_document_is_shown_as_a_second_group():
    a = cite("a.txt", "He said 47 bodies were buried in a mass grave.")
    b = cite("b.txt", "Local officials said 52 bodies were buried in a mass grave on Wednesday.")
    groups = corroborate(Q, extract_number(Q, a), [a, b], extract_number)
    assert [g.text for g in groups] == ["47", "52"]
    assert groups[1].citations[0].doc == "b.txt"


def test_unrelated_sentences_and_same_document_do_not_count():
    a = cite("a.txt", "He said 47 bodies were buried in a mass grave.")
    same_doc = cite("a.txt", "Another 12 bodies were buried in a mass grave.", start=100)
    unrelated = cite("c.txt", "The river is 300 metres wide.")
    groups = corroborate(Q, extract_number(Q, a), [a, same_doc, unrelated], extract_number)
    assert len(groups) == 1 and len(groups[0].citations) == 1


def test_assistant_fills_corroboration(assistant):
    r = assistant.ask("Who is Ukraine's foreign minister, who met Lavrov in Turkey?", top_k=10)
    if r.answer is not None:
        assert r.corroboration and r.corroboration[0].citations[0] == r.answer.citation
        docs = [c.doc for c in r.corroboration[0].citations]
        assert len(docs) == len(set(docs))


def test_another_spelling_is_a_variant_but_another_name_is_not():
    def extract_name(question, c):
        import re

        m = re.search(r"Sergu?e[yi] Lavrov|Dmytro Kuleba", c.text)
        return Answer(m.group(), c.doc, c.start + m.start(), c.start + m.end(), c)

    q = "Who is Russia's foreign minister?"
    a = cite("a.txt", "Russia's foreign minister Sergey Lavrov spoke first.")
    b = cite("b.txt", "Russia's foreign minister Sergei Lavrov spoke to reporters.")
    c = cite("c.txt", "Ukraine's foreign minister Dmytro Kuleba spoke to Russia's reporters.")
    groups = corroborate(q, extract_name(q, a), [a, b, c], extract_name)
    assert [g.text for g in groups] == ["Sergey Lavrov", "Sergei Lavrov"]


def test_qa_ask_shows_sources_and_rival_answers():
    from qa.assistant import Corroboration, Result
    from qa.commands.ask import render

    a = cite("a.txt", "He said 47 bodies were buried in a mass grave.")
    b = cite("b.txt", "Officials said 47 bodies were buried there.")
    c = cite("c.txt", "Local officials said 52 bodies were buried in a mass grave.")
    answer = extract_number(Q, a)
    result = Result(Q, answer, 0.9, [a, b, c])
    result.corroboration = [Corroboration("47", [a, b]), Corroboration("52", [c])]
    text = render(result, color=False)
    assert "Supported by 2 sources [1] [2]" in text
    assert "Another source says: 52 [3]" in text


GARAGE = "Where was the first Brightwater garage?"


def extract_place(question, c):
    """What a reader would answer: "Dunmore" in the history, "the Dunmore factory" in the press release."""
    import re

    m = re.search(r"the Dunmore factory|Dunmore", c.text)
    return Answer(m.group(), c.doc, c.start + m.start(), c.start + m.end(), c)


def test_a_sentence_that_only_mentions_the_answer_is_no_second_source():
    a = cite("history.txt", "The first Brightwater garage was in Dunmore, where Cassidy repaired engines.")
    b = cite("news.html", "The first units will be built at the Dunmore factory and will ship in November.")
    groups = corroborate(GARAGE, extract_place(GARAGE, a), [a, b], extract_place)
    assert [c.doc for c in groups[0].citations] == ["history.txt"]


def test_a_source_counts_only_when_the_reader_is_sure_it_holds_the_answer():
    a = cite("history.txt", "The first Brightwater garage was in Dunmore, where Cassidy repaired engines.")
    b = cite("timeline.txt", "1987: Eileen Cassidy opens the first Brightwater garage in Dunmore.")
    answer = extract_place(GARAGE, a)
    sure = corroborate(GARAGE, answer, [a, b], extract_place, margin=lambda c: 8.0)
    unsure = corroborate(GARAGE, answer, [a, b], extract_place, margin=lambda c: 0.5)
    assert [c.doc for c in sure[0].citations] == ["history.txt", "timeline.txt"]
    assert [c.doc for c in unsure[0].citations] == ["history.txt"]


def test_a_source_about_another_question_does_not_count_even_with_the_same_answer():
    a = cite("history.txt", "The first Brightwater garage was in Dunmore, where Cassidy repaired engines.")
    b = cite("weather.txt", "Dunmore had its wettest winter on record.")
    groups = corroborate(GARAGE, extract_place(GARAGE, a), [a, b], extract_place, margin=lambda c: 8.0)
    assert [c.doc for c in groups[0].citations] == ["history.txt"]

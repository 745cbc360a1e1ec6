"""The trained reader: the shipped model is the one its training record describes, it finds
answers in sentences it never saw, says when a sentence holds none, and its spans are exact."""

from __future__ import annotations

import json

import pytest

from qa.evaluation.answers import contains
from qa.reader import CONTEXT_CHARS, MODEL_PATH, RECORD_PATH, Reader, model_sha256, reading_text, training_record
from qa.text import asks_yes_no


@pytest.fixture(scope="module")
def reader():
    return Reader()


def test_shipped_model_matches_its_training_record():
    record = training_record()
    assert record["model"] == MODEL_PATH.name
    assert model_sha256() == record["sha256"]
    assert record["precision"] in ("int8", "fp16")
    for key in ("data", "seed", "hyperparameters", "dev_given_gold_sentence"):
        assert key in record
    assert len(record["data"]["train"]["sha256"]) == 64
    gold = record["dev_given_gold_sentence"][record["precision"]]
    assert gold["questions"] > 1000 and gold["f1"] > 50


def test_record_is_json_next_to_the_model():
    assert RECORD_PATH.parent == MODEL_PATH.parent
    json.loads(RECORD_PATH.read_text(encoding="utf-8"))


# Sentences and questions written for this test (not from any question set).
EXAMPLES = [
    (
        "When was the lighthouse at Carrow Point finished?",
        "The lighthouse at Carrow Point was finished in 1871.",
        "1871",
    ),
    (
        "Who designed the new library?",
        "The new library, designed by architect Helena Marsh, opened to readers last spring.",
        "Helena Marsh",
    ),
    ("How many bridges cross the river in Tolvik?", "Seven bridges cross the river in Tolvik.", "Seven"),
    (
        "Where did the orchestra perform in May?",
        "In May the orchestra performed in Salzburg to a full hall.",
        "Salzburg",
    ),
    (
        "What does the valve regulate?",
        "Inside the engine, a small brass valve regulates the flow of steam to the pistons.",
        "the flow of steam",
    ),
]


@pytest.mark.parametrize("question,sentence,answer", EXAMPLES)
def test_reader_finds_the_answer_span(reader, question, sentence, answer):
    (span,) = reader.read(question, [sentence])
    got = sentence[span.start : span.end]
    # "contains gold" as the evaluation counts it (SQuAD normalisation: no articles), and short
    assert contains(got, answer) and len(got) <= len(answer) + 20, got
    assert span.margin > 0


def test_an_unrelated_sentence_scores_below_the_answering_one(reader):
    question = "When was the lighthouse at Carrow Point finished?"
    answering, unrelated = reader.read(
        question, ["The lighthouse at Carrow Point was finished in 1871.", "Apples are harvested in the autumn."]
    )
    assert unrelated.margin < 0 < answering.margin


def test_spans_are_exact_character_offsets_in_unicode_text(reader):
    sentence = "Zürich’s mayor — Corine Mauch — said “we are ready” on 3 March."
    (span,) = reader.read("Who is the mayor of Zürich?", [sentence])
    assert 0 <= span.start < span.end <= len(sentence)
    assert sentence[span.start : span.end].strip() == sentence[span.start : span.end]
    assert "Corine Mauch" in sentence[span.start : span.end]


def test_empty_batch_and_long_sentence(reader):
    assert reader.read("Who?", []) == []
    long = "word " * 2000 + "The answer is Oslo."
    (span,) = reader.read("What is the answer?", [long])
    assert 0 <= span.start <= span.end <= len(long)


@pytest.mark.parametrize(
    "question,expected",
    [
        ("Did the council approve the budget?", True),
        ("Is it true that the bridge was closed?", True),
        ("Will the talks continue?", True),
        ("And was he there?", True),
        ("Who approved the budget?", False),
        ("How many bridges are there?", False),
        ("The bridge was closed when?", False),
    ],
)
def test_yes_no_questions(question, expected):
    assert asks_yes_no(question) is expected


def test_yes_no_question_is_answered_with_a_whole_sentence(assistant):
    r = assistant.ask("Did the foreign ministers meet in Turkey?", top_k=3)
    assert r.answer is not None and r.answer.kind == "sentence"
    assert (r.answer.start, r.answer.end) == (r.answer.citation.start, r.answer.citation.end)
    assert r.to_json("q")["answer"]["kind"] == "sentence"


def test_span_answer_is_inside_its_cited_sentence(assistant):
    r = assistant.ask("Who is the deputy mayor of Mariupol?")
    assert r.answer is not None and r.answer.kind == "span"
    c = r.answer.citation
    assert c.start <= r.answer.start < r.answer.end <= c.end
    assert r.citations[0] == c
    assert assistant.store.text(r.answer.doc)[r.answer.start : r.answer.end] == r.answer.text


def test_a_sentences_span_does_not_depend_on_what_is_read_with_it(reader):
    """Each sentence is read alone: the int8 model's activations are quantised over its whole
    input, so in a padded batch one sentence's span and scores would move with the others'."""
    question = "Who designed the new library?"
    sentence = "The new library, designed by architect Helena Marsh, opened to readers last spring."
    (alone,) = reader.read(question, [sentence])
    others = ["A much longer sentence about something else entirely, " * 6, "Short one."]
    together = reader.read(question, [*others, sentence])[-1]
    assert together == alone


def test_reading_pairs_at_once_gives_the_same_spans_in_the_same_order(reader):
    question = "Who designed the new library?"
    sentences = [
        "The new library, designed by architect Helena Marsh, opened to readers last spring.",
        "A much longer sentence about something else entirely, " * 4,
        "Its reading room seats four hundred people.",
        "Marsh also designed the city's concert hall.",
    ]
    parallel = Reader(threads=1, workers=3)
    assert parallel.read(question, sentences) == reader.read(question, sentences)


@pytest.mark.parametrize(
    "before,after",
    [("", ""), ("He left early.", ""), ("", "Then it rained."), ("One.  Two\nlines.", "Three."), ("x " * 300, "y " * 300)],
)
def test_reading_text_marks_the_sentence_and_says_where_it_is(before, after):
    sentence = "The new library, designed by  Helena Marsh, opened."
    text, at = reading_text(sentence, before, after)
    assert text[at : at + len(sentence)] == sentence
    head, tail = text[:at], text[at + len(sentence) :]
    assert head.endswith("[SEP] ") and tail.startswith(" [SEP]")
    assert len(head) <= CONTEXT_CHARS + len(" [SEP] ") and len(tail) <= CONTEXT_CHARS + len(" [SEP] ")


def test_a_context_reader_answers_inside_the_sentence_only(reader):
    """The answer may sit in a neighbour; the span (and so the citation) stays in the sentence."""
    context_reader = Reader(context=True)
    question = "Who designed the new library?"
    sentence = "Its reading room seats four hundred people."
    before = "The new library was designed by architect Helena Marsh."
    (span,) = context_reader.read(question, [sentence], [(before, "")])
    assert 0 <= span.start <= span.end <= len(sentence)
    answering = "The new library, designed by architect Helena Marsh, opened to readers last spring."
    (found,) = context_reader.read(question, [answering], [("The city needed space.", sentence)])
    assert answering[found.start : found.end] == "Helena Marsh"
    assert found.margin > span.margin


def test_the_reader_reads_context_as_its_record_says(reader):
    assert reader.context is bool(training_record().get("context"))

"""Training labels for the resolver (training/rewrite_labels.py): which question words a person's
rewrite replaced or put words in before, and where those words are in the history."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

import rewrite_labels  # noqa: E402
from rewrite_labels import INSERT, KEEP, REPLACE, REPLACE_POSSESSIVE  # noqa: E402

from qa.resolver import load_tokenizer, split_words  # noqa: E402

STOP = frozenset({"the", "a", "of", "did", "what", "are", "there", "any", "other", "about", "this", "when", "he"})


def _label(question: str, rewrite: str, history: list[str], skip_excluding: bool = False):
    tokenizer = load_tokenizer()
    words = [w.lower() for w, _, _ in split_words(tokenizer, question)]
    found = rewrite_labels.label(
        words,
        rewrite,
        split_words(tokenizer, rewrite),
        [[w.lower() for w, _, _ in split_words(tokenizer, item)] for item in history],
        STOP,
        2,
        skip_excluding,
    )
    return words, found


def test_a_replaced_pronoun_is_labelled_with_its_newest_span():
    history = ["Ada Brannock kept the light.", "Hamish Rourke kept it last.", "Hamish Rourke left in 1988."]
    words, found = _label("When did he leave?", "When did Hamish Rourke leave?", history)
    ((edit, span),) = found
    assert (edit.q_start, edit.q_end) == (2, 3) and not edit.possessive
    assert (span.item, span.first, span.last) == (2, 0, 1)  # the newest item, not item 1
    assert rewrite_labels.question_tags(len(words), [edit]) == [KEEP, KEEP, REPLACE, KEEP, KEEP]


def test_a_possessive_rewrite_is_a_possessive_replacement():
    words, found = _label("What was his job?", "What was Hamish Rourke's job?", ["Hamish Rourke"])
    ((edit, _),) = found
    assert edit.possessive and edit.new == ("hamish", "rourke")
    assert rewrite_labels.question_tags(len(words), [edit])[2] == REPLACE_POSSESSIVE


def test_words_put_in_are_an_insertion():
    words, found = _label("What happened in 1998?", "What happened to Sheryl Crow in 1998?", ["Sheryl Crow"])
    ((edit, span),) = found
    assert edit.q_start == edit.q_end == 2 and span is not None
    assert rewrite_labels.question_tags(len(words), [edit])[2] == INSERT


def test_a_besides_opening_is_an_edit_only_without_skip_excluding():
    question = "Are there any other interesting aspects about this article?"
    rewrite = "Besides the altercation, are there any other interesting aspects about Jack White?"
    history = ["Jack White", "Personal life", "What happened?", "He had an altercation."]
    _, found = _label(question, rewrite, history)
    assert any(edit.q_start == 0 for edit, _ in found)
    _, found = _label(question, rewrite, history, skip_excluding=True)
    assert found and all(edit.q_start > 0 for edit, _ in found)

"""Span features from the embedder's token vectors: aligned with the text, and telling."""

from __future__ import annotations

import pytest

from qa.span_vectors import span_token_features, view_of


@pytest.fixture(scope="module")
def encoder():
    from embeddings.model import load_encoder

    return load_encoder("onnx")


def test_the_asked_about_noun_matches_the_right_name(encoder):
    question = "Which alliance refused to send troops?"
    sentence = "President Anna Berg said NATO refused to send troops."
    spans = [
        (sentence.index("Anna Berg"), sentence.index("Anna Berg") + 9),
        (sentence.index("NATO"), sentence.index("NATO") + 4),
    ]
    person, alliance = span_token_features(view_of(encoder, question), view_of(encoder, sentence), spans)
    assert alliance["tok_head"] > person["tok_head"] + 0.1


def test_stored_token_vectors_line_up_with_the_cited_text(assistant):
    result = assistant.ask("How many bodies were buried in a mass grave?")
    for citation in result.citations:
        views = assistant.token_views("How many bodies were buried in a mass grave?", citation)
        assert views is not None
        _question, sentence = views
        for piece, (s, e) in zip(sentence.strings, sentence.offsets, strict=True):
            if piece.startswith("[") or e <= s:
                continue
            assert citation.text[s:e].lower() == piece.removeprefix("##").lower()


def test_spans_without_token_vectors_still_work(assistant):
    from qa.answer import extract_span

    sentence = "He said 47 bodies, some unidentified, were buried in a mass grave."
    span = extract_span("How many bodies were buried?", sentence, None)
    assert span is not None and sentence[span.start : span.end] == "47"

"""The Python API: Assistant.open / ask, exact citations, abstention, bad questions."""

from __future__ import annotations

import pytest
from conftest import SEEDS

from qa import Assistant, BadInputError


def source(doc: str) -> str:
    return (SEEDS / doc).read_text(encoding="utf-8")


def test_answer_and_citations_reproduce_the_source(assistant):
    r = assistant.ask("Who is the deputy mayor of Mariupol?", top_k=5)
    assert len(r.citations) == 5
    assert [c.score for c in r.citations] == sorted((c.score for c in r.citations), reverse=True)
    for c in r.citations:
        assert source(c.doc)[c.start : c.end] == c.text
        assert c.line == source(c.doc).count("\n", 0, c.start) + 1
    assert any("Serhiy Orlov" in c.text for c in r.citations)
    if r.answer is not None:
        a = r.answer
        assert source(a.doc)[a.start : a.end] == a.text
        assert a.citation.start <= a.start < a.end <= a.citation.end


def test_top_k_and_json_contract(assistant):
    r = assistant.ask("What did Lavrov lash out at the West for?", top_k=3)
    j = r.to_json("q1")
    assert list(j) == ["id", "question", "answer", "confidence", "citations"]
    assert j["id"] == "q1" and j["question"] == "What did Lavrov lash out at the West for?"
    assert len(j["citations"]) == 3
    # the batch contract's fields, then line and page (added by issue 16)
    assert all(list(c) == ["doc", "start", "end", "text", "score", "line", "page"] for c in j["citations"])
    if j["answer"] is not None:
        assert list(j["answer"]) == ["text", "doc", "start", "end", "kind"]  # the contract's fields, then kind
        assert j["answer"]["kind"] in ("span", "sentence")


def test_abstains_below_threshold_but_still_cites(seeds_index):
    with Assistant.open(seeds_index, threshold=1.01) as a:
        r = a.ask("Who is the deputy mayor of Mariupol?")
    assert r.answer is None and r.abstained
    assert r.citations and r.to_json("x")["answer"] is None


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\x00\x01"])
def test_empty_questions_are_refused(assistant, question):
    with pytest.raises(BadInputError, match="empty"):
        assistant.ask(question)


def test_huge_question_is_truncated_with_a_note(assistant):
    r = assistant.ask("Mariupol deputy mayor " * 20000)
    assert r.notes and "truncated" in r.notes[0]
    assert r.citations


def test_default_index_is_built_from_the_bundled_seeds():
    with Assistant.open() as a:
        docs = {d.id for d in a.store.documents()}
        assert docs == {p.name for p in SEEDS.glob("*.txt")}
        r = a.ask("How many bodies have officials removed from the streets of Mariupol?")
        assert r.citations


def test_default_index_is_rebuilt_when_the_seeds_change(monkeypatch, tmp_path, seeds_copy):
    import qa.assistant
    import qa.defaults

    monkeypatch.setattr(qa.defaults, "seeds_dir", lambda: seeds_copy)
    monkeypatch.setattr(qa.assistant, "seeds_dir", lambda: seeds_copy)
    index_dir = tmp_path / "default"
    qa.assistant.ensure_default_index(index_dir, quiet=True)
    assert qa.defaults.default_index_is_current(index_dir)
    (seeds_copy / "late-news.txt").write_text("The lighthouse reopened on Sunday.", encoding="utf-8")
    assert not qa.defaults.default_index_is_current(index_dir)
    qa.assistant.ensure_default_index(index_dir, quiet=True)
    with Assistant.open(index_dir) as a:
        assert "late-news.txt" in {d.id for d in a.store.documents()}


def test_ask_scoped_to_documents(assistant):
    r = assistant.ask("Who is the deputy mayor of Mariupol?", docs=["003_a8a4a27f9da3f9ac.txt"])
    assert r.citations and {c.doc for c in r.citations} == {"003_a8a4a27f9da3f9ac.txt"}
    assert assistant.ask("Who is the deputy mayor of Mariupol?").citations[0].doc == "000_897d0385e72439c1.txt"


def test_the_reader_loads_while_the_first_question_is_retrieved(seeds_index, monkeypatch):
    """Cold start: the first ask starts loading the reader on a thread of its own, so that its
    load overlaps retrieval instead of following it."""
    import threading
    import time

    import qa.reader

    real_reader = qa.reader.Reader
    spans: dict[str, tuple[float, float]] = {}

    class SlowReader(real_reader):
        def __init__(self, *args, **kwargs):
            start = time.perf_counter()
            time.sleep(0.5)
            super().__init__(*args, **kwargs)
            spans["reader"] = (start, time.perf_counter())
            spans["reader thread"] = threading.current_thread().name

    monkeypatch.setattr(qa.reader, "Reader", SlowReader)
    with Assistant.open(seeds_index) as a:
        real_retrieve = a.retrieve

        def slow_retrieve(*args, **kwargs):
            start = time.perf_counter()
            time.sleep(0.5)
            out = real_retrieve(*args, **kwargs)
            spans["retrieve"] = (start, time.perf_counter())
            return out

        monkeypatch.setattr(a, "retrieve", slow_retrieve)
        result = a.ask("Who is the deputy mayor of Mariupol?")
    assert result.citations
    assert spans["reader thread"] != threading.current_thread().name
    (reader_start, reader_end), (retrieve_start, retrieve_end) = spans["reader"], spans["retrieve"]
    assert reader_start < retrieve_end and retrieve_start < reader_end  # the two overlapped

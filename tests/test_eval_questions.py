"""Question sets: the JSONL format, conversations, TREC qrels + queries; bad lines become problems."""

from __future__ import annotations

import json

import pytest
from conftest import DATA

from qa.errors import BadInputError
from qa.evaluation.questions import Evidence, load_question_set
from qa.evaluation.relevance import parse_unit, unit_id


def write(path, lines):
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def test_loads_the_seeds_question_set():
    qs = load_question_set(DATA / "seeds-dev.jsonl")
    assert len(qs.questions) == 33 and not qs.problems and not qs.conversations
    kinds = {q.kind for q in qs.questions}
    assert "unanswerable" in kinds
    for q in qs.questions:
        assert q.answerable == (q.kind != "unanswerable")


def test_loads_conversations():
    qs = load_question_set(DATA / "conversations-dev.jsonl")
    assert len(qs.conversations) == 3 and not qs.questions
    assert all(len(c.turns) >= 2 for c in qs.conversations)


def test_bad_lines_are_problems_not_crashes(tmp_path):
    path = write(tmp_path / "q.jsonl", [
        {"id": "a", "question": "Who?", "answers": ["x"], "evidence": [{"doc": "d.txt", "quote": "x y"}]},
        "{not json",
        {"id": "b"},
        {"id": "c", "question": "Why?", "evidence": [{"quote": "no doc"}]},
        {"id": "a", "question": "Again?"},
        "[1, 2]",
        {"question": "No id, doc-level", "evidence": [{"doc": "d.txt"}], "kind": "yesno"},
    ])
    qs = load_question_set(path)
    assert [q.id for q in qs.questions] == ["a", "7"]
    assert qs.questions[1].evidence == (Evidence("d.txt"),) and qs.questions[1].kind == "yesno"
    assert len(qs.problems) == 5
    assert any("line 2" in p and "malformed JSON" in p for p in qs.problems)
    assert any("line 5" in p and "duplicate id" in p for p in qs.problems)


def test_missing_or_empty_files_are_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="cannot read"):
        load_question_set(tmp_path / "nope.jsonl")
    with pytest.raises(BadInputError, match="no questions"):
        load_question_set(write(tmp_path / "empty.jsonl", ["", "{bad"]))


def test_trec_qrels_and_queries(tmp_path):
    queries = write(tmp_path / "queries.tsv", ["1\tWho is the deputy mayor?", "2\tWhat was looted?", "3\tUnjudged?"])
    qrels = write(tmp_path / "qrels.txt", ["1 0 000_a.txt 1", "1 0 003_b.txt 0", "2 0 000_a.txt 0", "9 0 x 1"])
    qs = load_question_set(queries, qrels=qrels)
    assert [(q.id, q.kind) for q in qs.questions] == [("1", "judged"), ("2", "unanswerable")]
    assert qs.questions[0].evidence == (Evidence("000_a.txt", None, 1),)
    assert len(qs.notes) == 2  # one unjudged query, one stray qrels id
    jq = write(tmp_path / "queries.jsonl", [{"_id": "1", "text": "Who?"}])
    assert load_question_set(jq, qrels=qrels).questions[0].question == "Who?"
    bad = write(tmp_path / "bad-qrels.txt", ["1 0 000_a.txt yes"])
    with pytest.raises(BadInputError, match="no judged queries"):
        load_question_set(queries, qrels=bad)


def test_unit_ids_are_whitespace_free_and_reversible():
    u = unit_id("my notes/a b@c.txt", 3, 17)
    assert not any(ch.isspace() for ch in u)
    assert parse_unit(u) == ("my notes/a b@c.txt", 3, 17)
    assert parse_unit("plain-docno") is None

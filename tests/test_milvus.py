"""The Milvus backend, on a real Milvus Lite (``pip install -e '.[milvus]'``; skipped without it).

The same end-to-end checks as the local backend: index, ask, batch, eval, update, remove,
writers killed mid-update, unreachable servers and unusable locations. Milvus Lite lets one
process at a time open a database, so each check runs ``qa`` in its own process or opens and
closes the index in this one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers_robust import (
    HashEncoder,
    assert_clean_failure,
    corpus_b,
    hashes,
    index_contents,
    run_qa,
    write_corpus,
)

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from qa.documents import read_documents  # noqa: E402
from qa.index import check_index, open_index, update_index  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS_DEV = Path(__file__).resolve().parent / "data" / "seeds-dev.jsonl"


def _location(tmp_path: Path, name: str = "lib.db") -> str:
    return f"milvus:{tmp_path / name}"


def _build(location: str, folder: Path, **options):
    return update_index(location, read_documents([folder]), HashEncoder, notify=lambda m: None, **options)


def _sentences_by_doc(location: str) -> dict[str, list[str]]:
    index = open_index(location)
    try:
        return {d.id: [s.text for s in index.document_sentences(d.id)] for d in index.documents()}
    finally:
        index.close()


def test_update_by_content_hash_adds_changes_and_removes(tmp_path):
    docs, where = tmp_path / "docs", _location(tmp_path)
    first = write_corpus(docs, n_docs=12)
    report = _build(where, docs)
    assert (report.added, report.sentences_embedded, report.committed) == (12, report.sentences_total, True)
    assert index_contents(where) == hashes(first)
    again = _build(where, docs)
    assert (again.unchanged, again.sentences_embedded, again.committed) == (12, 0, False)

    second = corpus_b(docs, n_docs=12)
    report = _build(where, docs)
    assert report.added == 5 and report.removed == 2 and report.changed == 3
    assert index_contents(where) == hashes(second)
    # only new and changed documents were embedded
    assert report.sentences_embedded == sum(len(v) for k, v in _sentences_by_doc(where).items()
                                            if k not in first or first[k] != second[k])
    assert check_index(where).sound, check_index(where).problems


def test_answers_and_citations_match_the_local_index(tmp_path):
    """Same corpus, same encoder: both backends rank and cite the same sentences, with the
    same scores (dense, BM25 over the same terms, MaxSim over the stored token vectors)."""
    from qa.assistant import Assistant

    docs = ROOT / "seeds"
    _build(tmp_path / "local", docs)
    _build(_location(tmp_path), docs)
    questions = ["Who spoke on a satellite phone?", "What is the city short of?",
                 "Which battalion holds the city?", "When did the talks take place?"]
    results = {}
    for name, where in (("local", tmp_path / "local"), ("milvus", _location(tmp_path))):
        with Assistant.open(where, encoder=HashEncoder(), threshold=0.0) as assistant:
            results[name] = [assistant.ask(q) for q in questions]
    for a, b in zip(results["local"], results["milvus"], strict=True):
        assert [(c.doc, c.start, c.end) for c in a.citations] == [(c.doc, c.start, c.end) for c in b.citations]
        assert [round(c.score, 3) for c in a.citations] == [round(c.score, 3) for c in b.citations]
        assert (a.answer.text if a.answer else None) == (b.answer.text if b.answer else None)


def test_cli_index_ask_batch_eval_on_the_seeds(tmp_path):
    """The real model through the CLI: citations reproduce their text, eval runs, and the
    numbers equal the local index's."""
    where = _location(tmp_path)
    ok = run_qa("index", ROOT / "seeds", "--index", where, "-q", fake=False)
    assert ok.returncode == 0, ok.stderr[-2000:]
    ask = run_qa("ask", "Who leads the Red Cross delegation in Mariupol?", "--index", where, "--json", fake=False)
    assert ask.returncode == 0, ask.stderr[-2000:]
    result = json.loads(ask.stdout)
    texts = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "seeds").iterdir()}
    assert result["citations"]
    for c in result["citations"]:
        assert texts[c["doc"]][c["start"] : c["end"]] == c["text"]
    batch = run_qa("batch", "--index", where, input=b"Who is Serhiy Orlov?\nWhere is the Azov Battalion?\n", fake=False)
    assert batch.returncode == 0, batch.stderr[-2000:]
    assert [json.loads(line)["question"] for line in batch.stdout.splitlines()] == [
        "Who is Serhiy Orlov?", "Where is the Azov Battalion?"]
    summaries = []
    for index in (where, "seeds"):
        ev = run_qa("eval", SEEDS_DEV, "--index", index, "--json", "--no-progress", fake=False)
        assert ev.returncode == 0, ev.stderr[-2000:]
        summaries.append(json.loads(ev.stdout))
    milvus, local = summaries
    for k in ("R@1", "R@5", "MRR@10"):
        assert abs(milvus["retrieval"][k] - local["retrieval"][k]) <= 0.02, (k, milvus["retrieval"], local["retrieval"])
    assert milvus["citations"]["wrong"] == 0


def test_remove_and_check(tmp_path):
    docs, where = tmp_path / "docs", _location(tmp_path)
    write_corpus(docs, n_docs=6)
    _build(where, docs)
    (docs / "doc002.txt").unlink()
    report = _build(where, docs)
    assert report.removed == 1 and report.documents_total == 5
    contents = index_contents(where)
    assert "doc002.txt" not in contents and len(contents) == 5
    checked = run_qa("index", "--check", where)
    assert checked.returncode == 0, checked.stderr[-2000:]


def test_killed_writer_leaves_each_document_complete_old_or_new(tmp_path):
    """kill -9 at many points of an update: readers see, for every document, all of its old
    sentences or all of its new ones; the next update finishes the job."""
    docs, where = tmp_path / "docs", _location(tmp_path)
    old = write_corpus(docs, n_docs=10, sentences=6)
    _build(where, docs)
    old_sentences = _sentences_by_doc(where)
    new = corpus_b(docs, n_docs=10)
    events = tmp_path / "events.txt"
    assert run_qa("index", docs, "--index", where, "-q", CITEQA_TEST_EVENTS=events).returncode == 0
    n_events = len(events.read_text().split())
    fresh = tmp_path / "fresh"
    _build(fresh, docs)
    new_sentences = _sentences_by_doc(str(fresh))
    # back to the old corpus, then kill the update to the new one at points across its writes, each
    # time from this index of the old corpus (a copy of its database, not another update back to it)
    write_corpus(docs, n_docs=10, sentences=6)
    assert run_qa("index", docs, "--index", where, "-q").returncode == 0
    database, old_database = tmp_path / "lib.db", tmp_path / "old.db"
    shutil.copytree(database, old_database)
    corpus_b(docs, n_docs=10)
    for kill_at in sorted({1, 2, 3, n_events // 3, n_events // 2, n_events - 2, n_events - 1}):
        shutil.rmtree(database)
        shutil.copytree(old_database, database)
        proc = run_qa("index", docs, "--index", where, "-q", CITEQA_TEST_KILL_AT=kill_at)
        assert proc.returncode in (-9, 0), proc.stderr[-2000:]
        seen = _sentences_by_doc(where)
        contents = index_contents(where)
        assert set(contents) in (set(old), set(new)), kill_at
        for doc, sentences in seen.items():
            version = "old" if contents[doc] == hashes(old).get(doc) else "new"
            assert contents[doc] == hashes(old if version == "old" else new)[doc]
            assert sentences == (old_sentences if version == "old" else new_sentences)[doc], (kill_at, doc)
        # the next update completes it
        assert run_qa("index", docs, "--index", where, "-q").returncode == 0
        assert index_contents(where) == hashes(new)
    # and the index it left takes the next update: back to the old corpus
    write_corpus(docs, n_docs=10, sentences=6)
    assert run_qa("index", docs, "--index", where, "-q").returncode == 0
    assert index_contents(where) == hashes(old)
    assert check_index(where).sound


def test_unreachable_server_and_bad_locations_fail_in_one_line(tmp_path):
    down = run_qa("ask", "Who?", "--index", "milvus:http://127.0.0.1:9")
    assert_clean_failure(down, 3, "cannot reach Milvus at http://127.0.0.1:9")
    down = run_qa("index", tmp_path, "--index", "milvus:http://127.0.0.1:9")
    assert_clean_failure(down, 3, "cannot reach Milvus")
    assert_clean_failure(run_qa("index", "--check", "milvus:http://127.0.0.1:9"), 3, "cannot reach Milvus")
    missing = run_qa("ask", "Who?", "--index", _location(tmp_path, "none.db"))
    assert_clean_failure(missing, 3, "no index at")
    assert_clean_failure(run_qa("ask", "Who?", "--index", "milvus:lib"), 2, ".db")
    assert_clean_failure(run_qa("ask", "Who?", "--index", "milvus:x.db?collection=no-dash"), 2, "collection")
    write_corpus(tmp_path / "docs", n_docs=2)
    (tmp_path / "a-file").write_text("not a database")
    nowhere = run_qa("index", tmp_path / "docs", "--index", f"milvus:{tmp_path}/a-file/x.db")
    assert_clean_failure(nowhere, 3, "a-file")


def test_a_database_in_use_by_another_process_is_refused_clearly(tmp_path):
    docs, where = tmp_path / "docs", _location(tmp_path)
    write_corpus(docs, n_docs=3)
    _build(where, docs)
    index = open_index(where)  # this process holds Milvus Lite's lock while it is open
    try:
        busy = run_qa("ask", "Who opened the gate?", "--index", where)
        assert_clean_failure(busy, 3, "one process at a time")
    finally:
        index.close()
    assert run_qa("ask", "Who opened the gate?", "--index", where).returncode == 0



def test_spelling_vocabulary_matches_the_local_index(tmp_path):
    """Both backends give the same term counts, so a misspelt question is read the same way."""
    from qa.spelling import _stem, understood_as

    docs = ROOT / "seeds"
    _build(tmp_path / "local", docs)
    _build(_location(tmp_path), docs)
    terms = _stem(["foreign", "minister", "ukraine", "mariupol", "kuleba", "zzzz", "forein"])
    question = "Who is the forein minster of Ukrane?"
    seen = {}
    for name, where in (("local", tmp_path / "local"), ("milvus", _location(tmp_path))):
        index = open_index(where)
        try:
            seen[name] = (index.term_counts(terms), understood_as(index, question))
        finally:
            index.close()
    assert seen["local"] == seen["milvus"]
    counts, understood = seen["local"]
    assert set(counts) == set(_stem(["foreign", "minister", "ukraine", "mariupol", "kuleba"]))
    assert understood == "Who is the foreign minister of Ukraine?"

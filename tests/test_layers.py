"""Index layers: an update writes a delta over an untouched base; compaction folds it back.

* After adds, changes, removals and renames written as deltas (one after another),
  the index holds the same documents as a fresh build, dense retrieval returns the
  same top-k sentences, and BM25 scores equal a fresh build's up to float rounding.
* The base's files are not touched by a delta write.
* Past ``DELTA_MAX_FRACTION`` the write compacts: one new base, no delta, same results.
* ``qa index --check`` checks the delta's files and tombstones too.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from helpers_robust import HashEncoder, build_index, index_contents, snapshot, write_corpus

import qa.index.layout
from qa.index import check_index, open_index
from qa.index.local import LocalIndex

QUESTIONS = [
    "Who opened the northern gate of the harbour?",
    "When did engineers finish the stone bridge?",
    "How many atlases did the library receive?",
    "What did farmers pick in the orchard while the bells rang?",
    "Which council member voted against the tax on salt?",
    "Who keeps the lighthouse on the island?",
    "What was amended by the clerk?",
    "bridge number 1203 months",
    "harbour master 305 dawn",
    "salt and wool",
]


@pytest.fixture
def delta_friendly(monkeypatch):
    """Small test corpora: let deltas grow to half the base before compacting."""
    monkeypatch.setattr(qa.index.layout, "DELTA_MAX_FRACTION", 0.5)


def _change_a_little(docs: Path, round_: int) -> None:
    """Add one document, change one, remove one, rename nothing (the ids are file names)."""
    (docs / f"doc{3 + round_:03d}.txt").unlink()
    changed = docs / f"doc{10 + round_:03d}.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + f"A late note {round_}: the gate was repainted.\n",
                       encoding="utf-8")
    (docs / f"new{round_}.txt").write_text(
        f"Keeper {round_} of the lighthouse on the island counts ships.\nThe lamp burns whale oil {round_} nights.\n",
        encoding="utf-8",
    )


def _key(store: LocalIndex, ids) -> list[tuple[str, int, int]]:
    return [(s.doc, s.start, s.end) for s in store.sentences(int(i) for i in ids if i >= 0)]


def assert_same_retrieval(layered: Path, fresh: Path, k: int = 10) -> None:
    """Dense top-k identical; BM25 scores per sentence equal (to float rounding)."""
    enc = HashEncoder()
    a, b = open_index(layered), open_index(fresh)
    try:
        assert a.layered and not b.layered
        assert len(a) == len(b) and a.manifest["documents"] == b.manifest["documents"]
        assert sorted(_key(a, a.vector_index.ids())) == sorted(_key(b, b.vector_index.ids()))
        for q in QUESTIONS:
            v = enc.encode([q])
            sa, ia = a.vector_index.search(v, k)
            sb, ib = b.vector_index.search(v, k)
            assert np.allclose(sa, sb, atol=1e-5), q
            # same sentences (the templated corpus has exact ties: those at the k-th score may differ)
            cut = sa[0][-1] + 1e-5
            assert {x for x, s in zip(_key(a, ia[0]), sa[0], strict=True) if s > cut} == {
                x for x, s in zip(_key(b, ib[0]), sb[0], strict=True) if s > cut
            }, q
            # BM25: every sentence's score equals the fresh build's
            fa, fb = a.bm25.scores(q), b.bm25.scores(q)
            by_a = dict(zip(_key(a, a.bm25.ids), fa, strict=True))
            by_b = dict(zip(_key(b, b.bm25.ids), fb, strict=True))
            assert by_a.keys() == by_b.keys()
            diff = max(abs(float(by_a[x]) - float(by_b[x])) for x in by_a)
            assert diff < 1e-4, (q, diff)
            assert np.isclose(a.bm25.idf("harbour"), b.bm25.idf("harbour"))
    finally:
        a.close()
        b.close()


def test_deltas_match_a_fresh_build(tmp_path, delta_friendly):
    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=40)
    index = tmp_path / "index"
    build_index(index, docs)
    base_files = json.loads((index / "manifest.json").read_text())["files"]
    base_snapshot = {k: v for k, v in snapshot(index).items() if k.split("/")[0] in base_files.values()}
    for round_ in range(3):  # delta over base, then delta over delta
        _change_a_little(docs, round_)
        report = build_index(index, docs)
        assert report.committed and (report.added, report.changed, report.removed) == (1, 1, 1)
        manifest = json.loads((index / "manifest.json").read_text())
        assert manifest["files"]["db"] == base_files["db"] and "delta_db" in manifest["files"]
        assert manifest["base_generation"] == 1 and manifest["generation"] == 2 + round_
        # the base's files are untouched; only the current delta's exist beside them
        assert {k: v for k, v in snapshot(index).items() if k.split("/")[0] in base_files.values()} == base_snapshot
        names = {p.name for p in index.iterdir()} - {"manifest.json", ".lock"}
        assert names == set(manifest["files"].values())
        assert check_index(index).sound, check_index(index).problems
    fresh = tmp_path / "fresh"
    build_index(fresh, docs)
    assert index_contents(index) == index_contents(fresh)
    assert_same_retrieval(index, fresh)


def test_delta_only_embeds_the_change(tmp_path, delta_friendly):
    from qa.documents import read_documents
    from qa.index import update_index

    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=40)
    build_index(tmp_path / "index", docs)
    (docs / "extra.txt").write_text("One more document here.", encoding="utf-8")
    (docs / "doc007.txt").unlink()
    enc = HashEncoder()
    report = update_index(tmp_path / "index", read_documents([docs]), lambda: enc, notify=lambda m: None)
    assert report.added == 1 and report.removed == 1 and enc.encoded == ["One more document here."]
    assert open_index(tmp_path / "index").layered


def test_removing_a_document_added_in_a_delta_and_renames(tmp_path, delta_friendly):
    """A document added in one delta and removed in the next leaves the delta; a base document
    read from another path keeps its vectors and shows the new path."""
    from qa.documents import read_documents
    from qa.index import update_index

    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=40)
    index = tmp_path / "index"
    build_index(index, docs)
    (docs / "later.txt").write_text("Temporary note about the harbour gate keys.\n", encoding="utf-8")
    build_index(index, docs)
    (docs / "later.txt").unlink()
    (docs / "doc001.txt").unlink()
    moved = tmp_path / "moved"
    shutil.copytree(docs, moved)
    enc = HashEncoder()
    report = update_index(index, read_documents([moved]), lambda: enc, notify=lambda m: None)
    assert (report.added, report.changed, report.removed) == (0, 0, 2) and enc.encoded == []
    store = open_index(index)
    assert store.layered and store.sizes["delta_sentences"] == 0
    assert {d.path for d in store.documents()} == {str(p) for p in moved.glob("*.txt")}
    assert store.document("doc002.txt").path == str(moved / "doc002.txt")
    store.close()
    assert check_index(index).sound
    fresh = tmp_path / "fresh"
    build_index(fresh, moved)
    assert index_contents(index) == index_contents(fresh)
    assert_same_retrieval(index, fresh)


def test_compaction_past_the_fraction(tmp_path, monkeypatch):
    monkeypatch.setattr(qa.index.layout, "DELTA_MAX_FRACTION", 0.1)
    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=40)  # 40 documents of 13 sentences: a delta holds up to 52
    index = tmp_path / "index"
    build_index(index, docs)
    _change_a_little(docs, 0)  # 13 + 14 new, 13 + 13 removed: 53 > 52
    (docs / "doc030.txt").unlink()
    _change_a_little(docs, 1)
    # first a smaller change (a delta), then one that crosses the line (compaction)
    monkeypatch.setattr(qa.index.layout, "DELTA_MAX_FRACTION", 0.2)
    build_index(index, docs)
    assert open_index(index).layered
    _change_a_little(docs, 2)
    monkeypatch.setattr(qa.index.layout, "DELTA_MAX_FRACTION", 0.1)
    build_index(index, docs)
    manifest = json.loads((index / "manifest.json").read_text())
    assert "delta_db" not in manifest["files"] and manifest["base_generation"] == manifest["generation"] == 3
    assert {p.name for p in index.iterdir()} - {"manifest.json", ".lock"} == set(manifest["files"].values())
    assert check_index(index).sound
    fresh = tmp_path / "fresh"
    build_index(fresh, docs)
    assert index_contents(index) == index_contents(fresh)
    a, b = open_index(index), open_index(fresh)
    enc = HashEncoder()
    for q in QUESTIONS:
        v = enc.encode([q])
        (sa, ia), (sb, ib) = a.vector_index.search(v, 10), b.vector_index.search(v, 10)
        cut = sa[0][-1] + 1e-5
        assert np.allclose(sa, sb, atol=1e-5)
        assert {x for x, s in zip(_key(a, ia[0]), sa[0], strict=True) if s > cut} == {
            x for x, s in zip(_key(b, ib[0]), sb[0], strict=True) if s > cut
        }
        assert np.allclose(np.sort(a.bm25.scores(q)), np.sort(b.bm25.scores(q)), atol=1e-5)
    # token vectors survive compaction: the kept sentences' are copied, not re-encoded
    assert a.token_vectors is not None and len(a.token_vectors) == len(a)
    a.close()
    b.close()


def test_answers_and_token_vectors_through_a_delta(tmp_path, delta_friendly):
    from qa import Assistant

    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=40)
    index = tmp_path / "index"
    build_index(index, docs)
    (docs / "isle.txt").write_text("The lighthouse keeper of Inish Mor is named Orla Byrne.\n", encoding="utf-8")
    build_index(index, docs)
    with Assistant.open(index, encoder=HashEncoder(), threshold=0.0) as a:
        tokens = a.store.token_vectors
        assert tokens is not None and len(tokens) == len(a.store)
        new = a.store.document_sentences("isle.txt")
        assert new and all(tokens.get(s.id) is not None for s in new)
        r = a.ask("Who is the lighthouse keeper of Inish Mor?")
        assert r.citations[0].doc == "isle.txt"
        for c in r.citations:
            assert a.store.text(c.doc)[c.start : c.end] == c.text


# -- qa index --check on a layered index ---------------------------------------------------


@pytest.fixture
def layered_index(tmp_path, delta_friendly) -> Path:
    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=40)
    index = tmp_path / "index"
    build_index(index, docs)
    _change_a_little(docs, 0)
    build_index(index, docs)
    assert check_index(index).sound
    return index


def _files(index: Path) -> dict:
    return json.loads((index / "manifest.json").read_text())["files"]


def _sql(index: Path, sql: str) -> None:
    db = sqlite3.connect(index / _files(index)["delta_db"])
    db.execute(sql)
    db.commit()
    db.close()


DELTA_DAMAGE = {
    "delta SQLite pages overwritten": (
        lambda ix: (ix / _files(ix)["delta_db"]).write_bytes((ix / _files(ix)["delta_db"]).read_bytes()[:4096]
                                                             + b"\xff" * 8192),
        ("delta-",),
    ),
    "delta FAISS file truncated": (
        lambda ix: (ix / _files(ix)["delta_vectors"]).write_bytes(b"IxM2" + b"\x00" * 20),
        ("dvectors-",),
    ),
    "delta FAISS file deleted": (lambda ix: (ix / _files(ix)["delta_vectors"]).unlink(), ("dvectors-", "missing")),
    "tombstone dropped": (lambda ix: _sql(ix, "DELETE FROM removed_sentences WHERE id = "
                                              "(SELECT min(id) FROM removed_sentences)"), ("removed",)),
    "tombstone for a sentence that is not removed": (
        lambda ix: _sql(ix, "INSERT INTO removed_sentences (id) VALUES (1)"), ("removed sentence",)),
    "delta text tampered": (
        lambda ix: _sql(ix, "UPDATE documents SET text = 'X' || substr(text, 2) WHERE id = 'new0.txt'"),
        ("sha256",),
    ),
    "delta sentence without a vector": (
        lambda ix: _sql(ix, "INSERT INTO sentences (id, doc, start, end, line) "
                            "SELECT max(id) + 1, 'new0.txt', 0, 5, 1 FROM sentences"),
        ("without a vector",),
    ),
    "delta BM25 ids replaced": (
        lambda ix: np.save(ix / _files(ix)["delta_bm25"] / "ids.npy", np.arange(3, dtype=np.int64)),
        ("dbm25-",),
    ),
    "delta token index replaced": (
        lambda ix: np.save(ix / _files(ix)["delta_tokidx"], np.zeros((1, 3), np.int64)),
        ("dtokidx-",),
    ),
}


@pytest.mark.parametrize("damage", list(DELTA_DAMAGE))
def test_check_reports_damage_to_delta_files(layered_index, damage):
    from helpers_robust import assert_clean_failure, run_qa

    harm, needles = DELTA_DAMAGE[damage]
    harm(layered_index)
    before = snapshot(layered_index)
    report = check_index(layered_index)
    assert not report.sound
    text = " | ".join(report.problems)
    for needle in needles:
        assert needle in text, text
    proc = run_qa("index", "--check", str(layered_index))
    assert_clean_failure(proc, 3, "rebuild")
    assert snapshot(layered_index) == before

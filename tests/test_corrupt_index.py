"""Corrupt index files: a clear one-line error naming the rebuild command, exit 3,
and no file deleted or overwritten. ``qa index --check`` lists what is wrong."""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path

import pytest
from helpers_robust import assert_clean_failure, build_index, run_qa, snapshot, write_corpus

from qa.errors import IndexProblem
from qa.index import check_index, open_index

QUESTION = "Who opened the northern gate of the harbour?"


@pytest.fixture(scope="module")
def good_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corrupt")
    write_corpus(root / "docs", n_docs=12)
    build_index(root / "index", root / "docs")
    return root / "index"


@pytest.fixture
def index(good_index, tmp_path) -> Path:
    dest = tmp_path / "index"
    shutil.copytree(good_index, dest)
    return dest


def _file(index: Path, key: str) -> Path:
    return index / json.loads((index / "manifest.json").read_text())["files"][key]


def _truncate_faiss(index: Path) -> None:
    p = _file(index, "vectors")
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _empty_faiss(index: Path) -> None:
    _file(index, "vectors").write_bytes(b"")


def _garbage_faiss(index: Path) -> None:
    p = _file(index, "vectors")
    p.write_bytes(os.urandom(p.stat().st_size))


def _huge_count_faiss(index: Path) -> None:
    """A FAISS file that claims 2**40 vectors: must be refused, not allocated."""
    p = _file(index, "vectors")
    data = bytearray(p.read_bytes())
    data[8:16] = struct.pack("<q", 1 << 40)
    inner = data.index(b"IxFI")
    data[inner + 8 : inner + 16] = struct.pack("<q", 1 << 40)
    p.write_bytes(bytes(data))


def _wrong_dim_faiss(index: Path) -> None:
    import numpy as np

    from embeddings.index import VectorIndex

    v = VectorIndex(8)
    v.add(np.eye(8, dtype=np.float32), np.arange(8))
    v.save(_file(index, "vectors"))


def _sqlite_header(index: Path) -> None:
    p = _file(index, "db")
    data = bytearray(p.read_bytes())
    data[:100] = b"\xff" * 100
    p.write_bytes(bytes(data))


def _sqlite_pages(index: Path) -> None:
    """Every page after the first overwritten with noise (the schema page survives)."""
    p = _file(index, "db")
    data = bytearray(p.read_bytes())
    data[4096:] = os.urandom(len(data) - 4096)
    p.write_bytes(bytes(data))


def _truncate_sqlite(index: Path) -> None:
    p = _file(index, "db")
    p.write_bytes(p.read_bytes()[:5000])


def _delete_db(index: Path) -> None:
    _file(index, "db").unlink()


def _delete_manifest(index: Path) -> None:
    (index / "manifest.json").unlink()


def _garbage_manifest(index: Path) -> None:
    (index / "manifest.json").write_bytes(b'{"format": "citeqa-index", \xff\x00')


def _manifest_bad_types(index: Path) -> None:
    m = json.loads((index / "manifest.json").read_text())
    m["sentences"] = "many"
    (index / "manifest.json").write_text(json.dumps(m))


def _manifest_path_escape(index: Path) -> None:
    m = json.loads((index / "manifest.json").read_text())
    m["files"]["db"] = "../../etc/passwd"
    (index / "manifest.json").write_text(json.dumps(m))


def _manifest_wrong_counts(index: Path) -> None:
    m = json.loads((index / "manifest.json").read_text())
    m["sentences"] += 1
    (index / "manifest.json").write_text(json.dumps(m))


def _nested_manifest(index: Path) -> None:
    (index / "manifest.json").write_text("[" * 100_000)


def _huge_manifest(index: Path) -> None:
    m = json.loads((index / "manifest.json").read_text())
    m["padding"] = "x" * 5_000_000
    (index / "manifest.json").write_text(json.dumps(m))


DAMAGE = {
    "truncated FAISS file": _truncate_faiss,
    "empty FAISS file": _empty_faiss,
    "random FAISS file": _garbage_faiss,
    "FAISS file claiming 2**40 vectors": _huge_count_faiss,
    "FAISS file of another dimension": _wrong_dim_faiss,
    "SQLite header overwritten": _sqlite_header,
    "SQLite pages overwritten": _sqlite_pages,
    "truncated SQLite file": _truncate_sqlite,
    "SQLite file deleted": _delete_db,
    "missing manifest": _delete_manifest,
    "manifest not JSON": _garbage_manifest,
    "manifest with wrong types": _manifest_bad_types,
    "manifest nested 100000 deep": _nested_manifest,
    "manifest of 5 MB": _huge_manifest,
    "manifest naming a file outside the index": _manifest_path_escape,
    "manifest counts disagree with the files": _manifest_wrong_counts,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_ask_on_damaged_index_fails_clearly(index, damage):
    DAMAGE[damage](index)
    before = snapshot(index)
    proc = run_qa("ask", QUESTION, "--index", str(index))
    line = assert_clean_failure(proc, 3, "qa index")
    assert str(index) in line
    assert snapshot(index) == before, "a failed read changed the index folder"


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_check_names_the_problem(index, damage):
    DAMAGE[damage](index)
    before = snapshot(index)
    report = check_index(index)
    assert not report.sound
    proc = run_qa("index", "--check", str(index))
    assert_clean_failure(proc, 3, "rebuild")
    assert "qa: " in proc.stderr and len(proc.stderr.splitlines()) >= 2  # the problems, then the error line
    assert snapshot(index) == before


@pytest.mark.parametrize("damage", ["truncated FAISS file", "SQLite header overwritten", "manifest not JSON"])
def test_update_of_damaged_index_refuses_and_keeps_files(index, tmp_path, damage):
    """``qa index`` into a damaged index stops with the rebuild command; nothing is deleted."""
    DAMAGE[damage](index)
    docs = tmp_path / "more"
    write_corpus(docs, n_docs=3)
    before = snapshot(index)
    proc = run_qa("index", str(docs), "--index", str(index))
    assert_clean_failure(proc, 3, "--rebuild")
    after = snapshot(index)
    after.pop(".lock", None)
    before.pop(".lock", None)
    assert after == before


def test_batch_on_damaged_index(index, tmp_path):
    _truncate_faiss(index)
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "1", "question": QUESTION}) + "\n")
    proc = run_qa("batch", str(questions), "--index", str(index))
    assert_clean_failure(proc, 3, "--rebuild")


def test_rebuild_repairs_a_damaged_index(index, tmp_path):
    _sqlite_header(index)
    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=4)
    proc = run_qa("index", str(docs), "--index", str(index), "--rebuild", "-q")
    assert proc.returncode == 0, proc.stderr
    assert check_index(index).sound
    assert run_qa("index", "--check", str(index)).returncode == 0


def test_sound_index_passes_check(good_index):
    before = snapshot(good_index)
    report = check_index(good_index)
    assert report.sound, report.problems
    assert report.vectors == report.sentences > 0
    proc = run_qa("index", "--check", str(good_index))
    assert proc.returncode == 0 and "sound" in proc.stdout
    assert snapshot(good_index) == before


def test_check_finds_tampered_text(index):
    """A document text edited inside the database: its sha256 no longer matches."""
    import sqlite3

    db = sqlite3.connect(_file(index, "db"))
    db.execute("UPDATE documents SET text = 'X' || substr(text, 2) WHERE id = 'doc003.txt'")
    db.commit()
    db.close()
    problems = check_index(index).problems
    assert any("doc003.txt" in p and "sha256" in p for p in problems), problems


def test_check_finds_spans_outside_text_and_missing_vectors(index):
    import sqlite3

    db = sqlite3.connect(_file(index, "db"))
    db.execute("UPDATE sentences SET end = 10000000 WHERE id = 3")
    db.execute("INSERT INTO sentences (doc, start, end, line, page) VALUES ('doc001.txt', 0, 5, 1, NULL)")
    db.commit()
    db.close()
    m = json.loads((index / "manifest.json").read_text())
    m["sentences"] += 1
    (index / "manifest.json").write_text(json.dumps(m))
    problems = " | ".join(check_index(index).problems)
    assert "outside its text" in problems
    assert "sentence(s) without a vector" in problems
    # opening refuses the inconsistent index rather than answering from it
    with pytest.raises(IndexProblem, match="rebuild"):
        open_index(index)


def test_check_of_missing_folder(tmp_path):
    proc = run_qa("index", "--check", str(tmp_path / "nowhere"))
    assert_clean_failure(proc, 3)
    assert not (tmp_path / "nowhere").exists()


def test_index_files_hold_no_pickle(good_index):
    """Index files are JSON, SQLite, FAISS and .npy: no pickle opcodes at the start of any file."""
    import numpy as np

    for p in good_index.rglob("*"):
        if not p.is_file() or p.name == ".lock":
            continue
        head = p.read_bytes()[:2]
        assert head not in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"), f"{p.name} looks like a pickle"
        if p.suffix == ".npy":
            np.load(p, allow_pickle=False)  # raises if the array holds Python objects


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE sentences SET start = 'abc' WHERE id IN (SELECT id FROM sentences)",
        "UPDATE sentences SET end = 99999999 WHERE id IN (SELECT id FROM sentences)",
        "UPDATE sentences SET doc = 'no-such-doc' WHERE id IN (SELECT id FROM sentences)",
        "UPDATE documents SET text = x'00ff' WHERE id IN (SELECT id FROM documents)",
    ],
    ids=["text offset", "offset past the end", "unknown document", "blob text"],
)
def test_rows_of_wrong_type_or_range_are_refused(index, sql):
    """Index files from others: rows are checked before use; one line, exit 3."""
    import sqlite3

    db = sqlite3.connect(_file(index, "db"))
    db.execute(sql)
    db.commit()
    db.close()
    proc = run_qa("ask", QUESTION, "--index", str(index))
    assert_clean_failure(proc, 3, "rebuild")
    assert not check_index(index).sound


def test_check_finds_missing_further_files(index):
    """Files the manifest names besides the database and vectors (token vectors, BM25...)."""
    m = json.loads((index / "manifest.json").read_text())
    m["files"]["extra"] = "extra-000001.npy"
    m["files"]["evil"] = "../outside"
    (index / "manifest.json").write_text(json.dumps(m))
    problems = " | ".join(check_index(index).problems)
    assert "extra-000001.npy" in problems and "missing" in problems
    assert "invalid 'evil' file" in problems

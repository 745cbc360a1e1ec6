"""The personal library (issue 16): `qa index PATH` without --index adds PATH to a library in the
user data folder, syncs one root at a time, never drops a root's documents unasked, and leaves the
bundled seeds index alone; plus what `qa index` says about skipped files and empty indexes."""

from __future__ import annotations

import json

import pytest
from conftest import SEEDS
from helpers_robust import assert_clean_failure, run_qa

from qa.index import open_index


@pytest.fixture
def env(tmp_path):
    """Each test its own data (library) and cache (seeds index) folders."""
    return {"CITEQA_DATA": str(tmp_path / "data"), "CITEQA_CACHE": str(tmp_path / "cache")}


def qa(env, *args, **kw):
    return run_qa(*args, **env, **kw)


def library_docs(env) -> set[str]:
    from pathlib import Path

    store = open_index(Path(env["CITEQA_DATA"]) / "library")
    try:
        return {d.id for d in store.documents()}
    finally:
        store.close()


def folder(tmp_path, name, files: dict[str, str]):
    root = tmp_path / name
    root.mkdir()
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_second_folder_keeps_the_first_and_seeds_index_is_untouched(tmp_path, env):
    a = folder(tmp_path, "notes", {"harbour.txt": "The harbour gate was opened by Anna Berg in 1921.\n"})
    b = folder(tmp_path, "mail", {"ferry.txt": "The ferry to Visby leaves at noon.\n"})
    assert qa(env, "index", str(a), "-q").returncode == 0
    proc = qa(env, "index", str(b), "-q")
    assert proc.returncode == 0, proc.stderr
    assert library_docs(env) == {"notes/harbour.txt", "mail/ferry.txt"}
    assert not (tmp_path / "cache" / "seeds-index").exists()  # the seeds demo was not replaced
    listed = qa(env, "index", "--list")
    assert listed.returncode == 0
    assert f"{a}  as notes/: 1 document, 1 sentence" in listed.stdout
    assert f"{b}  as mail/: 1 document, 1 sentence" in listed.stdout


def test_resyncing_a_root_touches_only_that_root(tmp_path, env):
    a = folder(tmp_path, "a", {"one.txt": "First file.\n", "two.txt": "Second file.\n"})
    b = folder(tmp_path, "b", {"three.txt": "Third file.\n"})
    qa(env, "index", str(a), "-q")
    qa(env, "index", str(b), "-q")
    (a / "two.txt").unlink()
    (b / "three.txt").unlink()
    (b / "four.txt").write_text("Fourth file.\n", encoding="utf-8")
    assert qa(env, "index", str(a), "-q").returncode == 0
    # a's removal is synced; b's changes wait until b is re-indexed: its document is still there
    assert library_docs(env) == {"a/one.txt", "b/three.txt"}
    import shutil

    shutil.rmtree(b)  # even a root that is gone keeps its documents until removed
    assert qa(env, "index", str(a), "-q").returncode == 0
    assert "b/three.txt" in library_docs(env)
    assert "folder not found" in qa(env, "index", "--list").stdout
    assert qa(env, "index", "--remove", str(b)).returncode == 0
    assert library_docs(env) == {"a/one.txt"}


def test_same_folder_name_twice_gets_its_own_prefix(tmp_path, env):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a = folder(tmp_path / "x", "docs", {"a.txt": "Alpha.\n"})
    b = folder(tmp_path / "y", "docs", {"a.txt": "Beta.\n"})
    qa(env, "index", str(a), "-q")
    qa(env, "index", str(b), "-q")
    assert library_docs(env) == {"docs/a.txt", "docs-2/a.txt"}


def test_ask_answers_from_the_library_and_says_so(tmp_path, env):
    a = folder(tmp_path, "notes", {"harbour.txt": "The harbour gate was opened by Anna Berg in 1921.\n"})
    qa(env, "index", str(a), "-q")
    proc = qa(env, "ask", "Who opened the harbour gate?", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "answering from your library" in proc.stderr
    assert json.loads(proc.stdout)["citations"][0]["doc"] == "notes/harbour.txt"


def test_index_seeds_is_refused_for_indexing(tmp_path, env):
    a = folder(tmp_path, "notes", {"a.txt": "Alpha.\n"})
    assert_clean_failure(qa(env, "index", str(a), "--index", "seeds"), 2, "library")


def test_unknown_types_are_summarised_with_how_to_read_them(tmp_path, env):
    a = folder(tmp_path, "odd", {"README": "Plain text without an extension.\n", "notes.log": "A log line.\n"})
    (a / "prog.bin").write_bytes(b"\x00\x01\x02binary")
    proc = qa(env, "index", str(a))
    assert proc.returncode == 0, proc.stderr
    assert "odd/README" in library_docs(env)  # sniffed as UTF-8 text
    assert "2 files of unknown type" in proc.stderr and ".bin (prog.bin)" in proc.stderr
    assert "--ext" in proc.stderr
    assert qa(env, "index", str(a), "--ext", "log=txt", "-q").returncode == 0
    assert "odd/notes.log" in library_docs(env)


def test_nothing_readable_is_an_error_and_writes_nothing(tmp_path, env):
    a = folder(tmp_path, "bins", {})
    (a / "prog.bin").write_bytes(b"\x00\x01")
    (a / "data.bin").write_bytes(b"\x00\x02")
    line = assert_clean_failure(qa(env, "index", str(a)), 2, "no readable documents", "--ext bin=txt")
    assert "2 .bin" in line
    assert not (tmp_path / "data" / "library" / "manifest.json").exists()
    # an --index DIR keeps its previous content
    good = folder(tmp_path, "good", {"a.txt": "Alpha.\n"})
    index = tmp_path / "idx"
    assert qa(env, "index", str(good), "--index", str(index), "-q").returncode == 0
    assert_clean_failure(qa(env, "index", str(a), "--index", str(index)), 2, "no readable documents")
    store = open_index(index)
    assert [d.id for d in store.documents()] == ["a.txt"]
    store.close()


def test_empty_index_says_so_and_how_to_fill_it(tmp_path, env):
    from qa.index import update_index

    index = tmp_path / "empty-index"
    update_index(index, [], lambda: None, notify=lambda m: None)
    line = assert_clean_failure(qa(env, "ask", "What is alpha?", "--index", str(index)), 3, "holds no documents")
    assert f"qa index PATH... --index {index}" in line


def test_a_library_with_every_folder_removed_hands_back_to_the_demo(tmp_path, env):
    a = folder(tmp_path, "notes", {"a.txt": "Alpha.\n"})
    qa(env, "index", str(a), "-q")
    qa(env, "index", "--remove", str(a))
    proc = qa(env, "ask", "Who is the deputy mayor of Mariupol?", "--json")
    assert proc.returncode == 0 and "bundled seeds demo" in proc.stderr


def test_malformed_jsonl_lines_exit_2_in_index_as_in_batch(tmp_path, env):
    a = folder(tmp_path, "corpus", {"c.jsonl": '{"id": "1", "text": "Good line."}\n{not json\n'})
    proc = qa(env, "index", str(a), "-q")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "c.jsonl:2" in proc.stderr
    assert library_docs(env) == {"corpus/1"}  # the rest was indexed


def test_index_pointing_at_a_file_gives_a_hint_that_works(tmp_path, env):
    f = tmp_path / "not-an-index.txt"
    f.write_text("x", encoding="utf-8")
    line = assert_clean_failure(qa(env, "ask", "Who?", "--index", str(f)), 3, "is a file")
    assert f"--index {f}" not in line.split("is a file")[1]  # no command that would fail again


def test_damaged_library_hint_rebuilds_from_its_roots(tmp_path, env):
    a = folder(tmp_path, "notes", {"a.txt": "The harbour gate was opened by Anna Berg.\n"})
    qa(env, "index", str(a), "-q")
    lib = tmp_path / "data" / "library"
    db = next(lib.glob("docs-*.sqlite"))
    db.write_bytes(b"garbage" * 100)
    proc = qa(env, "ask", "Who opened the gate?")
    assert proc.returncode == 3 and "qa index --rebuild" in proc.stderr
    assert qa(env, "index", "--rebuild", "-q").returncode == 0
    assert library_docs(env) == {"notes/a.txt"}


def test_doc_scopes_ask_batch_and_eval(tmp_path, env):
    a = folder(
        tmp_path,
        "notes",
        {"harbour/gate.txt": "The harbour gate was opened by Anna Berg in 1921.\n",
         "ferry.txt": "The harbour ferry was run by Tomas Lind.\n"},
    )
    qa(env, "index", str(a), "-q")
    for scope in ("notes/ferry.txt", str(a / "ferry.txt")):  # an id, or the path on disk
        proc = qa(env, "ask", "Who opened the harbour gate?", "--doc", scope, "--json")
        assert proc.returncode == 0, proc.stderr
        assert {c["doc"] for c in json.loads(proc.stdout)["citations"]} == {"notes/ferry.txt"}
    proc = qa(env, "ask", "Who ran the ferry?", "--doc", "notes/harbour", "--json")  # a folder prefix
    assert {c["doc"] for c in json.loads(proc.stdout)["citations"]} == {"notes/harbour/gate.txt"}
    batch = qa(env, "batch", "--doc", "notes/harbour", input=b"Who ran the ferry?\n")
    assert batch.returncode == 0
    assert {c["doc"] for c in json.loads(batch.stdout)["citations"]} == {"notes/harbour/gate.txt"}
    assert_clean_failure(qa(env, "ask", "Who?", "--doc", "notes/nothing-here"), 2, "--doc notes/nothing-here")


def test_index_seeds_still_answers_from_the_demo_with_a_library(tmp_path, env):
    a = folder(tmp_path, "notes", {"a.txt": "The harbour gate was opened by Anna Berg in 1921.\n"})
    assert qa(env, "index", str(a), "-q").returncode == 0
    proc = run_qa("ask", "Who is the deputy mayor of Mariupol?", "--index", "seeds", "--json", fake=False, **env)
    assert proc.returncode == 0, proc.stderr
    assert "bundled seeds demo" in proc.stderr
    out = json.loads(proc.stdout)
    seeds = {p.name for p in SEEDS.glob("*.txt")}
    assert out["answer"] is not None and out["answer"]["doc"] in seeds  # answered from the demo
    assert any("Serhiy Orlov" in c["text"] for c in out["citations"])
    assert library_docs(env) == {"notes/a.txt"}  # the library is untouched


def test_a_damaged_seeds_index_hint_works(tmp_path, env):
    assert qa(env, "ask", "Who is the deputy mayor of Mariupol?", "--index", "seeds").returncode == 0
    seeds = tmp_path / "cache" / "seeds-index"
    next(seeds.glob("docs-*.sqlite")).write_bytes(b"garbage" * 100)
    line = assert_clean_failure(qa(env, "ask", "Who is the deputy mayor?", "--index", "seeds"), 3, "rm -r")
    import shutil

    shutil.rmtree(line.split("rm -r ")[1].strip())  # what the hint says
    assert qa(env, "ask", "Who is the deputy mayor of Mariupol?", "--index", "seeds").returncode == 0


def test_two_folders_indexed_at_once_both_stay_in_the_library(tmp_path, env):
    import subprocess
    import time

    from helpers_robust import qa_command, qa_env

    a = folder(tmp_path, "alpha", {"a.txt": "Alpha note.\n"})
    b = folder(tmp_path, "beta", {"b.txt": "Beta note.\n"})
    gate = tmp_path / "gate"
    # the first writer holds on mid-write (its encoder waits for the gate) ...
    first = subprocess.Popen(
        qa_command("index", str(a), "-q"), env=qa_env(**env, CITEQA_TEST_ENCODE_GATE=str(gate)),
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while not (tmp_path / "data" / "library" / ".lock").exists() and time.time() < deadline:
        time.sleep(0.1)
    # ... while the second one starts and reads the library's folders
    second = subprocess.Popen(qa_command("index", str(b), "-q"), env=qa_env(**env), stderr=subprocess.PIPE)
    time.sleep(3)
    gate.touch()
    assert first.wait(120) == 0 and second.wait(120) == 0
    listed = qa(env, "index", "--list").stdout
    assert "as alpha/" in listed and "as beta/" in listed, listed
    assert library_docs(env) == {"alpha/a.txt", "beta/b.txt"}


def test_indexing_a_folder_reports_its_own_counts_and_the_library_totals_as_such(tmp_path, env):
    """`qa index odd` says what the folder holds and what changed in it, then the library's totals, labelled."""
    a = folder(tmp_path, "big", {"one.txt": "First file.\n", "two.txt": "Second file.\n", "three.txt": "Third.\n"})
    odd = folder(tmp_path, "odd", {"only.txt": "The only file here. It has two sentences.\n"})
    assert qa(env, "index", str(a), "-q").returncode == 0
    proc = qa(env, "index", str(odd))
    assert proc.returncode == 0, proc.stderr
    summary = proc.stderr.strip().splitlines()[-1]
    assert f"your library, {odd} (as odd/): updated: 1 document, 2 sentences in this folder (1 added," in summary
    assert summary.endswith("; the whole library: 4 documents, 5 sentences")
    (odd / "only.txt").unlink()
    (odd / "new.txt").write_text("A new file.\n", encoding="utf-8")
    summary = qa(env, "index", str(odd)).stderr.strip().splitlines()[-1]
    assert "1 document, 1 sentence in this folder (1 added, 0 changed, 1 removed, 0 unchanged;" in summary
    assert summary.endswith("the whole library: 4 documents, 4 sentences")


def test_resyncing_one_changed_file_embeds_it_with_the_quick_encoder(tmp_path, monkeypatch):
    """Loading torch takes most of a small re-sync: a change of a few sentences is embedded with
    the ONNX export, a first build and a large change with the reference (torch) model."""
    from helpers_robust import HashEncoder

    from qa.cli import main

    monkeypatch.setenv("CITEQA_DATA", str(tmp_path / "data"))
    loaded = []

    def load_encoder(backend="onnx"):
        loaded.append(backend)
        return HashEncoder()

    monkeypatch.setattr("embeddings.load_encoder", load_encoder)
    notes = folder(tmp_path, "notes", {f"n{i}.txt": f"Note {i} is about the harbour.\n" for i in range(5)})
    assert main(["index", str(notes), "-q"]) == 0
    (notes / "n2.txt").write_text("Note 2 is about the harbour. The gate was repainted.\n", encoding="utf-8")
    assert main(["index", str(notes), "-q"]) == 0
    (notes / "long.txt").write_text("A sentence about the ferry. " * 600, encoding="utf-8")
    assert main(["index", str(notes), "-q"]) == 0
    assert loaded == ["torch", "onnx", "torch"]
    assert library_docs({"CITEQA_DATA": str(tmp_path / "data")}) == {f"notes/n{i}.txt" for i in range(5)} | {
        "notes/long.txt"}

"""Two writers on one index, and readers during a write.

* A second ``qa index`` on the same index waits for the first, saying so, and
  then applies its own update; with a short ``--wait`` it fails with one clear
  line and exit 3.
* Readers see the old index until the new one is committed, and an index opened
  before a write keeps answering after the writer has replaced its files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers_robust import (
    ROOT,
    TESTS,
    HashEncoder,
    assert_clean_failure,
    build_index,
    corpus_b,
    hashes,
    index_contents,
    qa_command,
    qa_env,
    run_qa,
    write_corpus,
)

from qa import Assistant
from qa.index import check_index, open_index

QUESTION = "Who opened the northern gate of the harbour?"


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    root = tmp_path_factory.mktemp("conc")
    a = hashes(write_corpus(root / "A"))
    b = hashes(corpus_b(root / "B"))
    build_index(root / "index-A", root / "A")
    return root, a, b


def _held_writer(docs: Path, index: Path, gate: Path) -> subprocess.Popen:
    """``qa index`` that stops before embedding, holding the lock, until ``gate`` exists."""
    return subprocess.Popen(
        qa_command("index", str(docs), "--index", str(index), "-q"),
        env=qa_env(CITEQA_TEST_ENCODE_GATE=str(gate)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_new_generation(index: Path, proc: subprocess.Popen, generation: int, timeout: float = 60) -> None:
    """Wait until the writer holds the lock and has started generation ``generation``
    (a new base or a delta)."""
    names = [f"docs-{generation:06d}.sqlite", f"delta-{generation:06d}.sqlite"]
    deadline = time.monotonic() + timeout
    while not any((index / name).exists() for name in names):
        assert proc.poll() is None, proc.communicate()[1].decode(errors="replace")
        assert time.monotonic() < deadline, "the writer never started"
        time.sleep(0.02)


def test_second_writer_waits_then_applies(corpora, tmp_path):
    root, a, b = corpora
    index = tmp_path / "index"
    shutil.copytree(root / "index-A", index)
    gate = tmp_path / "gate"
    first = _held_writer(root / "B", index, gate)
    _wait_for_new_generation(index, first, 2)
    # the second writer indexes A again: it must wait for the first, then undo its change
    second_err = tmp_path / "second.err"
    with open(second_err, "wb") as err_file:
        second = subprocess.Popen(
            qa_command("index", str(root / "A"), "--index", str(index), "-q"),
            env=qa_env(),
            stdout=subprocess.DEVNULL,
            stderr=err_file,
        )
        deadline = time.monotonic() + 120
        while "waiting" not in second_err.read_text(errors="replace"):
            assert second.poll() is None, second_err.read_text(errors="replace")
            assert time.monotonic() < deadline, "the second writer never said it was waiting"
            time.sleep(0.05)
        assert first.poll() is None and second.poll() is None  # both alive: the second is waiting
        gate.touch()
        _, err = first.communicate(timeout=120)
        second.wait(timeout=120)
    second_stderr = second_err.read_text(errors="replace")
    assert first.returncode == 0, err.decode(errors="replace")
    assert second.returncode == 0, second_stderr
    assert "another process is writing" in second_stderr
    assert "Traceback" not in second_stderr
    assert index_contents(index) == a  # the second update, applied after the first
    assert check_index(index).sound


def test_second_writer_gives_up_clearly(corpora, tmp_path):
    root, a, b = corpora
    index = tmp_path / "index"
    shutil.copytree(root / "index-A", index)
    gate = tmp_path / "gate"
    first = _held_writer(root / "B", index, gate)
    _wait_for_new_generation(index, first, 2)
    second = run_qa("index", str(root / "A"), "--index", str(index), "--wait", "0.5")
    assert_clean_failure(second, 3, "another process", "try again")
    gate.touch()
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert index_contents(index) == b  # the first writer's update, untouched by the second
    assert check_index(index).sound


def test_readers_see_old_index_until_commit(corpora, tmp_path):
    root, a, b = corpora
    index = tmp_path / "index"
    shutil.copytree(root / "index-A", index)
    early = Assistant.open(index, encoder=HashEncoder(), threshold=0.0)  # opened before the write
    gate = tmp_path / "gate"
    writer = _held_writer(root / "B", index, gate)
    _wait_for_new_generation(index, writer, 2)
    # during the write: the API and the CLI both read the old, committed index
    assert index_contents(index) == a
    during = run_qa("ask", QUESTION, "--index", str(index), "--json")
    assert during.returncode == 0, during.stderr
    assert json.loads(during.stdout)["citations"]
    assert writer.poll() is None
    gate.touch()
    _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err.decode(errors="replace")
    # after the commit: new readers see the new index ...
    assert index_contents(index) == b
    # ... and the reader opened before keeps answering from its snapshot, though its files are gone
    assert not (index / early.store.manifest["files"]["db"]).exists()
    result = early.ask(QUESTION)
    assert result.answer is not None
    for c in result.citations:
        assert early.store.text(c.doc)[c.start : c.end] == c.text
    early.close()


WRITER_LOOP = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
from helpers_robust import build_index
for i in range({rounds}):
    build_index(Path({index!r}), Path({a!r}) if i % 2 else Path({b!r}))
"""


def test_readers_never_see_a_partial_index_while_writes_commit(corpora, tmp_path):
    """Open the index again and again while a writer commits A and B alternately:
    every open succeeds and holds exactly A or B."""
    root, a, b = corpora
    index = tmp_path / "index"
    shutil.copytree(root / "index-A", index)
    code = WRITER_LOOP.format(tests=str(TESTS), rounds=7, index=str(index), a=str(root / "A"), b=str(root / "B"))
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, stderr=subprocess.PIPE)
    seen = {"A": 0, "B": 0}
    opens = 0
    while writer.poll() is None or opens == 0:
        store = open_index(index)
        try:
            contents = {d.id: d.sha256 for d in store.documents()}
            assert len(store.vector_index) == store.manifest["sentences"]
        finally:
            store.close()
        assert contents in (a, b), "a reader saw a mix of two generations"
        seen["A" if contents == a else "B"] += 1
        opens += 1
    assert writer.returncode == 0, writer.stderr.read().decode(errors="replace")
    assert index_contents(index) == b
    assert opens >= 5 and seen["B"] >= 1, (opens, seen)


def test_readers_see_whole_generations_while_deltas_commit(corpora, tmp_path):
    """The same with small changes written as deltas over one base (A, then A plus one document,
    alternately): each open holds one or the other, never a mix; a reader opened before the
    writes keeps answering from its own generation."""
    root, a, _ = corpora
    small = tmp_path / "A+1"
    shutil.copytree(root / "A", small)
    (small / "late.txt").write_text("The harbour pilot guides ships past the northern gate.\n", encoding="utf-8")
    a1 = hashes({p.name: p.read_text(encoding="utf-8") for p in small.glob("*.txt")})
    index = tmp_path / "index"
    shutil.copytree(root / "index-A", index)
    early = Assistant.open(index, encoder=HashEncoder(), threshold=0.0)
    code = WRITER_LOOP.format(tests=str(TESTS), rounds=7, index=str(index), a=str(root / "A"), b=str(small))
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, stderr=subprocess.PIPE,
                              env=qa_env(CITEQA_DELTA_MAX_FRACTION="0.5"))
    seen = {"A": 0, "A+1": 0}
    layered = opens = 0
    while writer.poll() is None or opens == 0:
        store = open_index(index)
        try:
            contents = {d.id: d.sha256 for d in store.documents()}
            assert len(store.vector_index) == store.manifest["sentences"]
            layered += store.layered
        finally:
            store.close()
        assert contents in (a, a1), "a reader saw a mix of two generations"
        seen["A" if contents == a else "A+1"] += 1
        opens += 1
    assert writer.returncode == 0, writer.stderr.read().decode(errors="replace")
    assert index_contents(index) == a1 and open_index(index).layered
    assert opens >= 5 and seen["A+1"] >= 1 and layered >= 1, (opens, seen, layered)
    result = early.ask(QUESTION)
    assert result.answer is not None
    for c in result.citations:
        assert early.store.text(c.doc)[c.start : c.end] == c.text
    assert {d.id for d in early.store.documents()} == set(a)
    early.close()


def test_concurrent_first_runs_share_one_default_index(tmp_path):
    """Three ``qa ask`` at once on an empty cache: one builds the default index, the others
    wait for it (saying so), and all three answer from the same single generation."""
    env = qa_env(CITEQA_CACHE=str(tmp_path / "cache"), CITEQA_TEST_ENCODE_DELAY="0.2")
    procs = [
        subprocess.Popen(
            qa_command("ask", "Who is the deputy mayor of Mariupol?", "--json"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode(errors="replace")
        assert b"Traceback" not in err
        assert json.loads(out)["citations"]
    index = tmp_path / "cache" / "seeds-index"
    assert json.loads((index / "manifest.json").read_text())["generation"] == 1
    assert check_index(index).sound

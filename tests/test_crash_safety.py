"""SIGKILL the indexer at random points; the index must stay whole.

Each trial copies a committed index, runs ``qa index`` (the real command line,
in a subprocess) to turn it into another corpus, and kills it with
SIGKILL either just before its N-th write event (SQLite statement or commit,
FAISS write, fsync, rename, unlink, encoder batch: see ``helpers_robust``) or
after a random delay. After each kill:

* ``qa.index.check.check_index`` finds nothing wrong (vectors == sentence rows, content
  hashes, spans, manifest);
* the index opens and answers, with exact citations;
* it holds exactly the complete old or the complete new content;
* re-running the indexer completes, holds the new content, and leaves no stray files.

Scenarios: ``update`` (A to B: a change big enough to write a new base),
``rebuild`` and ``first``; ``delta`` (A to C, a small change written as a delta
over A's base), ``delta2`` (a second delta over that one, C to D) and
``compact`` (the index with a delta, to B: the delta folded into a new base).

The fast trials use a hashing encoder (cheap); a few slow trials use the real model.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers_robust import (
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
from qa.errors import IndexProblem
from qa.index import check_index, open_index

FAST_TRIALS = 8
SLOW_TRIALS = 60
REAL_MODEL_TRIALS = 3
#: Kill trials run this many at a time (threads, each waiting on its own subprocesses).
TRIALS_AT_ONCE = 2
QUESTION = "Who opened the northern gate of the harbour?"
_GEN = re.compile(r"^[a-z0-9]+-(\d{6})(\.[a-z]+)?$")  # generation files and folders
#: Deltas may grow to half the base in these trials (the test corpora are small).
DELTA_ENV = {"CITEQA_DELTA_MAX_FRACTION": "0.5"}


@dataclass
class Case:
    """One scenario: the index it starts from (None: no index), the corpus it indexes."""

    start: Path | None
    docs: Path
    old: dict[str, str] | None
    new: dict[str, str]
    rebuild: bool = False
    layered_after: bool = False  # whether the new generation is a delta


@dataclass
class Setup:
    root: Path
    cases: dict[str, Case]
    events: dict[str, int]  # scenario -> write events in an uninterrupted run
    commit: dict[str, int]  # scenario -> number of the event that commits (the manifest rename)
    seconds: dict[str, float]  # scenario -> wall time of an uninterrupted run

    @property
    def old(self) -> dict[str, str]:
        return self.cases["update"].old

    @property
    def new(self) -> dict[str, str]:
        return self.cases["update"].new


SCENARIOS = ("update", "rebuild", "first", "delta", "delta2", "compact")


def _args(scenario: str, setup: Setup, index_dir: Path) -> list[str]:
    args = ["index", str(setup.cases[scenario].docs), "--index", str(index_dir), "-q"]
    return args + (["--rebuild"] if setup.cases[scenario].rebuild else [])


def _prepare(scenario: str, setup: Setup, index_dir: Path) -> None:
    start = setup.cases[scenario].start
    if start is not None:
        shutil.copytree(start, index_dir)


def _small_change(src: Path, dest: Path, n: int) -> dict[str, str]:
    """A copy of corpus ``src`` with one document added, one changed and one removed."""
    shutil.copytree(src, dest)
    (dest / f"doc{2 + n:03d}.txt").unlink()
    changed = dest / f"doc{9 + n:03d}.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + f"Note {n}: the northern gate was repainted.\n",
                       encoding="utf-8")
    (dest / f"extra{n}.txt").write_text(f"The harbour pilot {n} guides ships past the northern gate.\n",
                                        encoding="utf-8")
    return {p.name: p.read_text(encoding="utf-8") for p in dest.glob("*.txt")}


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Setup:
    root = tmp_path_factory.mktemp("crash")
    docs_a, docs_b = root / "A", root / "B"
    a = hashes(write_corpus(docs_a))
    b = hashes(corpus_b(docs_b))
    c = hashes(_small_change(docs_a, root / "C", 0))
    d = hashes(_small_change(root / "C", root / "D", 1))
    assert len({json_key(x) for x in (a, b, c, d)}) == 4
    index_a = root / "index-A"
    build_index(index_a, docs_a)
    assert index_contents(index_a) == a
    index_c = root / "index-C"  # A's base with C's change as a delta
    shutil.copytree(index_a, index_c)
    assert run_qa("index", str(root / "C"), "--index", str(index_c), "-q", **DELTA_ENV).returncode == 0
    store = open_index(index_c)
    assert store.layered and index_contents(index_c) == c
    store.close()
    cases = {
        "update": Case(index_a, docs_b, a, b),
        "rebuild": Case(index_a, docs_b, a, b, rebuild=True),
        "first": Case(None, docs_b, None, b),
        "delta": Case(index_a, root / "C", a, c, layered_after=True),
        "delta2": Case(index_c, root / "D", c, d, layered_after=True),
        "compact": Case(index_c, docs_b, c, b),
    }
    s = Setup(root, cases, {}, {}, {})
    for scenario in SCENARIOS:
        probe = root / f"probe-{scenario}"
        _prepare(scenario, s, probe)
        count_file = root / f"events-{scenario}"
        t0 = time.monotonic()
        proc = run_qa(*_args(scenario, s, probe), CITEQA_TEST_EVENTS=str(count_file), **DELTA_ENV)
        s.seconds[scenario] = time.monotonic() - t0
        assert proc.returncode == 0, proc.stderr
        assert index_contents(probe) == cases[scenario].new
        store = open_index(probe)
        assert store.layered == cases[scenario].layered_after, scenario
        store.close()
        names = count_file.read_text().split()
        s.events[scenario] = len(names)
        s.commit[scenario] = max(i for i, name in enumerate(names, 1) if name == "os.replace")
    return s


def json_key(d: dict) -> str:
    import json

    return json.dumps(d, sort_keys=True)


def _verify(index_dir: Path, setup: Setup, scenario: str) -> str:
    """Check the index after a kill; returns which content it holds: old, new or none."""
    case = setup.cases[scenario]
    if case.old is None and not (index_dir / "manifest.json").exists():
        # nothing was committed: the folder is not an index yet, and opening it says so clearly
        with pytest.raises(IndexProblem, match="qa index"):
            open_index(index_dir)
        state = "none"
    else:
        report = check_index(index_dir)
        assert report.sound, report.problems
        contents = index_contents(index_dir)
        assert contents in (case.old, case.new), "the index holds a mix of old and new content"
        state = "new" if contents == case.new else "old"
        with Assistant.open(index_dir, encoder=HashEncoder(), threshold=0.0) as assistant:
            result = assistant.ask(QUESTION)
            assert result.answer is not None and result.citations
            for c in result.citations:
                assert assistant.store.text(c.doc)[c.start : c.end] == c.text
    # the next run recovers: completes, holds the new content, leaves no stray files
    proc = run_qa(*_args(scenario, setup, index_dir), **DELTA_ENV)
    assert proc.returncode == 0, proc.stderr
    assert index_contents(index_dir) == case.new
    assert check_index(index_dir).sound
    _assert_no_stray_files(index_dir)
    return state


def _assert_no_stray_files(index_dir: Path) -> None:
    import json

    named = set(json.loads((index_dir / "manifest.json").read_text())["files"].values())
    for p in index_dir.iterdir():
        assert not p.name.endswith((".tmp", "-journal", "-wal")), f"stray file {p.name}"
        if _GEN.match(p.name):
            assert p.name in named, f"stray file of another generation: {p.name}"


def _kill_at_event(setup: Setup, scenario: str, index_dir: Path, event: int) -> bool:
    """Run the indexer until just before write event ``event``; True if it was killed."""
    proc = run_qa(*_args(scenario, setup, index_dir), CITEQA_TEST_KILL_AT=str(event), **DELTA_ENV)
    assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
    return proc.returncode == -signal.SIGKILL


def _kill_after(setup: Setup, scenario: str, index_dir: Path, delay: float) -> bool:
    """Run the indexer and SIGKILL it after ``delay`` seconds; True if it was killed."""
    proc = subprocess.Popen(
        qa_command(*_args(scenario, setup, index_dir)),
        env=qa_env(**DELTA_ENV),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGKILL), err.decode(errors="replace")
    return proc.returncode == -signal.SIGKILL


def _plan(n: int, setup: Setup, seed: int) -> list[tuple[str, str, float]]:
    """``n`` trials: (scenario, "event"|"time", kill point), half by event, half by time.

    Event trials are spread over the whole run and, more densely, around the
    commit (writing vectors, syncing, renaming the manifest, cleaning up)."""
    rng = random.Random(seed)
    plan = []
    for i in range(n):
        scenario = SCENARIOS[i % len(SCENARIOS)] if i >= 2 else "update"
        total = setup.events[scenario]
        if i % 2 == 0:
            tail = i % 4 == 0
            commit = setup.commit[scenario]
            point = rng.randint(max(1, commit - 12), min(total, commit + 12)) if tail else rng.randint(1, total)
            plan.append((scenario, "event", point))
        else:
            plan.append((scenario, "time", rng.uniform(0.05, setup.seconds[scenario] * 1.1)))
    return plan


def _run_trials(plan, setup: Setup, tmp_path: Path) -> dict[str, int]:
    """Run the kill trials of ``plan``, two at a time (each is a few subprocesses in their own
    index folder, so they are independent); returns how many ended old, new, none and killed."""
    from concurrent.futures import ThreadPoolExecutor

    def trial(n: int, scenario: str, how: str, point: float) -> tuple[bool, str]:
        index_dir = tmp_path / f"trial-{n}"
        _prepare(scenario, setup, index_dir)
        if how == "event":
            killed = _kill_at_event(setup, scenario, index_dir, int(point))
        else:
            killed = _kill_after(setup, scenario, index_dir, point)
        try:
            state = _verify(index_dir, setup, scenario)
        except AssertionError as e:
            raise AssertionError(f"trial {n} ({scenario}, kill by {how} at {point}): {e}") from e
        shutil.rmtree(index_dir)
        return killed, state

    tally = {"old": 0, "new": 0, "none": 0, "killed": 0}
    with ThreadPoolExecutor(max_workers=TRIALS_AT_ONCE) as pool:
        for killed, state in pool.map(lambda args: trial(*args), [(n, *p) for n, p in enumerate(plan)]):
            tally["killed"] += killed
            tally[state] += 1
    return tally


def test_kill_trials_fast(setup, tmp_path):
    # always run: two kills at fixed points (before anything is written, and at the
    # very last write event) and six random ones
    plan = [("update", "event", 1), ("update", "event", setup.events["update"])] + _plan(6, setup, seed=1)[0:6]
    tally = _run_trials(plan, setup, tmp_path)
    assert tally["killed"] >= 2
    assert tally["old"] >= 1  # killed before the commit: old content


@pytest.mark.parametrize("scenario", ["delta", "delta2", "compact"])
def test_kill_trials_on_layered_writes(setup, tmp_path, scenario):
    """Kills while writing a delta, a delta over a delta, and a compaction: at the first and
    last events, and at three events spread over the write."""
    total = setup.events[scenario]
    points = sorted({1, total // 3, 2 * total // 3, setup.commit[scenario] - 1, total})
    tally = _run_trials([(scenario, "event", p) for p in points], setup, tmp_path)
    assert tally["killed"] >= 3 and tally["old"] >= 1


@pytest.mark.slow
def test_kill_trials_many(setup, tmp_path):
    seed = int(os.environ.get("CITEQA_KILL_SEED", "20261122"))
    tally = _run_trials(_plan(SLOW_TRIALS, setup, seed), setup, tmp_path)
    print(f"\n{SLOW_TRIALS} kill trials (seed {seed}): {tally}")
    assert tally["killed"] >= SLOW_TRIALS // 2
    assert tally["old"] >= 1 and tally["new"] >= 1


@pytest.mark.parametrize("scenario", ["update", "delta"])
def test_kill_just_before_and_after_commit(setup, tmp_path, scenario):
    """Kill at each of the last write events: before the manifest rename -> old, after -> new."""
    commit = setup.commit[scenario]
    states = []
    for event in range(max(1, commit - 5), min(commit + 4, setup.events[scenario] + 1)):
        index_dir = tmp_path / f"tail-{event}"
        _prepare(scenario, setup, index_dir)
        assert _kill_at_event(setup, scenario, index_dir, event)
        states.append(_verify(index_dir, setup, scenario))
    assert states == sorted(states, key=["old", "new"].index), states  # old ... old new ... new
    assert states[0] == "old" and states[-1] == "new"


def test_check_command_after_kill(setup, tmp_path):
    index_dir = tmp_path / "killed"
    _prepare("update", setup, index_dir)
    assert _kill_at_event(setup, "update", index_dir, setup.events["update"] // 2)
    proc = run_qa("index", "--check", str(index_dir))
    assert proc.returncode == 0, proc.stderr
    assert "sound" in proc.stdout


@pytest.mark.slow
def test_kill_trials_real_model(seeds_index, tmp_path):
    """A few kills of the real indexer (sentence-transformers) at random times."""
    from conftest import SEEDS

    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    first = sorted(docs.glob("*.txt"))[0]
    first.write_text(
        first.read_text(encoding="utf-8") + "\nThe ferry to the island leaves at noon.\n", encoding="utf-8"
    )
    (docs / "extra.txt").write_text("The lighthouse keeper is named Orla Byrne.\n", encoding="utf-8")
    old = index_contents(seeds_index)

    reference = tmp_path / "reference"
    shutil.copytree(seeds_index, reference)
    t0 = time.monotonic()
    proc = run_qa("index", str(docs), "--index", str(reference), "-q", fake=False)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    new = index_contents(reference)
    assert new != old

    rng = random.Random(7)
    for n in range(REAL_MODEL_TRIALS):
        index_dir = tmp_path / f"real-{n}"
        shutil.copytree(seeds_index, index_dir)
        p = subprocess.Popen(
            qa_command("index", str(docs), "--index", str(index_dir), "-q"),
            env=qa_env(fake=False),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            p.wait(timeout=rng.uniform(0.3, 1.0) * seconds)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
        p.wait()
        assert check_index(index_dir).sound
        assert index_contents(index_dir) in (old, new)
        with Assistant.open(index_dir) as assistant:  # the real query encoder
            result = assistant.ask("Who is the deputy mayor of Mariupol?")
            assert result.citations
            for c in result.citations:
                assert assistant.store.text(c.doc)[c.start : c.end] == c.text


@pytest.mark.parametrize(
    "scenario,limit",
    [("update", 2_000), ("update", 60_000), ("update", 150_000), ("update", "half the largest file"),
     ("delta", 2_000), ("delta", 20_000), ("compact", 60_000)],
)
def test_failed_write_keeps_old_index_and_leaves_nothing(setup, tmp_path, scenario, limit):
    """A write that fails (here: file size limit, as on a full disk) at the SQLite, FAISS or
    later files: one clear line, exit 3, the old index intact, no files of the failed generation."""
    import resource

    index_dir = tmp_path / "index"
    _prepare(scenario, setup, index_dir)
    before = sorted(p.name for p in index_dir.iterdir())
    if not isinstance(limit, int):
        limit = max(p.stat().st_size for p in index_dir.rglob("*") if p.is_file()) // 2

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write with EFBIG instead of dying
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        qa_command(*_args(scenario, setup, index_dir)),
        env=qa_env(**DELTA_ENV),
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        timeout=120,
    )
    assert_clean_failure(proc, 3, "cannot write the index", "nothing was changed")
    assert sorted(p.name for p in index_dir.iterdir()) == before
    assert index_contents(index_dir) == setup.cases[scenario].old
    assert check_index(index_dir).sound


def test_ctrl_c_keeps_old_index_and_leaves_nothing(setup, tmp_path):
    """SIGINT (Ctrl-C) in the middle of a write: "qa: interrupted", exit 130, old index intact,
    the unfinished generation's files removed."""
    index_dir = tmp_path / "index"
    _prepare("update", setup, index_dir)
    before = sorted(p.name for p in index_dir.iterdir())
    proc = subprocess.Popen(
        qa_command(*_args("update", setup, index_dir)),
        env=qa_env(CITEQA_TEST_ENCODE_GATE=str(tmp_path / "never")),  # held mid-write until interrupted
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # Ctrl-C as in a terminal: a test run started in the background (`cmd &` in a script)
        # inherits SIGINT ignored, and the child would never see it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not (index_dir / "docs-000002.sqlite").exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)  # its Python stack, to say where it is stuck
        time.sleep(2)
        proc.kill()
        _, err = proc.communicate()
        pytest.fail("still running 60 s after SIGINT; its stack:\n" + err.decode(errors="replace"))
    err = err.decode(errors="replace")
    assert proc.returncode == 130, err
    assert "qa: interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in index_dir.iterdir()) == before
    assert index_contents(index_dir) == setup.old

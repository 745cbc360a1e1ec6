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

import json
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
    """``n`` trials: (scenario, "event"|"time", kill point), half by event, half by time; each
    scenario both ways, by turns from one round of scenarios to the next.

    Event trials are spread over the whole run and, more densely, around the
    commit (writing vectors, syncing, renaming the manifest, cleaning up)."""
    rng = random.Random(seed)
    plan = []
    for i in range(n):
        scenario = SCENARIOS[i % len(SCENARIOS)] if i >= 2 else "update"
        total = setup.events[scenario]
        round_ = i // len(SCENARIOS)
        if (i + round_) % 2 == 0:
            tail = (round_ // 2) % 2 == 0
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


# -- runs committed in parts ------------------------------------------------------------------

#: Parts of this many new sentences (``CITEQA_TEST_COMMIT_SENTENCES``): the 520 sentences of
#: ``write_corpus(n_docs=40)`` (13 a document) span five parts of 104 sentences.
PART_SENTENCES = 100
#: What a killed run can have embedded without committing: the part in flight, at least 100 new
#: sentences or a quarter of the index so far (at most 520 sentences), in whole documents (<= 14).
IN_FLIGHT = 520 // 4 + 14


@dataclass
class PartsCase:
    """A run committed in parts: ``qa index ARGS`` from ``start`` (None: nothing), into ``index``
    (relative to the trial's folder), from ``old`` (doc -> hash) to ``new``."""

    args: list[str]
    index: str
    start: Path | None
    old: dict[str, str]
    new: dict[str, str]
    texts: dict[str, str]  # doc -> text of the new version
    events: int = 0


@pytest.fixture(scope="module")
def parts_setup(tmp_path_factory) -> dict[str, PartsCase]:
    root = tmp_path_factory.mktemp("parts")
    texts_a = write_corpus(root / "A", n_docs=40)
    texts_b = corpus_b(root / "B", n_docs=40)  # 12 documents changed, 7 removed, 5 added
    index_a = root / "index-A"
    build_index(index_a, root / "A")
    library = {f"A/{name}": text for name, text in texts_a.items()}
    cases = {
        "first": PartsCase(["index", str(root / "A"), "--index", "{trial}/index", "-q"], "index", None, {},
                           hashes(texts_a), texts_a),
        "library": PartsCase(["index", str(root / "A"), "-q"], "data/library", None, {}, hashes(library), library),
        "update": PartsCase(["index", str(root / "B"), "--index", "{trial}/index", "-q"], "index", index_a,
                            hashes(texts_a), hashes(texts_b), texts_b),
    }
    for name, case in cases.items():
        trial = root / f"probe-{name}"
        _start_parts(case, trial)
        count_file = root / f"events-{name}"
        proc = _run_parts(case, trial, CITEQA_TEST_EVENTS=str(count_file))
        assert proc.returncode == 0, proc.stderr
        assert index_contents(trial / case.index) == case.new
        generations = json.loads((trial / case.index / "manifest.json").read_text())["generation"]
        assert generations >= (1 if case.start else 0) + 2, "the run should span several parts"
        case.events = len(count_file.read_text().split())
    return cases


def _start_parts(case: PartsCase, trial: Path) -> None:
    trial.mkdir()
    if case.start is not None:
        shutil.copytree(case.start, trial / case.index)


def _run_parts(case: PartsCase, trial: Path, **env) -> subprocess.CompletedProcess:
    args = [a.replace("{trial}", str(trial)) for a in case.args]
    return run_qa(*args, CITEQA_DATA=str(trial / "data"), CITEQA_TEST_COMMIT_SENTENCES=str(PART_SENTENCES),
                  **env)


def _encoded(log: Path) -> list[str]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def _parts_trial(case: PartsCase, trial: Path, kill_at: int) -> str:
    """Kill a run just before write event ``kill_at``, check what it left, re-run it; returns
    how much the kill left committed: "none", "some" or "all"."""
    _start_parts(case, trial)
    first, second = trial / "encoded-1", trial / "encoded-2"
    proc = _run_parts(case, trial, CITEQA_TEST_KILL_AT=str(kill_at), CITEQA_TEST_ENCODED_LOG=str(first))
    assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
    index_dir = trial / case.index
    kept: dict[str, str] = {}
    if (index_dir / "manifest.json").exists():
        report = check_index(index_dir)
        assert report.sound, report.problems
        kept = index_contents(index_dir)
        for doc, digest in kept.items():  # each document whole, in its old or new version
            assert digest in (case.old.get(doc), case.new.get(doc)), doc
    # the re-run completes, holds a clean build's content, and embeds only what was not committed
    proc = _run_parts(case, trial, CITEQA_TEST_ENCODED_LOG=str(second))
    assert proc.returncode == 0, proc.stderr
    assert index_contents(index_dir) == case.new
    assert check_index(index_dir).sound
    _assert_no_stray_files(index_dir)
    rest = sorted(t for doc, text in case.texts.items() if kept.get(doc) != case.new[doc] for t in text.splitlines())
    assert sorted(_encoded(second)) == rest
    twice = set(_encoded(first)) & set(_encoded(second))
    assert len(twice) <= IN_FLIGHT, f"{len(twice)} sentences embedded again, more than the part in flight"
    new_kept = sum(kept.get(doc) == digest and case.old.get(doc) != digest for doc, digest in case.new.items())
    added = sum(case.old.get(doc) != digest for doc, digest in case.new.items())
    return "none" if not new_kept else "all" if new_kept == added else "some"


@pytest.mark.parametrize("scenario", ["first", "library", "update"])
def test_kill_trials_of_a_run_committed_in_parts(parts_setup, tmp_path, scenario):
    """SIGKILL at points spread over a run that commits in parts: the index stays sound, holds each
    document in its old or new version, keeps what was committed, and the re-run embeds the rest
    only (nothing twice but the part in flight) and ends with a clean build's content."""
    from concurrent.futures import ThreadPoolExecutor

    case = parts_setup[scenario]
    rng = random.Random(scenario)
    points = sorted({max(1, int(case.events * f)) for f in (0.3, 0.6, 0.9)} | {rng.randint(1, case.events)})
    with ThreadPoolExecutor(max_workers=TRIALS_AT_ONCE) as pool:
        states = list(pool.map(lambda n: _parts_trial(case, tmp_path / f"trial-{n}", points[n]),
                               range(len(points))))
    assert "some" in states, (points, states)  # a kill between parts kept the committed ones


def test_ctrl_c_keeps_the_parts_committed_and_says_so(tmp_path):
    """SIGINT after the first part of a run was committed: exit 130, one line saying what is kept,
    the index sound and holding those documents; the next run embeds only the rest."""
    docs = tmp_path / "docs"
    texts = write_corpus(docs, n_docs=40)
    index_dir = tmp_path / "index"
    args = ["index", str(docs), "--index", str(index_dir), "-q"]
    proc = subprocess.Popen(
        qa_command(*args),
        env=qa_env(CITEQA_TEST_COMMIT_SENTENCES=str(PART_SENTENCES), CITEQA_TEST_ENCODE_DELAY="0.3"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not (index_dir / "manifest.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    err = err.decode(errors="replace")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.splitlines()[-1] == "qa: interrupted"
    assert re.search(r"interrupted: [\d,]+ of the 520 new sentences were committed before it and are kept", err), err
    assert check_index(index_dir).sound
    kept = index_contents(index_dir)
    assert kept and kept.items() < hashes(texts).items()
    log = tmp_path / "encoded"
    assert run_qa(*args, CITEQA_TEST_ENCODED_LOG=str(log)).returncode == 0
    assert len(_encoded(log)) == 13 * (40 - len(kept))

"""qa batch: the output is never the input, an interrupted run keeps its answers and a re-run
continues from them, JSONL input read as JSONL, duplicate ids, and progress on stderr."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_robust import build_index, qa_command, qa_env, run_qa, write_corpus

from qa.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _ids(text: str) -> list[str]:
    return [json.loads(line)["id"] for line in text.splitlines()]


# -- 1. the output is never the input ---------------------------------------------------------


@pytest.mark.parametrize("how", ["same path", "symbolic link", "hard link", "standard input"])
def test_output_that_is_the_input_is_refused_and_nothing_is_written(capsys, monkeypatch, seeds_index, tmp_path, how):
    folder = tmp_path / "work"
    folder.mkdir()
    questions = _write(folder / "questions.jsonl", json.dumps({"id": "a", "question": "Who is Sasha Volkov?", "x": 1}))
    before = questions.read_bytes()
    output = questions
    source = str(questions)
    if how == "symbolic link":
        output = folder / "answers.jsonl"
        output.symlink_to(questions.name)
    elif how == "hard link":
        output = folder / "answers.jsonl"
        os.link(questions, output)
    elif how == "standard input":
        stdin = open(questions, encoding="utf-8")  # as `qa batch -o questions.jsonl < questions.jsonl`
        monkeypatch.setattr(sys, "stdin", stdin)
        source = "-"
    listing = sorted(p.name for p in folder.iterdir())
    code, out, err = run(capsys, "batch", source, "-o", output, "--index", seeds_index)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("qa: error:") and "is the input" in err, err
    assert questions.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == listing


# -- 2. an interrupted run keeps its answers; a re-run continues from them ----------------------


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("batch")
    write_corpus(root / "docs", n_docs=8)
    build_index(root / "index", root / "docs")
    return root / "index"


QUESTIONS = [
    "Who opened the northern gate at dawn?",
    "How many new atlases did the library receive?",
    "What did the farmers pick in the orchard?",
    "Who voted against the tax on salt and wool?",
    "What did the engineers finish?",
    "When did the harbour master open the gate?",
    "What was donated by the guild?",
    "How many times did the bells ring?",
    "How long did the work on the stone bridge take?",
    "Which tax did the council member vote against?",
    "Who received new atlases?",
    "What rang while the apples were picked?",
]


def _answers_in(partial: Path) -> list[dict]:
    """The complete answer lines of a side file (its first line is its header)."""
    text = partial.read_text(encoding="utf-8")
    complete = text[: text.rfind("\n") + 1].splitlines()
    return [json.loads(line) for line in complete[1:]]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_an_interrupted_batch_keeps_its_answers_and_the_same_command_continues(small_index, tmp_path, sig):
    questions = _write(
        tmp_path / "q.jsonl",
        *(json.dumps({"id": f"q{i:02d}", "question": q, "extra": i}) for i, q in enumerate(QUESTIONS, 1)),
    )
    reference = tmp_path / "reference.jsonl"
    done = run_qa("batch", str(questions), "-o", str(reference), "--index", str(small_index))
    assert done.returncode == 0, done.stderr

    target = tmp_path / "out" / "answers.jsonl"
    target.parent.mkdir()
    target.write_text("old answers\n", encoding="utf-8")
    partial = target.parent / "answers.jsonl.partial"
    first_asked = tmp_path / "asked-1.txt"
    proc = subprocess.Popen(
        qa_command("batch", questions, "-o", target, "--index", small_index),
        env=qa_env(CITEQA_TEST_ENCODE_DELAY="0.3", CITEQA_TEST_ASK_LOG=str(first_asked)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    deadline = time.monotonic() + 120
    while not (partial.exists() and len(_answers_in(partial)) >= 3):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no answers kept beside OUTPUT: {proc.communicate()[1].decode(errors='replace')}")
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    err = err.decode(errors="replace")
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "qa: interrupted" in err and "Traceback" not in err, err
        assert "answers.jsonl.partial" in err  # the user is told where the answers are
    else:
        assert proc.returncode == -signal.SIGKILL
    assert target.read_text(encoding="utf-8") == "old answers\n"  # OUTPUT as it was
    kept = _answers_in(partial)
    assert 3 <= len(kept) < len(QUESTIONS)

    second_asked = tmp_path / "asked-2.txt"
    again = run_qa(
        "batch", str(questions), "-o", str(target), "--index", str(small_index), CITEQA_TEST_ASK_LOG=str(second_asked)
    )
    assert again.returncode == 0, again.stderr
    assert f"qa: resuming: {len(kept)} of {len(QUESTIONS)} answers kept from an interrupted run" in again.stderr
    assert target.read_bytes() == reference.read_bytes()  # as if it had never been interrupted
    asked = second_asked.read_text(encoding="utf-8").splitlines()
    assert len(asked) == len(QUESTIONS) - len(kept)
    assert not set(asked) & {k["question"] for k in kept}  # an answered question is not asked again
    assert sorted(p.name for p in target.parent.iterdir()) == ["answers.jsonl"]  # the side file is gone


def _interrupt_at(monkeypatch, n: int) -> list[str]:
    """``Assistant.ask`` raises KeyboardInterrupt at its ``n``-th call; returns the questions asked."""
    from qa.assistant import Assistant

    asked: list[str] = []
    real_ask = Assistant.ask

    def ask(self, question, *a, **k):
        asked.append(question)
        if len(asked) == n:
            raise KeyboardInterrupt
        return real_ask(self, question, *a, **k)

    monkeypatch.setattr(Assistant, "ask", ask)
    return asked


def _count_asks(monkeypatch) -> list[str]:
    return _interrupt_at(monkeypatch, 0)


SEEDS_QUESTIONS = ["Who is Sasha Volkov?", "What has NATO ruled out?", "Who is the deputy mayor of Mariupol?"]


def test_kept_answers_are_not_reused_with_other_options_or_for_changed_questions(
    capsys, monkeypatch, seeds_index, tmp_path
):
    questions = _write(tmp_path / "q.jsonl", *(json.dumps({"question": q}) for q in SEEDS_QUESTIONS))
    target = tmp_path / "answers.jsonl"
    partial = tmp_path / "answers.jsonl.partial"
    with monkeypatch.context() as m:
        _interrupt_at(m, 3)
        code, _, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index, "--top-k", "3")
    assert code == 130 and len(_answers_in(partial)) == 2 and not target.exists()

    with monkeypatch.context() as m:  # other options: the kept answers do not apply
        asked = _count_asks(m)
        code, _, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index, "--top-k", "2")
    assert code == 0 and "resuming" not in err and len(asked) == 3
    assert all(len(json.loads(line)["citations"]) == 2 for line in target.read_text(encoding="utf-8").splitlines())
    assert not partial.exists()

    with monkeypatch.context() as m:
        _interrupt_at(m, 3)
        run(capsys, "batch", questions, "-o", target, "--index", seeds_index, "--top-k", "3")
    _write(
        questions,
        json.dumps({"question": "Who is Sasha Volkov, the journalist?"}),
        *(json.dumps({"question": q}) for q in SEEDS_QUESTIONS[1:]),
    )
    with monkeypatch.context() as m:  # the first question changed: only the second answer is kept
        asked = _count_asks(m)
        code, _, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index, "--top-k", "3")
    assert code == 0 and "resuming: 1 of 3 answers kept from an interrupted run" in err, err
    assert asked == ["Who is Sasha Volkov, the journalist?", SEEDS_QUESTIONS[2]]
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in rows] == ["Who is Sasha Volkov, the journalist?", *SEEDS_QUESTIONS[1:]]
    assert not partial.exists()


def test_a_side_file_that_is_not_ours_is_left_alone(capsys, seeds_index, tmp_path):
    questions = _write(tmp_path / "q.jsonl", json.dumps({"question": "Who is Sasha Volkov?"}))
    target = tmp_path / "answers.jsonl"
    theirs = _write(tmp_path / "answers.jsonl.partial", "my own notes")
    code, out, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index)
    errors = [line for line in err.splitlines() if line.startswith("qa: error:")]
    assert code == 2 and len(errors) == 1 and "answers.jsonl.partial is in the way" in errors[0], err
    assert theirs.read_text(encoding="utf-8") == "my own notes\n" and not target.exists()
    # nor is it ever read as the questions while it is the side file of OUTPUT
    code, out, err = run(capsys, "batch", theirs, "-o", target, "--index", seeds_index)
    assert code == 2 and err.count("\n") == 1 and "side file" in err, err
    assert theirs.read_text(encoding="utf-8") == "my own notes\n" and not target.exists()


def test_a_side_file_cut_mid_line_keeps_its_whole_lines(capsys, monkeypatch, seeds_index, tmp_path):
    """SIGKILL while a line is written: the torn line is dropped and the file goes on cleanly."""
    questions = _write(tmp_path / "q.jsonl", *(json.dumps({"question": q}) for q in SEEDS_QUESTIONS))
    target = tmp_path / "answers.jsonl"
    partial = tmp_path / "answers.jsonl.partial"
    with monkeypatch.context() as m:
        _interrupt_at(m, 3)
        run(capsys, "batch", questions, "-o", target, "--index", seeds_index)
    whole = partial.read_bytes()
    last = whole[whole.rstrip(b"\n").rfind(b"\n") + 1 :]
    partial.write_bytes(whole[: len(whole) - len(last)] + last[: len(last) // 2])  # the second answer torn
    with monkeypatch.context() as m:
        _interrupt_at(m, 2)  # asks the second question again, then stops
        code, _, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index)
    assert code == 130 and "resuming: 1 of 3" in err
    assert [a["question"] for a in _answers_in(partial)] == SEEDS_QUESTIONS[:2]
    with monkeypatch.context() as m:
        asked = _count_asks(m)
        code, _, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index)
    assert code == 0 and "resuming: 2 of 3" in err and asked == SEEDS_QUESTIONS[2:]
    assert [r["question"] for r in map(json.loads, target.read_text(encoding="utf-8").splitlines())] == SEEDS_QUESTIONS


# -- 3. a .jsonl file is JSON lines ----------------------------------------------------------------


def test_a_jsonl_file_whose_first_line_is_not_json_is_read_as_jsonl(capsys, seeds_index, tmp_path):
    questions = _write(
        tmp_path / "q.jsonl",
        "Who is Sasha Volkov?",
        json.dumps({"q": 1}),
        json.dumps({"question": "What has NATO ruled out?"}),
    )
    code, out, err = run(capsys, "batch", questions, "--index", seeds_index)
    assert code == 2 and _ids(out) == ["3"]
    warnings = [line for line in err.splitlines() if line.startswith("qa: warning:")]
    assert warnings[0].startswith("qa: warning: line 1: skipped: malformed JSON")
    assert warnings[1].startswith('qa: warning: line 2: skipped: no "question" field'), warnings


@pytest.mark.parametrize("where", ["q.txt", "-"])
def test_a_json_object_among_plain_text_questions_is_named_not_asked(capsys, monkeypatch, seeds_index, tmp_path, where):
    lines = ["Who is Sasha Volkov?", json.dumps({"q": 1}), "What has NATO ruled out?"]
    if where == "-":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("".join(f"{x}\n" for x in lines).encode())))
    else:
        where = _write(tmp_path / where, *lines)
    code, out, err = run(capsys, "batch", where, "--index", seeds_index)
    assert code == 2 and _ids(out) == ["1", "3"]
    assert "qa: warning: line 2: skipped: a JSON object" in err, err


# -- 4. duplicate ids --------------------------------------------------------------------------------


def test_duplicate_ids_are_named_in_a_warning_and_every_line_is_answered(capsys, seeds_index, tmp_path):
    questions = _write(
        tmp_path / "q.jsonl",
        json.dumps({"id": "a", "question": "Who is Sasha Volkov?"}),
        json.dumps({"id": 4, "question": "What has NATO ruled out?"}),
        json.dumps({"id": "a", "question": "Who is the deputy mayor of Mariupol?"}),
        json.dumps({"question": "Who is Sasha Volkov?"}),  # its id is its line number: 4
        json.dumps({"id": "b", "question": "Who is Sasha Volkov?"}),
    )
    code, out, err = run(capsys, "batch", questions, "--index", seeds_index)
    assert code == 0 and _ids(out) == ["a", "4", "a", "4", "b"]
    warnings = [line for line in err.splitlines() if "duplicate" in line]
    assert len(warnings) == 1 and warnings[0].startswith("qa: warning:"), err
    assert '"a" (lines 1, 3)' in warnings[0] and '"4" (lines 2, 4)' in warnings[0] and '"b"' not in warnings[0]


# -- 5, 6. progress on stderr -------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _shown(text: str) -> list[str]:
    """What a terminal shows of each line: the text after its last carriage return."""
    return [line.rsplit("\r", 1)[-1] for line in text.split("\n")]


def test_on_a_terminal_the_answering_from_line_and_the_bar_are_on_separate_lines(monkeypatch, seeds_index, tmp_path):
    questions = _write(tmp_path / "q.txt", *SEEDS_QUESTIONS)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["batch", str(questions), "-o", str(tmp_path / "a.jsonl"), "--index", str(seeds_index)]) == 0
    shown = _shown(terminal.getvalue())
    assert any(line.startswith("qa: answering from the index at") for line in shown), shown
    assert "\r" in terminal.getvalue() and any("3/3" in line for line in shown)  # the bar was drawn


def test_without_a_terminal_progress_is_a_line_now_and_then(capsys, monkeypatch, seeds_index, tmp_path):
    import qa.progress

    monkeypatch.setattr(qa.progress, "INTERVAL_S", 0.0)  # a line at every step (10 s in real use)
    questions = _write(tmp_path / "q.txt", *SEEDS_QUESTIONS)
    code, _, err = run(capsys, "batch", questions, "-o", tmp_path / "a.jsonl", "--index", seeds_index)
    assert code == 0 and "\r" not in err
    lines = [line for line in err.splitlines() if "questions answered" in line]
    assert [line.split(",")[0] for line in lines] == [
        "qa: 1/3 questions answered (33%)",
        "qa: 2/3 questions answered (66%)",
        "qa: 3/3 questions answered (100%)",
    ]
    assert all(re.fullmatch(r"qa: .*, \d+ s", line) for line in lines) and err.splitlines()[-1] == lines[-1]


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_come_at_intervals_with_the_count_the_share_and_the_time():
    from qa.progress import Progress

    clock, log = _Clock(), io.StringIO()
    with Progress(800, desc="Answering", unit="q", what="questions answered", file=log, clock=clock) as p:
        p.update(100)
        clock.now = 9.0
        p.update(10)
        assert log.getvalue() == ""  # not before 10 s
        clock.now = 34.2
        p.update(10)
        assert log.getvalue() == "qa: 120/800 questions answered (15%), 34 s\n"
        clock.now = 40.0
        p.update(5)
        clock.now = 125.0
        p.update(675)
    assert log.getvalue().splitlines()[1:] == ["qa: 800/800 questions answered (100%), 2 min 5 s"]


def test_progress_without_a_total_and_a_short_run_that_says_nothing():
    from qa.progress import Progress, track

    clock, log = _Clock(), io.StringIO()
    with Progress(what="sentences embedded", file=log, clock=clock) as p:
        clock.now = 3725.0
        p.update(7)
    assert log.getvalue() == "qa: 7 sentences embedded, 1 h 2 min\n"
    quiet = io.StringIO()
    assert list(track(range(5), what="items done", file=quiet)) == [0, 1, 2, 3, 4]
    assert quiet.getvalue() == ""  # done within the first interval: nothing to say
    off = io.StringIO()
    with Progress(3, what="x", file=off, clock=clock, enabled=False) as p:
        clock.now += 100
        p.update(3)
    assert off.getvalue() == ""


def test_progress_on_a_terminal_is_a_bar_and_messages_print_above_it():
    from qa.progress import Progress, say

    terminal = _Terminal()
    with Progress(4, desc="Answering", unit="q", what="questions answered", file=terminal) as p:
        p.update(1)
        say("qa: warning: a note", file=terminal)
        p.update(3)
    shown = _shown(terminal.getvalue())
    assert "qa: warning: a note" in shown, shown
    assert any(line.startswith("Answering: 100%") and "4/4" in line for line in shown), shown

"""The qa command line: index, ask, batch; output contract, errors and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from conftest import ROOT, SEEDS

from qa.cli import main
from qa.wording import counted


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_prints_answer_and_numbered_sources(capsys, seeds_index):
    code, out, err = run(capsys, "ask", "Who is the deputy mayor of Mariupol?", "--index", seeds_index)
    assert code == 0
    assert "[1]" in out and ("Sources:" in out or "Closest matches:" in out)
    assert ".txt, line " in out


def test_ask_json_is_one_batch_object(capsys, seeds_index):
    code, out, _ = run(
        capsys, "ask", "What kinds of stores were looted?", "--index", seeds_index, "--json", "--top-k", "2"
    )
    assert code == 0
    obj = json.loads(out)
    assert set(obj) == {"id", "question", "answer", "confidence", "citations"}
    assert len(obj["citations"]) == 2
    for c in obj["citations"]:
        assert (SEEDS / c["doc"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["text"]


def test_ask_abstains_plainly(capsys, seeds_index):
    code, out, _ = run(capsys, "ask", "Who won the 1986 World Cup?", "--index", seeds_index, "--threshold", "0.99")
    assert code == 0
    assert "No answer found in the indexed documents" in out and "Closest matches:" in out


def test_empty_question_is_exit_2_one_line(capsys, seeds_index):
    code, out, err = run(capsys, "ask", "   ", "--index", seeds_index)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("qa: error:")


def test_missing_index_is_exit_3_with_the_command_to_fix_it(capsys, tmp_path):
    code, _, err = run(capsys, "ask", "anything?", "--index", tmp_path / "nope")
    assert code == 3
    assert err.count("\n") == 1 and "qa index" in err


def test_batch_jsonl_in_order_with_ids_and_a_bad_line(capsys, seeds_index, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "question": "Who is Sasha Volkov?", "answers": ["ignored"]}),
                "{broken",
                json.dumps({"question": "What has NATO ruled out?"}),
                json.dumps({"id": "c", "question": ""}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out_file = tmp_path / "answers.jsonl"
    code, out, err = run(capsys, "batch", questions, "-o", out_file, "--index", seeds_index, "--top-k", "3")
    assert code == 2  # some lines were skipped
    rows = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "3"]
    assert all(len(r["citations"]) == 3 for r in rows)
    assert "line 2" in err and "line 4" in err


def test_batch_plain_lines_from_stdin(capsys, monkeypatch, seeds_index):
    stdin = io.TextIOWrapper(io.BytesIO(b"Who is Sasha Volkov?\n\nWhat has NATO ruled out?\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run(capsys, "batch", "--index", seeds_index)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["1", "3"]
    assert rows[0]["question"] == "Who is Sasha Volkov?"


def test_batch_missing_input_file(capsys, seeds_index, tmp_path):
    code, _, err = run(capsys, "batch", tmp_path / "missing.jsonl", "--index", seeds_index)
    assert code == 2 and "cannot read" in err


def test_index_command_reports_and_skips_bad_files(capsys, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The lighthouse keeper lit the lamp at dusk. Ships passed safely.", encoding="utf-8")
    (docs / "bad.txt").write_bytes(b"\xff\xfe\x00garbage!")  # a UTF-16 byte-order mark, then an odd byte count
    code, _, err = run(capsys, "index", docs, "--index", tmp_path / "idx")
    assert code == 2  # one policy: malformed input is skipped with a warning, the rest done, exit 2
    assert "bad.txt" in err and "1 document," in err and "the rest was indexed" in err
    code, out, _ = run(capsys, "ask", "Who lit the lamp?", "--index", tmp_path / "idx", "--json")
    assert json.loads(out)["citations"][0]["doc"] == "a.txt"
    # a second run finds nothing to do
    code, _, err = run(capsys, "index", docs, "--index", tmp_path / "idx")
    assert code == 2 and "already up to date" in err


def test_index_missing_path_is_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "index", tmp_path / "missing", "--index", tmp_path / "idx")
    assert code == 2 and "no such file" in err


def test_python_m_qa_help():
    proc = subprocess.run([sys.executable, "-m", "qa", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0
    for command in ("index", "ask", "batch"):
        assert command in proc.stdout


@pytest.mark.parametrize("argv", [["ask"], ["batch", "--top-k", "0"], ["frobnicate"]])
def test_usage_errors_exit_2(argv):
    proc = subprocess.run([sys.executable, "-m", "qa", *argv], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "argv, option",
    [
        (["ask", "Who?", "--threshold", "2"], "--threshold"),
        (["batch", "q.jsonl", "--threshold", "-0.1"], "--threshold"),
        (["eval", "q.jsonl", "--threshold", "1.01"], "--threshold"),
        (["ask", "Who?", "--top-k", "-3"], "--top-k"),
        (["eval", "q.jsonl", "--depth", "0"], "--depth"),
        (["index", "docs", "--wait", "-1"], "--wait"),
    ],
)
def test_out_of_range_options_are_refused_when_parsed(capsys, argv, option):
    """A threshold is a confidence (0 to 1), a count is 1 or more: refused by argparse, before any work."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    _, err = capsys.readouterr()
    assert exit_.value.code == 2
    assert f"argument {option}" in err.splitlines()[-1] and "expected" in err.splitlines()[-1]


def test_a_threshold_of_0_and_1_are_accepted(capsys, seeds_index):
    for threshold in ("0", "1"):
        code, out, _ = run(
            capsys, "ask", "Who is Sasha Volkov?", "--index", seeds_index, "--threshold", threshold, "--json"
        )
        assert code == 0 and (json.loads(out)["answer"] is None) == (threshold == "1")


def test_blank_lines_are_skipped_silently_in_both_formats_and_empty_questions_are_bad(capsys, seeds_index, tmp_path):
    """One policy: a blank line is no question (skipped, no warning, ids stay line numbers), plain or JSONL;
    a JSONL record with an empty question is bad input (a warning naming the line, exit 2)."""
    plain = tmp_path / "q.txt"
    plain.write_text("Who is Sasha Volkov?\n\n   \nWhat has NATO ruled out?\n", encoding="utf-8")
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text(
        json.dumps({"question": "Who is Sasha Volkov?"})
        + "\n\n   \n"
        + json.dumps({"question": "What has NATO ruled out?"})
        + "\n",
        encoding="utf-8",
    )
    for path in (plain, jsonl):
        code, out, err = run(capsys, "batch", path, "--index", seeds_index)
        assert code == 0 and "warning" not in err, err
        assert [json.loads(line)["id"] for line in out.splitlines()] == ["1", "4"]
    jsonl.write_text(json.dumps({"question": "Who is Sasha Volkov?"}) + "\n" + json.dumps({"question": " "}) + "\n")
    code, out, err = run(capsys, "batch", jsonl, "--index", seeds_index)
    assert code == 2 and "line 2: skipped" in err
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["1"]
    help_text = _help("batch")
    assert "blank line is not a question" in help_text and "empty one" in help_text


def _help(command: str) -> str:
    from qa.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._subparsers._group_actions if a.dest == "command").choices[command]
    return sub.format_help()


def test_batch_help_schema_names_the_fields_a_record_really_has(capsys, seeds_index, tmp_path):
    """The JSON schema in `qa batch --help` lists exactly the fields written, at each level."""
    import re

    help_text = _help("batch")
    schema = help_text[help_text.index("{"): help_text.index("}, ...]}") + len("}, ...]}")]
    answer_fields = re.search(r'"answer": \{([^}]*)\}', schema).group(1)
    citation_fields = re.search(r'"citations": \[\{([^}]*)\}', schema).group(1)
    top = re.sub(r"\{[^{}]*\}", "", schema[1:-1])  # the nested objects taken out

    def names(text):
        return set(re.findall(r'"(\w+)"', text))

    questions = tmp_path / "q.txt"
    questions.write_text("Who is Sasha Volkov?\n", encoding="utf-8")
    code, out, _ = run(capsys, "batch", questions, "--index", seeds_index)
    answered = json.loads(out)
    assert names(top) == set(answered)
    assert names(answer_fields) == set(answered["answer"])
    assert names(citation_fields) == set(answered["citations"][0])
    assert code == 0 and '"answer": {' in schema and "} | null" in schema  # null when it abstains


# -- qa batch -o: the output file is replaced only when the run ends with answers (issue 23) --------


def _keep(tmp_path):
    """An existing answers file the run must not empty, and the folder's listing before the run."""
    target = tmp_path / "out" / "keep.jsonl"
    target.parent.mkdir()
    target.write_text('{"id": "old", "question": "kept?"}\n', encoding="utf-8")
    return target, target.read_bytes()


def _questions(tmp_path, *lines: str):
    path = tmp_path / "q.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_batch_with_every_line_bad_leaves_the_output_file_as_it_was(capsys, seeds_index, tmp_path):
    target, before = _keep(tmp_path)
    questions = _questions(tmp_path, "{broken", json.dumps({"id": "e", "question": " "}))
    code, out, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index)
    assert code == 2 and out == ""
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["keep.jsonl"]  # no temporary file left
    errors = [line for line in err.splitlines() if line.startswith("qa: error:")]
    assert len(errors) == 1 and "no question could be answered" in errors[0] and "left as it was" in errors[0]


def test_batch_with_no_questions_at_all_leaves_the_output_file_as_it_was(capsys, seeds_index, tmp_path):
    target, before = _keep(tmp_path)
    code, _, err = run(capsys, "batch", _questions(tmp_path, "", "  "), "-o", target, "--index", seeds_index)
    assert code == 2 and "holds no questions" in err
    assert target.read_bytes() == before


def test_batch_partial_success_writes_the_good_answers_and_exits_2(capsys, seeds_index, tmp_path):
    target, _ = _keep(tmp_path)
    questions = _questions(tmp_path, json.dumps({"id": "g", "question": "Who is Sasha Volkov?"}), "{broken")
    code, _, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index)
    assert code == 2 and "1 input line skipped" in err
    assert [json.loads(line)["id"] for line in target.read_text(encoding="utf-8").splitlines()] == ["g"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["keep.jsonl"]


def test_batch_interrupted_mid_run_leaves_the_output_file_and_keeps_the_answers(
    capsys, seeds_index, tmp_path, monkeypatch
):
    from qa.assistant import Assistant

    target, before = _keep(tmp_path)
    asked = []
    real_ask = Assistant.ask

    def ask_then_ctrl_c(self, *a, **k):
        asked.append(1)
        if len(asked) == 2:  # the first answer is already kept in the side file
            assert sorted(p.name for p in target.parent.iterdir()) == ["keep.jsonl", "keep.jsonl.partial"]
            raise KeyboardInterrupt
        return real_ask(self, *a, **k)

    monkeypatch.setattr(Assistant, "ask", ask_then_ctrl_c)
    questions = _questions(tmp_path, *(json.dumps({"question": q}) for q in ("Who is Sasha Volkov?", "Who died?")))
    code, _, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index)
    assert code == 130 and "qa: interrupted" in err
    assert "qa: 1 answer kept in " in err and "keep.jsonl.partial: the same command goes on from them" in err
    assert target.read_bytes() == before
    # no temporary file; the finished answer is kept for a re-run (tests/test_batch.py)
    assert sorted(p.name for p in target.parent.iterdir()) == ["keep.jsonl", "keep.jsonl.partial"]


@pytest.mark.parametrize("failing", ["side file", "write", "fsync"])
def test_batch_on_a_full_disk_says_so_in_one_line_and_keeps_the_output(
    capsys, seeds_index, tmp_path, monkeypatch, failing
):
    """ENOSPC while an answer is kept in the side file, while OUTPUT is written at the end, or when
    it is flushed to disk: one line, OUTPUT as it was, the finished answers kept."""
    import errno
    import os

    import qa.resumable_output

    target, before = _keep(tmp_path)
    disk_full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if failing == "fsync":

        def fsync(fd):
            raise disk_full

        monkeypatch.setattr(os, "fsync", fsync)
    elif failing == "write":
        real_fdopen = os.fdopen

        class FullDisk(io.TextIOWrapper):
            def write(self, text):
                raise disk_full

        def fdopen(fd, mode="r", *a, encoding=None, **k):
            assert mode == "w"
            return FullDisk(real_fdopen(fd, "wb"), encoding=encoding)

        monkeypatch.setattr(os, "fdopen", fdopen)
    else:

        class FullAfterOneAnswer:
            def __init__(self, file):
                self.file, self.writes = file, 0

            def write(self, data):
                self.writes += 1
                if self.writes == 2:
                    raise disk_full
                return self.file.write(data)

            def __getattr__(self, name):
                return getattr(self.file, name)

        def open_full(path, mode="r", *a, **k):
            f = open(path, mode, *a, **k)
            return FullAfterOneAnswer(f) if mode == "r+b" else f

        monkeypatch.setattr(qa.resumable_output, "open", open_full, raising=False)
    questions = _questions(tmp_path, *(json.dumps({"question": q}) for q in ("Who is Sasha Volkov?", "Who died?")))
    code, out, err = run(capsys, "batch", questions, "-o", target, "--index", seeds_index)
    assert code == 2 and out == ""
    assert "Traceback" not in err and err.count("qa: error:") == 1
    error = next(line for line in err.splitlines() if line.startswith("qa: error:"))
    assert "No space left on device" in error and "keep.jsonl is unchanged" in error
    assert target.read_bytes() == before
    # no temporary file; the answers are kept for a re-run once there is room
    assert sorted(p.name for p in target.parent.iterdir()) == ["keep.jsonl", "keep.jsonl.partial"]
    kept = 1 if failing == "side file" else 2
    assert f"qa: {counted(kept, 'answer')} kept in " in err


def test_batch_ctrl_c_from_a_terminal_leaves_the_output_file(seeds_index, tmp_path):
    """A real SIGINT while the batch waits for its next question on a pipe: exit 130, OUTPUT as it was."""
    import signal
    import time

    from helpers_robust import qa_command, qa_env

    target, before = _keep(tmp_path)
    proc = subprocess.Popen(
        qa_command("batch", "-", "-o", target, "--index", seeds_index),
        env=qa_env(fake=False),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal (see test_crash_safety)
    )
    proc.stdin.write(b"Who is Sasha Volkov?\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 90
    side = target.parent / "keep.jsonl.partial"
    while not (side.exists() and side.read_bytes().count(b"\n") == 2):  # its first line, and one answer
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.communicate()[1].decode("utf-8", "replace")
            pytest.fail(f"no answer kept beside OUTPUT: {err}")
        time.sleep(0.05)  # the first answer is kept; the batch waits for a second line
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    err = err.decode(errors="replace")
    assert proc.returncode == 130 and "qa: interrupted" in err and "Traceback" not in err, err
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["keep.jsonl", "keep.jsonl.partial"]
    assert json.loads(side.read_text(encoding="utf-8").splitlines()[1])["question"] == "Who is Sasha Volkov?"


def test_batch_without_output_still_streams_each_answer_to_stdout(seeds_index, tmp_path):
    """No -o: the first answer reaches stdout before the next question has arrived."""
    from helpers_robust import qa_command, qa_env

    proc = subprocess.Popen(
        qa_command("batch", "--index", seeds_index),
        env=qa_env(fake=False),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdin.write(b"Who is Sasha Volkov?\n")
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())
    assert first["id"] == "1"
    out, _ = proc.communicate(b"What has NATO ruled out?\n", timeout=120)
    assert proc.returncode == 0 and json.loads(out)["id"] == "2"


def test_batch_output_keeps_a_symlink_and_the_file_mode_and_writes_devices_in_place(tmp_path):
    import os
    import stat

    from qa.atomic_output import AtomicTextFile

    real = tmp_path / "real.jsonl"
    real.write_text("old\n", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    out = AtomicTextFile(link)
    out.write("new\n")
    assert real.read_text(encoding="utf-8") == "old\n"  # not before the commit
    out.commit()
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.jsonl", "real.jsonl"]
    devnull = AtomicTextFile(os.devnull)  # not a regular file: written in place, never replaced
    devnull.write("x\n")
    devnull.commit()
    assert not stat.S_ISREG(os.stat(os.devnull).st_mode)


WRAPPED = (  # hard-wrapped prose: the answer to "What else did Ada Quill design?" spans a line break
    "The harbour's fleet grew quickly after the railway came in 1869. By 1890 the\n"
    "port counted forty small trawlers that fished in the North Sea and landed\n"
    "their catch at the new fish market beside the station. The market was built\n"
    "by the engineer Ada Quill, who also designed the lighthouse on the north pier\n"
    "and the harbour's first steam crane.\n"
)


def test_ask_shows_an_answer_across_a_line_break_on_one_line(capsys, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "fleet.txt").write_text(WRAPPED, encoding="utf-8")
    assert run(capsys, "index", docs, "--index", tmp_path / "idx")[0] == 0
    question = "What else did Ada Quill design?"
    code, out, _ = run(capsys, "ask", question, "--index", tmp_path / "idx", "--json")
    answer = json.loads(out)["answer"]
    assert "\n" in answer["text"]  # the JSON keeps the exact text, line break and all
    assert answer["text"] == WRAPPED[answer["start"] : answer["end"]]
    code, out, _ = run(capsys, "ask", question, "--index", tmp_path / "idx")
    assert code == 0
    assert out.splitlines()[0].startswith(answer["text"].replace("\n", " ") + "  [1]  (confidence ")


def test_render_puts_the_answer_on_one_line():
    from qa.assistant import Answer, Citation, Result
    from qa.commands.ask import render

    sentence = WRAPPED[WRAPPED.index("The market") :].rstrip()
    at = WRAPPED.index(sentence)
    c = Citation("fleet.txt", at, at + len(sentence), sentence, 0.7, 3, None, None)
    span = "the lighthouse on the north pier\nand the harbour's first steam crane"
    start = c.start + sentence.index(span)
    lines = render(Result("What else?", Answer(span, c.doc, start, start + len(span), c), 0.7, [c]), color=False)
    first = lines.splitlines()[0]
    assert first == "the lighthouse on the north pier and the harbour's first steam crane  [1]  (confidence 0.70)"


def test_render_joins_a_word_hyphenated_across_a_wrapped_line():
    from qa.assistant import Answer, Citation, Result
    from qa.commands.ask import render

    sentence = "The doors were painted a deep cobalt-\nblue by the first keeper."
    c = Citation("keepers.txt", 0, len(sentence), sentence, 0.7, 1, None, None)
    span = "a deep cobalt-\nblue"
    start = sentence.index(span)
    lines = render(Result("What colour?", Answer(span, c.doc, start, start + len(span), c), 0.7, [c]), color=False)
    assert lines.splitlines()[0] == "a deep cobalt-blue  [1]  (confidence 0.70)"
    assert c.text[start : start + len(span)] == span  # the citation's characters are the source's

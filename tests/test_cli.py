"""The qa command line: index, ask, batch; output contract, errors and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from conftest import ROOT, SEEDS

from qa.cli import main


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
    (docs / "bad.txt").write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run(capsys, "index", docs, "--index", tmp_path / "idx")
    assert code == 2  # one policy: malformed input is skipped with a warning, the rest done, exit 2
    assert "bad.txt" in err and "1 documents" in err and "the rest was indexed" in err
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

"""Progress on stderr: a bar on a terminal, short lines at intervals otherwise (``qa.progress``)."""

from __future__ import annotations

import io
import re

from helpers_robust import HashEncoder, write_corpus

from qa.cli import main
from qa.progress import Progress

LINE = re.compile(r"^qa: indexed ([\d,]+)/([\d,]+) sentences \((\d+)%\), \d+ s$", re.M)


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_lines_at_intervals_when_not_a_terminal(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("qa.progress.time.monotonic", lambda: clock[0])
    out = _Pipe()
    with Progress(7800, "indexed", "sentences", interval=10, stream=out) as progress:
        for at, n in [(105, 300), (110, 300), (115, 300), (140, 300)]:
            clock[0] = at
            progress.update(n)
    lines = out.getvalue().splitlines()
    assert lines == ["qa: indexed 600/7,800 sentences (8%), 10 s", "qa: indexed 1,200/7,800 sentences (15%), 40 s"]


def test_nothing_when_disabled(monkeypatch):
    monkeypatch.setattr("qa.progress.time.monotonic", iter(range(0, 1000, 30)).__next__)
    out = _Pipe()
    with Progress(10, "indexed", "sentences", enabled=False, stream=out) as progress:
        progress.update(5)
        progress.update(5)
    assert out.getvalue() == ""


def test_qa_index_prints_progress_lines_when_stderr_is_redirected(tmp_path, monkeypatch, capsys):
    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=12)
    monkeypatch.setattr("qa.progress.INTERVAL", 0.0)  # a line at every step
    monkeypatch.setattr("embeddings.load_encoder", lambda backend="onnx": HashEncoder())
    assert main(["index", str(docs), "--index", str(tmp_path / "index")]) == 0
    lines = LINE.findall(capsys.readouterr().err)
    assert len(lines) >= 2
    done = [int(d.replace(",", "")) for d, _, _ in lines]
    totals = {int(t.replace(",", "")) for _, t, _ in lines}
    assert done == sorted(done) and totals == {12 * 13} and done[-1] == 12 * 13

    assert main(["index", str(docs), "--index", str(tmp_path / "other"), "-q"]) == 0
    assert capsys.readouterr().err == ""

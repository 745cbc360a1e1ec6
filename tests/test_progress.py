"""Progress on stderr: a bar on a terminal, short lines at intervals otherwise (``qa.progress``)."""

from __future__ import annotations

import re

from helpers_robust import HashEncoder, write_corpus

from qa.cli import main

LINE = re.compile(r"^qa: ([\d,]+)/([\d,]+) sentences indexed \((\d+)%\), .+$", re.M)


def test_qa_index_prints_progress_lines_when_stderr_is_redirected(tmp_path, monkeypatch, capsys):
    docs = tmp_path / "docs"
    write_corpus(docs, n_docs=12)
    monkeypatch.setattr("qa.progress.INTERVAL_S", 0.0)  # a line at every step
    monkeypatch.setattr("embeddings.load_encoder", lambda backend="onnx": HashEncoder())
    assert main(["index", str(docs), "--index", str(tmp_path / "index")]) == 0
    lines = LINE.findall(capsys.readouterr().err)
    assert len(lines) >= 2
    done = [int(d.replace(",", "")) for d, _, _ in lines]
    totals = {int(t.replace(",", "")) for _, t, _ in lines}
    assert done == sorted(done) and totals == {12 * 13} and done[-1] == 12 * 13

    assert main(["index", str(docs), "--index", str(tmp_path / "other"), "-q"]) == 0
    assert capsys.readouterr().err == ""

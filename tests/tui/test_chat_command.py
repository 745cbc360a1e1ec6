"""`qa chat` from the command line."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def _qa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa", *args], cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_chat_is_listed_in_help():
    done = _qa("--help")
    assert done.returncode == 0
    assert "chat" in done.stdout


def test_chat_without_a_terminal_is_a_clear_error():
    done = _qa("chat")
    assert done.returncode == 2
    assert done.stderr.strip() == "qa: error: qa chat needs a terminal; for scripts use qa ask or qa batch"
    assert "Traceback" not in done.stderr


def test_bare_qa_without_a_terminal_prints_help():
    done = _qa()
    assert done.returncode == 0
    assert "usage: qa" in done.stdout


def test_chat_doc_naming_no_document_is_a_clear_error(seeds_index):
    done = _qa("chat", "--index", str(seeds_index), "--doc", "no-such-document.txt")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("qa: error: --doc no-such-document.txt: no indexed document")
    assert "Traceback" not in done.stderr

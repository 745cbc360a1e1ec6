"""No network at run time: index, ask, batch and eval with every socket blocked.

The commands run in subprocesses through the test wrapper with
``CITEQA_TEST_NO_NETWORK=1``: ``socket.connect``/``connect_ex``/``sendto``,
``socket.create_connection`` and ``getaddrinfo`` raise and log each attempt. The
real models are used (sentence-transformers for indexing, ONNX for queries), and
the Hugging Face offline switches are removed from the environment, so the
product itself must keep from reaching the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_robust import TESTS, assert_no_traceback, qa_env, run_qa

SEEDS = TESTS.parent / "seeds"
QUESTIONS = TESTS / "data" / "seeds-dev.jsonl"
_OFFLINE_SWITCHES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


def _offline_run(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    netlog = tmp / "netlog"
    env = {"CITEQA_TEST_NO_NETWORK": "1", "CITEQA_TEST_NETLOG": str(netlog), "CITEQA_CACHE": str(tmp / "cache")}
    saved = {k: os.environ.pop(k) for k in _OFFLINE_SWITCHES if k in os.environ}
    try:
        proc = run_qa(*args, fake=False, timeout=600, **env)
    finally:
        os.environ.update(saved)
    attempts = netlog.read_text() if netlog.exists() else ""
    assert not attempts, f"qa {args[0]} tried to reach the network:\n{attempts}"
    return proc


@pytest.fixture(scope="module")
def offline_index(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("offline")
    proc = _offline_run(tmp, "index", str(SEEDS), "--index", str(tmp / "index"), "-q")
    assert_no_traceback(proc, codes=(0,))
    return tmp, tmp / "index"


def test_blocker_blocks(tmp_path):
    """The wrapper's blocker does stop a connection (so the other tests mean something)."""
    netlog = tmp_path / "netlog"
    code = (
        f"import sys; sys.path.insert(0, {str(TESTS)!r}); import helpers_robust; helpers_robust._install_no_network()\n"
        "import urllib.request\n"
        "try:\n    urllib.request.urlopen('http://127.0.0.1:9/', timeout=2)\n"
        "except OSError as e:\n    print('blocked', e)\n"
    )
    env = qa_env(fake=False, CITEQA_TEST_NETLOG=str(netlog))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert "blocked" in proc.stdout, proc.stderr
    assert netlog.read_text().strip()


@pytest.mark.slow
def test_index_offline(offline_index):
    tmp, index = offline_index
    assert (index / "manifest.json").exists()
    assert run_qa("index", "--check", str(index)).returncode == 0


def test_ask_offline(offline_index):
    tmp, index = offline_index
    proc = _offline_run(tmp, "ask", "Who is the deputy mayor of Mariupol?", "--index", str(index), "--json")
    assert_no_traceback(proc, codes=(0,))
    assert json.loads(proc.stdout)["citations"]


def _five_questions(tmp: Path) -> Path:
    lines = [line for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()][:5]
    path = tmp / "five.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_batch_offline(offline_index):
    tmp, index = offline_index
    proc = _offline_run(tmp, "batch", str(_five_questions(tmp)), "--index", str(index))
    assert_no_traceback(proc, codes=(0,))
    assert len(proc.stdout.splitlines()) == 5


def test_eval_offline(offline_index):
    if run_qa("eval", "--help").returncode != 0:
        pytest.skip("this citeqa has no qa eval")
    tmp, index = offline_index
    proc = _offline_run(tmp, "eval", str(_five_questions(tmp)), "--index", str(index), "--no-progress")
    assert_no_traceback(proc, codes=(0, 2))
    assert proc.stdout.strip()

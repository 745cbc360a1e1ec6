"""Helpers for the robustness tests (crash safety, concurrency, hostile input, corrupt files, no network).

* ``HashEncoder``: a deterministic, fast stand-in for the sentence model (hashed
  word and character-trigram counts, L2-normalised). Lexical, so questions that
  share words with a sentence still find it. TESTS ONLY.
* ``run_qa(...)``: runs the real ``qa`` command line in a subprocess through a
  small wrapper (``python -c WRAPPER``). Environment switches the wrapper honours
  (all of them test hooks, none read by the product):

  - ``CITEQA_TEST_FAKE_ENCODER=1``: ``embeddings.load_encoder`` returns a ``HashEncoder``;
  - ``CITEQA_TEST_ENCODE_DELAY=S``: the ``HashEncoder`` sleeps S seconds per batch
    (a slow writer, to hold the lock or be killed mid-write);
  - ``CITEQA_TEST_ENCODE_GATE=FILE``: the ``HashEncoder`` waits until FILE exists
    (a writer held mid-write, holding the lock, until the test lets it go);
  - ``CITEQA_TEST_ENCODED_LOG=FILE``: the ``HashEncoder`` appends each text it has encoded to FILE,
    one JSON string a line, batch by batch (what a killed run embedded);
  - ``CITEQA_TEST_COMMIT_SENTENCES=N``: ``qa index`` commits in parts of N new sentences
    (``qa.index.writer.COMMIT_SENTENCES``), so that a small corpus spans several;
  - ``CITEQA_TEST_KILL_AT=N``: the process SIGKILLs itself just before its N-th
    write event (SQLite execute/commit/backup, FAISS write, fsync, replace, unlink,
    encoder batch); ``CITEQA_TEST_EVENTS=FILE`` writes the events' names, one a line;
  - ``CITEQA_TEST_NO_NETWORK=1``: every socket connect/resolve raises ``OSError``
    and each attempt is logged to ``CITEQA_TEST_NETLOG``;
  - ``CITEQA_TEST_ASK_LOG=FILE``: each question ``Assistant.ask`` is given is appended to
    FILE, one a line, before it is answered (which questions a run really asked).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from embeddings.model import DIM, BaseEncoder, Encoder

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

_WORD = re.compile(r"\w+")


class HashEncoder(BaseEncoder):
    """Deterministic hashed bag of words and character trigrams (TESTS ONLY).

    Each word is a "token" whose vector hashes the word and its trigrams; the
    sentence vector is their normalised mean, as for the real model."""

    max_tokens = 256

    def __init__(self, delay: float = 0.0, gate: str | None = None, log: str | None = None) -> None:
        self.delay = delay
        self.gate = gate
        self.log = log
        self.encoded: list[str] = []  # every text encoded, in order (tests check what was embedded)

    @staticmethod
    @functools.lru_cache(maxsize=65536)  # words repeat: the huge-input tests hash millions of them
    def _word_vector(word: str) -> np.ndarray:
        v = np.zeros(DIM, dtype=np.float32)
        for f in [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]:
            h = int.from_bytes(hashlib.blake2b(f.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
            v[h % DIM] += 1.0 if (h >> 32) & 1 else -1.0
        n = np.linalg.norm(v)
        v = v / n if n else v
        v.flags.writeable = False  # shared by the cache
        return v

    def _hidden_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        while self.gate and not os.path.exists(self.gate):  # hold the write until the test opens the gate
            time.sleep(0.01)
        if self.delay:
            time.sleep(self.delay)
        self.encoded.extend(texts)
        words = [[w.lower() for w in _WORD.findall(t[:20000])][: self.max_tokens] or ["\x00"] for t in texts]
        width = max(len(w) for w in words)
        hidden = np.zeros((len(texts), width, DIM), dtype=np.float32)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, ws in enumerate(words):
            hidden[row, : len(ws)] = [self._word_vector(w) for w in ws]
            mask[row, : len(ws)] = 1
        if self.log:
            with open(self.log, "a", encoding="utf-8") as f:
                f.write("".join(json.dumps(t) + "\n" for t in texts))
        return hidden, mask

    def token_offsets(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        words = list(_WORD.finditer(text[:20000]))[: self.max_tokens]
        return [m.group().lower() for m in words], [m.span() for m in words]

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        hidden, mask = self._hidden_batch(texts)  # (hidden is 0 where mask is)
        pooled = hidden.sum(axis=1, dtype=np.float64) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (pooled / norms).astype(np.float32)


# -- the subprocess wrapper --------------------------------------------------------------

WRAPPER = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import helpers_robust
sys.exit(helpers_robust._wrapped_main(sys.argv[1:]))
"""


def _install_fake_encoder() -> None:
    import embeddings
    import embeddings.model

    delay = float(os.environ.get("CITEQA_TEST_ENCODE_DELAY") or 0)
    gate = os.environ.get("CITEQA_TEST_ENCODE_GATE") or None
    log = os.environ.get("CITEQA_TEST_ENCODED_LOG") or None

    def load_encoder(backend: str = "onnx") -> Encoder:
        return HashEncoder(delay, gate, log)

    embeddings.load_encoder = load_encoder
    embeddings.model.load_encoder = load_encoder


def _install_no_network() -> None:
    import socket

    log = os.environ.get("CITEQA_TEST_NETLOG")

    def refuse(what):
        def blocked(*args, **kwargs):
            if log:
                with open(log, "a", encoding="utf-8") as f:
                    f.write(f"{what} {args[1:2] if what.startswith('socket.') else args[:1]}\n")
            raise OSError(f"network access blocked by the test ({what})")

        return blocked

    socket.socket.connect = refuse("socket.connect")
    socket.socket.connect_ex = refuse("socket.connect_ex")
    socket.socket.sendto = refuse("socket.sendto")
    socket.create_connection = refuse("create_connection")
    socket.getaddrinfo = refuse("getaddrinfo")


class _Events:
    """Counts write events and SIGKILLs the process before the chosen one."""

    def __init__(self, kill_at: int | None, out: str | None) -> None:
        self.n, self.kill_at, self.out = 0, kill_at, out
        self.names: list[str] = []

    def tick(self, name: str) -> None:
        self.n += 1
        self.names.append(name)
        if self.kill_at is not None and self.n >= self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def save(self) -> None:
        if self.out:
            Path(self.out).write_text("\n".join(self.names) + "\n", encoding="utf-8")


def _install_kill_points(events: _Events, argv: list[str]) -> None:
    import sqlite3

    import faiss

    def counted(fn, name):
        def wrapper(*args, **kwargs):
            events.tick(name)
            return fn(*args, **kwargs)

        return wrapper

    class CountingConnection(sqlite3.Connection):
        def execute(self, *a, **k):
            events.tick("sqlite.execute")
            return super().execute(*a, **k)

        def executescript(self, *a, **k):
            events.tick("sqlite.executescript")
            return super().executescript(*a, **k)

        def commit(self):
            events.tick("sqlite.commit")
            return super().commit()

        def backup(self, *a, **k):
            events.tick("sqlite.backup")
            return super().backup(*a, **k)

    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        kwargs.setdefault("factory", CountingConnection)
        return real_connect(*args, **kwargs)

    sqlite3.connect = connect
    faiss.write_index = counted(faiss.write_index, "faiss.write_index")
    os.fsync = counted(os.fsync, "os.fsync")
    os.replace = counted(os.replace, "os.replace")
    os.unlink = counted(os.unlink, "os.unlink")
    HashEncoder._hidden_batch = counted(HashEncoder._hidden_batch, "encode")

    # the Milvus backend's writes, in a run on a Milvus index only (importing pymilvus takes 2-3 s,
    # which a run on a local index would spend for nothing)
    if any(str(a).startswith("milvus:") for a in argv):
        from pymilvus import MilvusClient

        for name in ("insert", "upsert", "delete", "flush"):
            setattr(MilvusClient, name, counted(getattr(MilvusClient, name), f"milvus.{name}"))


def _install_ask_log(path: str) -> None:
    from qa.assistant import Assistant

    real_ask = Assistant.ask

    def ask(self, question, *args, **kwargs):
        with open(path, "a", encoding="utf-8") as f:
            f.write(question + "\n")
        return real_ask(self, question, *args, **kwargs)

    Assistant.ask = ask


def _wrapped_main(argv: list[str]) -> int:
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1)  # a test that finds the process stuck asks for its stack
    if os.environ.get("CITEQA_TEST_NO_NETWORK"):
        _install_no_network()
    if os.environ.get("CITEQA_TEST_FAKE_ENCODER"):
        _install_fake_encoder()
    if os.environ.get("CITEQA_TEST_ASK_LOG"):
        _install_ask_log(os.environ["CITEQA_TEST_ASK_LOG"])
    if os.environ.get("CITEQA_TEST_COMMIT_SENTENCES"):
        import qa.index.writer

        qa.index.writer.COMMIT_SENTENCES = int(os.environ["CITEQA_TEST_COMMIT_SENTENCES"])
    events = None
    if os.environ.get("CITEQA_TEST_KILL_AT") or os.environ.get("CITEQA_TEST_EVENTS"):
        kill_at = os.environ.get("CITEQA_TEST_KILL_AT")
        events = _Events(int(kill_at) if kill_at else None, os.environ.get("CITEQA_TEST_EVENTS"))
        _install_kill_points(events, argv)
    from qa.cli import main

    code = main(argv)
    if events is not None:
        events.save()
    return code


def qa_command(*args: str) -> list[str]:
    return [sys.executable, "-c", WRAPPER, *map(str, args)]


def qa_env(fake: bool = True, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("QA_DEBUG", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    if fake:
        env["CITEQA_TEST_FAKE_ENCODER"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_qa(
    *args: str, fake: bool = True, input: bytes | None = None, timeout: float = 300, **env
) -> subprocess.CompletedProcess:
    """Run ``qa ARGS`` through the wrapper; stdout/stderr as text (undecodable bytes replaced)."""
    proc = subprocess.run(qa_command(*args), env=qa_env(fake, **env), input=input, capture_output=True, timeout=timeout)
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )


def assert_clean_failure(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """The run failed with ``code`` and exactly one ``qa: error:`` line, no traceback; returns that line."""
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "internal error" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("qa: error:")]
    assert proc.returncode == code, (proc.returncode, proc.stderr[-3000:])
    assert len(errors) == 1, proc.stderr[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def assert_no_traceback(proc: subprocess.CompletedProcess, codes=(0, 2, 3)) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "internal error" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode in codes, (proc.returncode, proc.stderr[-3000:])
    errors = [line for line in proc.stderr.splitlines() if line.startswith("qa: error:")]
    assert len(errors) == (0 if proc.returncode == 0 else 1), proc.stderr[-3000:]


# -- corpora and index contents ----------------------------------------------------------

_TOPICS = [
    ("harbour", "The harbour master {n} opened the northern gate at dawn on day {n}."),
    ("bridge", "Engineers finished the stone bridge number {n} after {n} months of work."),
    ("library", "The city library received {n} new atlases donated by the guild."),
    ("orchard", "Farmers in orchard {n} picked apples while the bells rang {n} times."),
    ("council", "Council member {n} voted against the tax on salt and wool."),
]


def write_corpus(folder: Path, n_docs: int = 30, version: str = "a", sentences: int = 12) -> dict[str, str]:
    """Write ``n_docs`` small text files; returns {doc id: text}. ``version`` changes some texts."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    texts = {}
    for d in range(n_docs):
        topic, template = _TOPICS[d % len(_TOPICS)]
        lines = [f"Report {d} about the {topic}."]
        for s in range(sentences):
            lines.append(template.format(n=d * 100 + s))
        if version != "a" and d % 4 == 0:
            lines.append(f"Revision {version}: the {topic} record {d} was amended by the clerk.")
        texts[f"doc{d:03d}.txt"] = "\n".join(lines) + "\n"
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return texts


def corpus_b(folder: Path, n_docs: int = 30) -> dict[str, str]:
    """Version b of ``write_corpus``: some documents changed, some removed, some added."""
    texts = write_corpus(folder, n_docs + 5, version="b")
    for d in range(0, n_docs, 6):
        name = f"doc{d + 1:03d}.txt"
        (folder / name).unlink()
        del texts[name]
    return texts


def hashes(texts: dict[str, str]) -> dict[str, str]:
    return {k: hashlib.sha256(v.encode("utf-8")).hexdigest() for k, v in texts.items()}


def index_contents(index_dir: Path) -> dict[str, str]:
    """{doc id: sha256 of the stored text} of the committed index, recomputed from the text."""
    from qa.index import open_index

    store = open_index(index_dir)
    try:
        return {d.id: hashlib.sha256(store.text(d.id).encode("utf-8")).hexdigest() for d in store.documents()}
    finally:
        store.close()


def build_index(index_dir: Path, docs_dir: Path, rebuild: bool = False):
    """Index ``docs_dir`` in-process with the hash encoder."""
    from qa.documents import read_documents
    from qa.index import update_index

    return update_index(index_dir, read_documents([docs_dir]), HashEncoder, rebuild=rebuild, notify=lambda m: None)


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """{name: (size, sha256)} of every file in ``folder`` (to prove nothing was touched)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[p.relative_to(folder).as_posix()] = (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
    return out

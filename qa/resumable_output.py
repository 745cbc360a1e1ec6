"""The output file of ``qa batch -o OUTPUT``, resumable: each answer is kept in ``OUTPUT.partial``
as soon as it is finished, and OUTPUT is written whole from it when the run ends.

An interrupted run (Ctrl-C, a kill, a full disk) leaves OUTPUT as it was and its answers in
OUTPUT.partial; the same command then goes on from them, and OUTPUT comes out as it would have
from a run never interrupted. OUTPUT.partial is removed once OUTPUT is written, and when it holds
no answer.

Layout of OUTPUT.partial: a first line ``{"qa batch partial answers": 1, "fingerprint": "<hex>"}``,
then one answer a line, exactly as OUTPUT gets it, each flushed when it is written. The
fingerprint stands for what an answer depends on besides its question (the options, the index's
content, the citeqa version): a file with another one is started over. A kept answer is used again
for a question with the same ``"id"`` and ``"question"``. A last line cut short by a kill is
dropped when the file is opened again.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from qa.atomic_output import AtomicTextFile
from qa.errors import BadInputError

MARK = "qa batch partial answers"


def side_file(target: str | os.PathLike[str]) -> Path:
    """Where the answers of a run writing ``target`` are kept."""
    return Path(f"{os.fspath(target)}.partial")


class ResumableOutput:
    """Answer lines for ``target``, kept in its side file; ``fingerprint`` as in the module's doc."""

    def __init__(self, target: str | os.PathLike[str], fingerprint: str) -> None:
        self.target = Path(target)
        self.path = side_file(target)
        #: whether a side file from a run with another fingerprint was found, and started over
        self.started_over = False
        self._kept: dict[tuple[str, str], tuple[int, int]] = {}  # (id, question) -> (offset, length)
        self._order: list[tuple[int, int]] = []  # where OUTPUT's lines lie in the side file, in order
        self._added = 0
        end = self._read(fingerprint)
        if end is None:
            end = self._start(fingerprint)
        self._end = end
        self._file = self._guarded(lambda: open(self.path, "r+b"))
        self._guarded(lambda: (self._file.truncate(end), self._file.seek(end)))  # a line cut short goes

    @property
    def count(self) -> int:
        """The answers in the side file."""
        return len(self._kept) + self._added

    def has(self, qid: str, question: str) -> bool:
        """Whether an answer to this question was kept by an earlier run."""
        return (qid, question) in self._kept

    def use_kept(self, qid: str, question: str) -> bool:
        """Put the kept answer to this question next in OUTPUT; False when there is none."""
        where = self._kept.get((qid, question))
        if where is not None:
            self._order.append(where)
        return where is not None

    def write(self, line: str) -> None:
        """Keep a new answer line (ending in a newline), next in OUTPUT."""
        data = line.encode("utf-8")
        self._guarded(lambda: (self._file.write(data), self._file.flush()))
        self._order.append((self._end, len(data)))
        self._end += len(data)
        self._added += 1

    def commit(self) -> None:
        """Write OUTPUT whole (``AtomicTextFile``), then remove the side file."""
        out = AtomicTextFile(self.target)
        try:
            chunk: list[bytes] = []
            for offset, length in self._order:
                self._file.seek(offset)
                chunk.append(self._file.read(length))
                if len(chunk) == 1000:
                    out.write(b"".join(chunk).decode("utf-8"))
                    chunk = []
            out.write(b"".join(chunk).decode("utf-8"))
            out.commit()
        except BaseException:
            out.discard()
            raise
        self._close(remove=True)

    def discard(self) -> None:
        """The run stopped: OUTPUT stays as it was; the side file too, if it holds an answer."""
        self._close(remove=self.count == 0)

    def _close(self, remove: bool) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        if remove:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def _read(self, fingerprint: str) -> int | None:
        """Load the answers of an earlier run with ``fingerprint``; the length of the file's whole
        lines, or None when there is no such file to go on with."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise BadInputError(f"cannot read {self.path}: {e.strerror}") from None
        if not data:  # killed as it was created
            return None
        lines = data.split(b"\n")
        header = _header(lines[0]) if len(lines) > 1 else None
        if header is None:
            raise BadInputError(f"{self.path} is in the way: it is not answers kept by qa batch; move it or remove it")
        if header.get("fingerprint") != fingerprint:
            self.started_over = True
            return None
        end = len(lines[0]) + 1
        for raw in lines[1:-1]:  # the last piece follows the last newline: a line cut short, or nothing
            try:
                record = json.loads(raw.decode("utf-8"))
                key = (record["id"], record["question"])
                self._kept[key] = (end, len(raw) + 1)
            except (ValueError, TypeError, KeyError):
                break
            end += len(raw) + 1
        return end

    def _start(self, fingerprint: str) -> int:
        """A new side file with its first line (one small write: a kill leaves it whole or empty); its length."""
        header = (json.dumps({MARK: 1, "fingerprint": fingerprint}) + "\n").encode("utf-8")

        def create() -> None:
            with open(self.path, "wb") as f:
                f.write(header)

        self._guarded(create)
        return len(header)

    def _guarded(self, action):
        try:
            return action()
        except OSError as e:
            untouched = "is unchanged" if os.path.lexists(self.target) else "was not created"
            raise BadInputError(f"cannot write {self.path}: {e.strerror or e}; {self.target} {untouched}") from None


def _header(line: bytes) -> dict | None:
    try:
        header = json.loads(line)
    except ValueError:
        return None
    return header if isinstance(header, dict) and header.get(MARK) == 1 else None

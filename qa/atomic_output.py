"""An output file written whole or not at all.

``AtomicTextFile(target)`` writes under a temporary name in the target's folder; ``commit()``
flushes it to disk (fsync) and renames it over the target (``os.replace``, as the index writes
its manifest), and ``discard()`` removes it. Until ``commit()``, the target is as it was: an
interrupted run, a full disk or a run with nothing to write leaves it unchanged, and no temporary
file behind. A target that is not a regular file (``/dev/null``, a named pipe) cannot be replaced
and is written in place. ``written_in_place(target)`` says which, and checks that the target can
be written, before any work.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from qa.errors import BadInputError


class AtomicTextFile:
    """A UTF-8 text file for ``target``, replacing it only on ``commit()``."""

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self.target = Path(target)
        self._tmp: Path | None = None
        in_place = written_in_place(self.target)
        real = Path(os.path.realpath(self.target))  # a symbolic link keeps pointing at the new file
        existing = _stat(real)
        self._existed = existing is not None
        if in_place:
            self._real = real  # a device or a pipe: written as it is
            self._file = self._guarded(lambda: open(real, "w", encoding="utf-8"))
            return
        self._real = real
        fd, tmp = self._guarded(lambda: tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp"))
        self._tmp = Path(tmp)
        try:
            with contextlib.suppress(OSError):  # the target's mode, or a new file's usual one
                os.chmod(fd, stat.S_IMODE(existing.st_mode) if existing is not None else 0o666 & ~_umask())
            self._file = os.fdopen(fd, "w", encoding="utf-8")
        except BaseException:
            os.close(fd)
            self._remove_tmp()
            raise

    def write(self, text: str) -> None:
        """Write ``text`` and flush it (a reader of a pipe or ``tail -f`` sees each line at once)."""
        self._guarded(lambda: (self._file.write(text), self._file.flush()))

    def commit(self) -> None:
        """Put the written text in place of the target (durably), then close."""
        if self._tmp is None:
            self._guarded(self._file.close)
            return
        try:
            self._guarded(lambda: (self._file.flush(), os.fsync(self._file.fileno()), self._file.close()))
            self._guarded(lambda: os.replace(self._tmp, self._real))
        except BaseException:
            self.discard()
            raise
        self._tmp = None
        with contextlib.suppress(OSError):  # the rename itself made durable, where the system allows
            fd = os.open(self._real.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def discard(self) -> None:
        """Close and remove the temporary file: the target stays as it was."""
        with contextlib.suppress(OSError):
            self._file.close()
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.unlink()
            self._tmp = None

    def _guarded(self, action):
        """``action()``, with an ``OSError`` (a full disk, no permission) said in one line."""
        try:
            return action()
        except OSError as e:
            raise BadInputError(f"cannot write {self.target}: {e.strerror or e}{self._untouched()}") from None

    def _untouched(self) -> str:
        if self._tmp is None:
            return ""
        return f"; {self.target} is unchanged" if self._existed else f"; {self.target} was not created"


def written_in_place(target: str | os.PathLike[str]) -> bool:
    """Whether ``target`` is a device or a pipe, written in place rather than replaced;
    ``BadInputError`` now when it is a folder or cannot be written."""
    real = Path(os.path.realpath(target))
    if real.is_dir():
        raise BadInputError(f"cannot write {target}: it is a folder; give a file name")
    existing = _stat(real)
    if existing is not None and existing.st_mode and not stat.S_ISREG(existing.st_mode):
        return True
    if existing is not None and not os.access(real, os.W_OK):
        raise BadInputError(f"cannot write {target}: Permission denied")
    if existing is None and not os.access(real.parent, os.W_OK | os.X_OK):
        why = "Permission denied" if real.parent.is_dir() else f"no folder {real.parent}"
        raise BadInputError(f"cannot write {target}: {why}")
    return False


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BadInputError(f"cannot write {path}: {e.strerror}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

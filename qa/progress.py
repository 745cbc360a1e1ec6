"""Progress of a long command on stderr: a bar on a terminal, a line now and then otherwise.

``Progress(total, desc=..., unit=..., what=...)`` counts work done with ``update(n)`` and is a
context manager (``close()`` on leaving); ``track(iterable, ...)`` counts the items of an
iterable as they are used. On a terminal it draws a tqdm bar (``desc``, ``unit``). Elsewhere
(stderr redirected to a log, a CI job) it writes a line such as
``qa: 120/800 questions answered (15%), 34 s`` each time ``INTERVAL_S`` seconds have passed
since the last one, and a last one at the end if it wrote any: a short run says nothing.
``say(line)`` prints a message on stderr without breaking a bar that is drawn.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO, TypeVar

#: Seconds between two progress lines when stderr is not a terminal.
INTERVAL_S = 10.0

T = TypeVar("T")


class Progress:
    """Work done out of ``total`` (None when unknown), shown on ``file`` (default: stderr).

    ``what`` names the work in the lines ("questions answered"); ``desc`` and ``unit`` label
    the bar ("Answering", "q"); ``leave`` keeps the finished bar on screen. ``enabled=False``
    shows nothing (a ``--quiet`` option)."""

    def __init__(
        self,
        total: int | None = None,
        *,
        what: str = "done",
        desc: str | None = None,
        unit: str = "it",
        leave: bool = True,
        enabled: bool = True,
        file: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.n = 0
        self.what = what
        self._file = file if file is not None else sys.stderr
        self._clock = clock
        self._every = INTERVAL_S
        self._start = self._last = clock()
        self._said: int | None = None  # the count in the last line written
        self._bar = None
        self._lines = enabled and not _is_terminal(self._file)
        if enabled and not self._lines:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc or what, unit=unit, file=self._file, leave=leave)

    def update(self, n: int = 1) -> None:
        """``n`` more units done."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._lines and self._clock() - self._last >= self._every:
            self._write_line()

    def close(self) -> None:
        """The end: the bar is closed, or a last line is written if any was."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._lines and self._said is not None and self._said != self.n:
            self._write_line()
        self._lines = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write_line(self) -> None:
        self._last = self._clock()
        self._said = self.n
        done = (
            f"{self.n}/{self.total} {self.what} ({100 * self.n // self.total}%)"
            if self.total
            else f"{self.n} {self.what}"
        )
        print(f"qa: {done}, {duration(self._last - self._start)}", file=self._file, flush=True)


def track(iterable: Iterable[T], total: int | None = None, **options) -> Iterator[T]:
    """The items of ``iterable``, each counted once it has been used; ``options`` as for ``Progress``."""
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with Progress(total, **options) as progress:
        for item in iterable:
            yield item
            progress.update(1)


def say(line: str, file: TextIO | None = None) -> None:
    """Print ``line`` on stderr (or ``file``); a bar drawn there is cleared first and drawn again below."""
    file = file if file is not None else sys.stderr
    tqdm_module = sys.modules.get("tqdm")  # no bar can be drawn before tqdm is imported
    if tqdm_module is None:
        print(line, file=file, flush=True)
        return
    with tqdm_module.tqdm.external_write_mode(file=file):
        print(line, file=file, flush=True)


def duration(seconds: float) -> str:
    """``34 s``, ``2 min 5 s``, ``1 h 2 min``."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _is_terminal(file: TextIO) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False

"""Progress of long work on stderr: a tqdm bar on a terminal; elsewhere (a log file, a CI job) a
short line every ``INTERVAL`` seconds, e.g. ``qa: indexed 1,200/7,800 sentences (15%), 40 s``.

    with Progress(total, "indexed", "sentences") as progress:
        for chunk in work:
            ...
            progress.update(len(chunk))
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Seconds between two progress lines when stderr is not a terminal.
INTERVAL = 10.0


class Progress:
    """``update(n)`` counts ``n`` more of ``total``. ``enabled``: None shows a bar on a terminal and
    lines elsewhere, False nothing."""

    def __init__(
        self,
        total: int,
        verb: str = "done",
        unit: str = "items",
        *,
        desc: str | None = None,
        enabled: bool | None = None,
        interval: float | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.total, self.verb, self.unit = total, verb, unit
        self.done = 0
        self.stream = stream or sys.stderr
        self.interval = INTERVAL if interval is None else interval
        self.started = time.monotonic()
        self._next_line = self.started + self.interval
        self._lines = enabled is not False
        self._bar = None
        if enabled is not False and self.stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc or verb.capitalize(), unit=unit, file=self.stream, leave=False)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if self._lines and now >= self._next_line:
            share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
            print(f"qa: {self.verb} {self.done:,}/{self.total:,} {self.unit}{share}, {now - self.started:.0f} s",
                  file=self.stream, flush=True)
            self._next_line = now + self.interval

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

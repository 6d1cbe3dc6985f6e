"""A plain-text progress bar on stderr for long redrives (no dependency).

Drawn only on a terminal: when the stream is not a TTY (a pipe, a CI log, a file) or with
``--quiet`` it prints nothing, so logs stay clean. Redrawn at most ten times a second with a
carriage return, cleared when done.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """``[#######.........] 12/40 objects  3,412 docs  0 failed  0:12``."""

    def __init__(
        self,
        stream: TextIO,
        total: int | None,
        unit: str,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = 0.1,
    ) -> None:
        self.stream = stream
        self.total = total
        self.unit = unit
        is_tty = getattr(stream, "isatty", None)
        self.enabled = enabled if enabled is not None else bool(callable(is_tty) and is_tty())
        self.clock = clock
        self.min_interval = min_interval
        self.done = 0
        self.note = ""
        self.started = clock()
        self._drawn_at = float("-inf")
        self._width = 0

    def update(self, done: int | None = None, note: str | None = None, *, force: bool = False) -> None:
        """Set the units done (and a short note such as document counts); redraw if due."""
        if done is not None:
            self.done = done
        if note is not None:
            self.note = note
        if not self.enabled:
            return
        now = self.clock()
        if not force and now - self._drawn_at < self.min_interval:
            return
        self._drawn_at = now
        self._draw(self.line(now))

    def line(self, now: float | None = None) -> str:
        """The text of the bar (without the carriage return)."""
        elapsed = int((self.clock() if now is None else now) - self.started)
        clock = f"{elapsed // 60}:{elapsed % 60:02d}"
        if self.total:
            filled = min(20, int(20 * self.done / self.total))
            bar = f"[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} {self.unit}"
        else:
            bar = f"{self.done} {self.unit}"
        return "  ".join(part for part in (bar, self.note, clock) if part)

    def _draw(self, text: str) -> None:
        columns = shutil.get_terminal_size((100, 20)).columns - 1
        text = text[:columns]
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    def close(self) -> None:
        """Erase the bar (the summary follows)."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

"""A one-line progress bar with rate and ETA, for a terminal only.

    [########............]  312/800  5.1/s  ETA 1m36s  bob/forward

It redraws itself on stderr when stderr is a TTY and says nothing otherwise (CI logs, pipes,
cron), so the only output there is the run's final summary. No dependencies; the grading
library never prints: ``grader.commands.grade`` passes one of these in as the run's observer.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Protocol, TextIO

from grader.core.results import SubmissionResult
from grader.core.text import visible


class Observer(Protocol):
    """What a grading run tells its caller as it goes (see grader.run.grading.grade_folder)."""

    def start(self, total: int, reused: int) -> None:
        """``total`` submissions are about to be graded; ``reused`` came from the cache."""

    def advance(self, result: SubmissionResult) -> None:
        """One submission was graded (in completion order)."""

    def finish(self) -> None:
        """Grading is over (also after an interruption)."""


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class ProgressBar:
    """An Observer that draws a bar on ``stream`` when it is a terminal."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None,
                 clock: object = time.monotonic, width: int | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.clock = clock
        self.width = width
        self.total = 0
        self.done = 0
        self.started = 0.0
        self._drawn = False

    def start(self, total: int, reused: int) -> None:
        self.total, self.done, self.started = total, 0, self.clock()  # type: ignore[operator]
        if total:
            self._draw("")

    def advance(self, result: SubmissionResult) -> None:
        self.done += 1
        self._draw(visible(f"{result.student}/{result.assignment}"))

    def finish(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
        self._drawn = False

    def line(self, label: str) -> str:
        """The bar's text for the current count (also what the tests check)."""
        elapsed = self.clock() - self.started  # type: ignore[operator]
        rate = self.done / elapsed if elapsed > 0 and self.done else 0.0
        if self.done >= self.total:
            eta = "done"
        elif rate:
            eta = "ETA " + format_duration((self.total - self.done) / rate)
        else:
            eta = "ETA ?"
        cells = 20
        filled = cells * self.done // self.total if self.total else cells
        text = (f"[{'#' * filled}{'.' * (cells - filled)}] {self.done:>{len(str(self.total))}}"
                f"/{self.total}  {rate:.1f}/s  {eta}  {label}")
        columns = self.width or shutil.get_terminal_size((80, 24)).columns
        return text[:max(columns - 1, 10)]

    def _draw(self, label: str) -> None:
        if not self.enabled:
            return
        self.stream.write("\r\x1b[2K" + self.line(label))
        self.stream.flush()
        self._drawn = True

"""The progress bar: drawn on a terminal only, with count, rate and ETA."""

from __future__ import annotations

import io

from grader.core.progress import ProgressBar, format_duration
from grader.core.results import SubmissionResult


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def result(student: str) -> SubmissionResult:
    return SubmissionResult(student=student, assignment="forward", path="x.ipynb")


def test_quiet_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar.start(3, reused=0)
    bar.advance(result("alice"))
    bar.finish()
    assert stream.getvalue() == ""


def test_draws_count_rate_and_eta_on_a_terminal_then_clears() -> None:
    stream, clock = Terminal(), Clock()
    bar = ProgressBar(stream, clock=clock, width=200)
    bar.start(10, reused=5)
    clock.now += 4.0
    bar.advance(result("alice"))
    bar.advance(result("bob"))
    line = bar.line("bob/forward")
    assert " 2/10" in line and "0.5/s" in line and "ETA 16s" in line
    assert "bob/forward" in stream.getvalue()
    bar.finish()
    assert stream.getvalue().endswith("\r\x1b[2K")


def test_done_and_unknown_eta() -> None:
    clock = Clock()
    bar = ProgressBar(io.StringIO(), clock=clock, width=200)
    bar.start(1, reused=0)
    assert "ETA ?" in bar.line("")
    clock.now += 1
    bar.advance(result("alice"))
    assert "done" in bar.line("")


def test_format_duration() -> None:
    assert format_duration(5) == "5s"
    assert format_duration(125) == "2m05s"
    assert format_duration(3 * 3600 + 60) == "3h01m"

"""Timeouts confirmed before they are recorded (issue 22).

A test that timed out on the wall clock while the machine was busy (other submissions graded
beside it, other work on the machine) may not be the student's doing. After a run's first
pass, every submission whose grading waited out such a deadline is graded once more, one at a
time, and that second grading counts; only then is it handed on to be cached, so no
unconfirmed timeout is ever cached. A timeout counted in the worker's CPU time needs no
confirmation: the call used its whole budget of CPU, however busy the machine was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from grader.core.results import TIMED_OUT, SubmissionResult
from grader.core.settings import Settings
from grader.submission.grade import Job

if TYPE_CHECKING:
    from grader.run.local import Executor

#: Told of each confirmed result: ``keep(job, result)`` (the run caches it).
Keep = Callable[[Job, SubmissionResult], None]


def waited(result: SubmissionResult) -> bool:
    """Whether a busy machine could have caused a timeout in ``result``: a deadline the wall
    clock ended, or a timed-out test with no deadline of its own behind it. A deadline that
    ended on the worker's own CPU time is the student's whatever the load (contention slows
    the wall clock, not the CPU time a call uses) and is not graded again."""
    return result.wall_waits > 0 or (
        result.waits == 0 and any(t.status == TIMED_OUT for t in result.tests))


def confirm_timeouts(jobs: Sequence[Job], graded: Sequence[SubmissionResult],
                     settings: Settings, executor: Executor,
                     settings_for: Callable[[Job], Settings] | None,
                     keep: Keep) -> list[SubmissionResult]:
    """Grade once more, one at a time, each submission whose grading timed out, and keep
    what the second grading gives: a timeout that came from contention (the machine busy,
    neighbours graded beside it) is gone then; one that comes again is the student's. Each
    result is handed to ``keep`` (to be cached) only now, confirmed."""
    final = list(graded)
    again = [k for k, result in enumerate(graded) if waited(result) and not result.grader_error]
    if not again:
        return final
    alone = replace(settings, jobs=1)
    rerun = executor.grade([jobs[k] for k in again], alone, None,
                           (lambda job: replace(settings_for(job), jobs=1))
                           if settings_for is not None else None)
    for k, result in zip(again, rerun, strict=True):
        final[k] = result
        keep(jobs[k], result)
    return final

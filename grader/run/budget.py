"""One time budget per student and assignment (issue 22).

A student may hand in several files for one assignment (up to ``MAX_ATTEMPTS``); they are
graded one after another and share one total, ``Limits.student_budget_s()`` (by default the
submission timeout): each file gets what the earlier ones left (never more than the
submission timeout), and a file that finds less than :data:`MIN_FILE_S` left is not run. What
hung or crashed in one file is remembered for the next (grader.submission.stops.Remembered),
where that file hands in the same definition, so it is not waited on again.

The total is counted as every budget is (grader.sandbox.clock): in the CPU time of the
student's workers where their cgroups count it, with one wall-clock backstop over all the
files together (3 x the total + 5 s: 365 s with the defaults, however many files a student
hands in and however long each sleeps); where CPU time is not counted, on the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from grader.core.results import SubmissionResult
from grader.core.settings import Settings
from grader.core.text import display_path
from grader.sandbox.clock import backstop
from grader.submission.grade import Job
from grader.submission.stops import Remembered, seconds

#: A file that finds less than this left of its student's budget is not run.
MIN_FILE_S = 1.0

#: How the row of a file not run begins.
NOT_RUN = "Not graded: the "

#: Grades one file: ``grade(job, settings, remembered)``.
GradeOne = Callable[[Job, Settings, Remembered], SubmissionResult]


def student_groups(jobs: Sequence[Job]) -> list[list[int]]:
    """The indices of ``jobs`` per (student, assignment), in job order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for index, job in enumerate(jobs):
        groups.setdefault((job.student, job.assignment.id), []).append(index)
    return list(groups.values())


def grade_group(jobs: Sequence[Job], settings: Sequence[Settings],
                grade: GradeOne) -> list[SubmissionResult]:
    """Grade the files of one student and assignment in order, within one total budget."""
    remembered = Remembered()
    wall = 0.0
    results = []
    for job, own in zip(jobs, settings, strict=True):
        total = own.limits.student_budget_s()
        counted = remembered.cpu_counted
        left = total - (remembered.cpu_s if counted else wall)
        wall_left = (backstop(total) if counted else total) - wall
        if job.path is not None and min(left, wall_left) < MIN_FILE_S:
            results.append(budget_spent(job, total, on_cpu=counted and left < MIN_FILE_S))
            continue
        limits = replace(own.limits,
                         submission_timeout_s=min(own.limits.submission_timeout_s, left))
        remembered.wall_cap_s = backstop(total) - wall
        began = time.monotonic()
        results.append(grade(job, replace(own, limits=limits), remembered))
        wall += time.monotonic() - began
    return results


def budget_spent(job: Job, total: float, on_cpu: bool = False) -> SubmissionResult:
    """A file not run: its student's budget for the assignment went to their earlier files.
    It counts as a wait; one on the wall clock (``on_cpu`` false: the budget's CPU time was
    not what ran out) is graded once more by a run that confirms its timeouts."""
    return SubmissionResult(
        student=job.student, assignment=job.assignment.id,
        path=display_path(job.path) if job.path else None,
        max_score=job.assignment.max_score, matched_by=job.matched_by, waits=1,
        wall_waits=0 if on_cpu else 1,
        error=(f"{NOT_RUN}{seconds(total)} the grader gives all the files you hand in "
               f"for {job.assignment.id} together were spent on your other files (which hung "
               "or ran long). Hand in one file per assignment."))


def not_run(result: SubmissionResult) -> bool:
    """Whether ``result`` is a file not run for its student's spent budget: it depends on the
    student's other files, so it is never cached."""
    return (result.error or "").startswith(NOT_RUN) and not result.tests

"""The grade of record on graded results: every path (``grade``, ``grade ci``, Gradescope,
Classroom 50) calls :func:`apply_deadlines` on its results before it writes a report.

:class:`Deadlines` holds what the policy needs beyond the results: the course's ``[late]``
policy and due dates, each submission's time (from its source, never a file's mtime), the
extensions and the overrides. Test overrides change that test's points (and say so in its
message) before the late policy is applied; an override of the score replaces the final score.
An override or time that matches no graded submission is reported by ``warn``, never fatal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.core.course import Course
from grader.core.deadline_files import (
    read_extensions,
    read_grace_ledger,
    read_overrides,
    read_policy,
    read_times,
)
from grader.core.deadlines import (
    NO_POLICY,
    Extension,
    Handed,
    LatePolicy,
    Override,
    OverrideNote,
    grade_student,
)
from grader.core.results import SubmissionResult, TestResult
from grader.core.text import visible

EXTENSIONS_FILE = "extensions.csv"
OVERRIDES_FILE = "overrides.csv"
#: The grace days each student has spent so far (a grades.csv of `grade collect`), for the
#: one-student paths, which see only the assignments they grade.
LEDGER_FILE = "grace-ledger.csv"

Key = tuple[str, str]  # (student in lower case, assignment)


@dataclass(frozen=True)
class Deadlines:
    """The policy's inputs for one run."""

    policy: LatePolicy = NO_POLICY
    dues: Mapping[str, dt.datetime] = field(default_factory=dict)
    #: an assignment's late due date from the platform (Gradescope's ``late_due_date``): the
    #: cutoff, in place of ``[late] max_days``
    cutoffs: Mapping[str, dt.datetime] = field(default_factory=dict)
    times: Mapping[Key, dt.datetime] = field(default_factory=dict)
    extensions: Mapping[Key, Extension] = field(default_factory=dict)
    overrides: Sequence[Override] = ()
    #: set on a one-student path (``grade ci``, ``gradescope-run``, ``classroom50 grade``):
    #: (student, assignment) -> grace days spent, from the course's ledger; None: no ledger
    ledger: Mapping[Key, int] | None = None
    one_student: bool = False

    @property
    def active(self) -> bool:
        """Whether a grade of record is attached (else the reports are as without deadlines;
        submission times alone, with no due date, change nothing)."""
        return bool(self.policy != NO_POLICY or self.dues or self.cutoffs or self.extensions
                    or self.overrides)

    def with_times(self, times: Mapping[Key, dt.datetime]) -> Deadlines:
        return replace(self, times={**self.times, **times})


def load_deadlines(course: Course, times: Path | None = None, extensions: Path | None = None,
                   overrides: Path | None = None) -> Deadlines:
    """The course's policy and due dates, and the given files (extensions and overrides
    default to ``extensions.csv`` and ``overrides.csv`` at the course root when present)."""
    known = [a.id for a in course.assignments]
    extensions = extensions or _present(course.root / EXTENSIONS_FILE)
    overrides = overrides or _present(course.root / OVERRIDES_FILE)
    return Deadlines(
        policy=read_policy(course.root),
        dues={a.id: a.due for a in course.assignments if a.due is not None},
        times=read_times(times, known) if times else {},
        extensions=read_extensions(extensions, known) if extensions else {},
        overrides=read_overrides(overrides, known) if overrides else (),
    )


def one_student_deadlines(course: Course, ledger: Path | None = None) -> Deadlines:
    """:func:`load_deadlines` for a path that grades one student's submission: the grace
    days spent elsewhere come from ``ledger`` (default: ``grace-ledger.csv`` at the course
    root when present); without one, the records say the full budget is assumed."""
    ledger = ledger or _present(course.root / LEDGER_FILE)
    known = [a.id for a in course.assignments]
    return replace(load_deadlines(course), one_student=True,
                   ledger=read_grace_ledger(ledger, known) if ledger else None)


def _spent_elsewhere(deadlines: Deadlines, student: str, graded: Sequence[str]
                     ) -> tuple[int, bool]:
    """(grace days ``student`` spent on assignments other than ``graded``, whether that is
    assumed: a one-student path without the course's ledger; a student the ledger does not
    list has spent none)."""
    if not deadlines.one_student:
        return 0, False
    if deadlines.ledger is None:
        return 0, True
    return sum(d for (s, a), d in deadlines.ledger.items()
               if s == student and a not in graded), False


def student_due(deadlines: Deadlines, student: str, assignments: Sequence[str]
                ) -> dt.datetime | None:
    """The student's earliest due date among ``assignments`` (extensions applied)."""
    dues = []
    for assignment in assignments:
        due = deadlines.dues.get(assignment)
        extension = deadlines.extensions.get((student.lower(), assignment))
        due = extension.applied_to(due) if extension else due
        if due is not None:
            dues.append(due)
    return min(dues, default=None)


def _present(path: Path) -> Path | None:
    return path if path.is_file() else None


def _override_test(test: TestResult, override: Override) -> tuple[TestResult, OverrideNote]:
    note = OverrideNote(what=test.name, points=override.points, reason=override.reason,
                        who=override.who, was=test.score)
    said = f"Points set to {override.points:g} by {override.who}: {override.reason}"
    message = f"{test.message.rstrip()}\n\n{said}" if test.message.strip() else said
    return replace(test, score=override.points, message=message), note


def _with_test_overrides(result: SubmissionResult, overrides: Sequence[Override],
                         warn: Callable[[str], None]
                         ) -> tuple[SubmissionResult, tuple[OverrideNote, ...]]:
    notes = []
    tests = list(result.tests)
    for override in overrides:
        index = next((i for i, t in enumerate(tests) if t.name == override.test), None)
        if index is None:
            warn(f"{override.source}: {visible(result.student)}/{result.assignment} has no "
                 f"test {override.test!r}; not applied")
            continue
        if override.points > tests[index].max_score:
            warn(f"{override.source}: {override.points:g} points is more than test "
                 f"{override.test!r} is worth ({tests[index].max_score:g}); not applied")
            continue
        tests[index], note = _override_test(tests[index], override)
        notes.append(note)
    return replace(result, tests=tuple(tests)), tuple(notes)


def apply_deadlines(results: Sequence[SubmissionResult], deadlines: Deadlines,
                    warn: Callable[[str], None] = lambda line: None
                    ) -> tuple[SubmissionResult, ...]:
    """``results`` with their grade of record (``SubmissionResult.grade``), in the same order;
    unchanged when ``deadlines`` is not active."""
    if not deadlines.active:
        return tuple(results)
    by_key: dict[Key, list[Override]] = {}
    for override in deadlines.overrides:
        by_key.setdefault((override.student.lower(), override.assignment), []).append(override)
    prepared: list[tuple[SubmissionResult, Handed]] = []
    for result in results:
        key = (result.student.lower(), result.assignment)
        mine = by_key.pop(key, [])
        result, test_notes = _with_test_overrides(result, [o for o in mine if o.test], warn)
        whole = next((o for o in mine if not o.test), None)
        if whole is not None and whole.points > result.max_score:
            warn(f"{whole.source}: {whole.points:g} points is more than "
                 f"{result.assignment} is worth ({result.max_score:g}); not applied")
            whole = None
        prepared.append((result, Handed(
            assignment=result.assignment, raw_score=result.raw_score,
            due=deadlines.dues.get(result.assignment),
            cutoff=deadlines.cutoffs.get(result.assignment),
            submitted_at=deadlines.times.get(key), handed_in=not result.missing,
            extension=deadlines.extensions.get(key), override=whole,
            test_overrides=test_notes)))
    for (student, assignment), left in by_key.items():
        for override in left:
            warn(f"{override.source}: no graded submission of {visible(student)}/{assignment}; "
                 "not applied")
    students: dict[str, list[int]] = {}
    for index, (result, _) in enumerate(prepared):
        students.setdefault(result.student.lower(), []).append(index)
    out: list[SubmissionResult] = [result for result, _ in prepared]
    for indexes in students.values():
        items = [prepared[i][1] for i in indexes]
        spent, assumed = _spent_elsewhere(deadlines, prepared[indexes[0]][0].student.lower(),
                                          [item.assignment for item in items])
        records = grade_student(deadlines.policy, items, spent, assumed)
        for i in indexes:
            out[i] = replace(out[i], grade=records[out[i].assignment])
    return tuple(out)

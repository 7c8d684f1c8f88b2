"""Grading one student's files as one student of a submissions folder.

``grade ci`` (a student's checkout) and ``grade gradescope-run`` (a Gradescope upload) both
grade a handful of files that belong to one student. They copy those files into
``<tmp>/submissions/<student>/`` (keeping their relative paths) and grade that folder with
:func:`grader.run.grading.grade_folder`, so the points are exactly what ``grade run`` gives the
same student; the paths in the result are then made relative to the student's folder again.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from grader.core.course import Course
from grader.core.results import RunResult
from grader.core.settings import Settings
from grader.run.discover import discover
from grader.run.grading import grade_folder


def grade_student(base: Path, files: Sequence[Path], student: str, course: Course,
                  settings: Settings, only: Sequence[str] = (), prefix: str = "grade-"
                  ) -> RunResult:
    """Grade ``files`` (relative to ``base``) as ``student``'s folder.

    ``only``: the assignments to grade (a missing one scores 0); empty means those found
    among the files. Symbolic links must already be filtered out of ``files``.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        staged = Path(tmp) / "submissions"
        (staged / student).mkdir(parents=True)
        for relative in files:
            target = staged / student / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(base / relative, target)
        only = tuple(only) or tuple(sorted(
            {s.assignment for s in discover(staged, course.assignments,
                                            settings.limits.reader()).submissions}))
        run = grade_folder(staged, course, settings, only)
        return relative_paths(run, staged / student)


def relative_paths(run: RunResult, folder: Path) -> RunResult:
    """``run`` with every path under ``folder`` made relative to it (POSIX form)."""
    def rel(value: str | None) -> str | None:
        if not value:
            return value
        try:
            return Path(value).relative_to(folder).as_posix()
        except ValueError:
            return value

    results = tuple(replace(r, path=rel(r.path), other_attempts=tuple(
        replace(a, path=rel(a.path) or "") for a in r.other_attempts)) for r in run.results)
    return replace(run, results=results, unrecognized=tuple(
        (rel(p) or p, why) for p, why in run.unrecognized))

"""Grading one student's files: the entry point of ``grade ci`` (a student's repository),
``grade gradescope-run`` (an upload) and ``classroom50 grade``.

:func:`submission_files` picks the files worth grading: notebooks (``.ipynb``) and ``.py``
files other than tests, ``conftest.py`` and the bundle's ``public/`` and ``selfcheck/``
folders, never through a symbolic link (a link could point at the grader's own files).
:func:`student_id` names the student (the seeds depend on it). :func:`grade_student` grades
them where they are, in the stages of a class run (match each file, plan, grade, keep the
best attempt), so the points are exactly what ``grade`` gives the same student in a class
folder; the paths in the result are relative to the student's folder.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from grader.core.course import Course
from grader.core.errors import ConfigError
from grader.core.results import RunResult
from grader.core.settings import Settings
from grader.core.text import display_name
from grader.run.discover import discover_files
from grader.run.grading import grade_discovery

_SKIPPED_DIRS = frozenset({"public", "selfcheck", "__pycache__", "__MACOSX",
                           ".ipynb_checkpoints", "node_modules"})


def student_id(path: Path, given: str | None, env: Mapping[str, str]) -> str:
    """``--student``, else $GITHUB_REPOSITORY's name, else the folder's name."""
    name = given or env.get("GITHUB_REPOSITORY", "").rpartition("/")[2]
    if not name:
        folder = path.resolve() if path.is_dir() else path.resolve().parent
        name = folder.name or "student"
    name = display_name(name).replace(os.sep, "_").strip(". ")  # valid text, whatever bytes
    if not name:
        raise ConfigError("--student: empty student id")
    return name


def submission_files(path: Path, skip: Path | None = None) -> list[Path]:
    """The files of a checkout worth grading, relative to it (see the module docstring)."""
    if path.is_file() and not path.is_symlink():
        return [Path(path.name)]
    found: list[Path] = []
    for root, dirs, files in os.walk(path):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS
                         and not (here / d).is_symlink()
                         and (skip is None or (here / d).resolve() != skip))
        for name in sorted(files):
            file = here / name
            if name.startswith(".") or not stat.S_ISREG(file.lstat().st_mode):
                continue  # links, FIFOs, devices and sockets are never copied
            if name.endswith(".ipynb") or (name.endswith(".py") and name != "conftest.py"
                                           and not name.startswith("test_")):
                found.append(file.relative_to(path))
    return found


def grade_student(base: Path, files: Sequence[Path], student: str, course: Course,
                  settings: Settings, only: Sequence[str] = ()) -> RunResult:
    """Grade ``files`` (relative to ``base``, links already left out) as ``student``'s.

    ``only``: the assignments to grade (a missing one scores 0); empty means those found
    among the files, or every assignment when none is found.
    """
    discovery = discover_files(student, base, files, course.assignments,
                               settings.limits.reader())
    only = tuple(only) or tuple(sorted({s.assignment for s in discovery.submissions}))
    run = grade_discovery(discovery, course, settings, only, all_assignments=not only,
                          source=str(base))
    return relative_paths(run, base)


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

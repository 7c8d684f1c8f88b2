"""A submitted file to the statements its worker loads: the one entry to the extraction.

The grader (:mod:`grader.submission.grade`) and the student's self-check (``grade release`` ships
this module with the bundle) both call :func:`load_student_module`, so a notebook's graded
module is the same on the student's machine and in the grader: the same bounded pipeline
(grader.extract.isolate: a child process with time and memory limits on Linux, the same
steps in this process elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.extract.isolate import Extraction, ReadLimits, extract_file
from grader.extract.pipeline import StudentModule


def load_student_module(path: Path, functions: Sequence[str],
                        limits: ReadLimits | None = None) -> tuple[StudentModule, str | None]:
    """The extracted module, or an empty one and the one-line reason it could not be read."""
    return loaded(extract_file(path, functions, limits or ReadLimits()))


def loaded(found: Extraction) -> tuple[StudentModule, str | None]:
    """What was extracted as a module to load, or an empty one and why it could not be."""
    if found.module is None:
        return StudentModule(statements=(), defined=(), notes=()), found.error or "unreadable"
    return found.module, None

"""A submitted file to the statements its worker loads: the one entry to the extraction.

The grader (:mod:`grader.runner.grade`) and the student's self-check (``grade release`` ships
this module with the bundle) both call :func:`load_student_module`, so a notebook's graded
module is the same on the student's machine and in the grader.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.errors import ExtractionError
from grader.notebook.extract import StudentModule, extract_module
from grader.notebook.read import read_cells


def load_student_module(path: Path, functions: Sequence[str]
                        ) -> tuple[StudentModule, str | None]:
    """The extracted module, or an empty one and the one-line reason it could not be read."""
    try:
        return extract_module(read_cells(path), functions), None
    except ExtractionError as exc:
        return StudentModule(statements=(), defined=(), notes=()), str(exc)

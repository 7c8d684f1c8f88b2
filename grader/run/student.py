"""One student's files: which of a checkout or an upload are worth grading, and whose they are.

``grade ci`` (a student's repository), ``grade gradescope-run`` (an upload) and ``classroom50
grade`` each grade the files of one student. :func:`submission_files` picks them: notebooks
(``.ipynb``) and ``.py`` files other than tests, ``conftest.py`` and the bundle's ``public/``
and ``selfcheck/`` folders, never through a symbolic link (a link could point at the
grader's own files). :func:`student_id` names the student (the seeds depend on it).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from grader.core.errors import ConfigError

_SKIPPED_DIRS = frozenset({"public", "selfcheck", "__pycache__", "__MACOSX",
                           ".ipynb_checkpoints", "node_modules"})


def student_id(path: Path, given: str | None, env: Mapping[str, str]) -> str:
    """``--student``, else $GITHUB_REPOSITORY's name, else the folder's name."""
    name = given or env.get("GITHUB_REPOSITORY", "").rpartition("/")[2]
    if not name:
        folder = path.resolve() if path.is_dir() else path.resolve().parent
        name = folder.name or "student"
    name = name.replace(os.sep, "_").strip(". ")
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

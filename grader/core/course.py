"""The course on disk: which assignments exist and where each one's material lives.

A course is a folder marked by ``course.toml`` at its root (grader.core.course_config reads
it); ``grade`` finds it from the working directory upward, as git and pytest find their
roots, unless ``--course DIR`` or ``GRADER_COURSE`` names it. An assignment is one folder plus
its reference solution; adding one needs no grader code:

    course.toml                            id, title, grader versions, defaults, [late]
    assignments/<id>/assignment.toml       title and the contract's function names
    assignments/<id>/<id>.ipynb            student stub, generated from the reference
    assignments/<id>/public/test_*.py      public tests (shipped to students)
    solutions/<id>.ipynb                   reference notebook, the source of truth
    solutions/hidden/test_<id>.py          hidden suite (never shipped)
    solutions/course_secret                secret mixed into every test seed (never shipped)
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.core.course_config import COURSE_FILE, CourseConfig, read_course_config
from grader.core.deadline_files import read_due
from grader.core.errors import ConfigError, CourseError

#: The variable that names the course root when --course is not given.
COURSE_VARIABLE = "GRADER_COURSE"
#: The source checkout this module was imported from: this repository's own course, for its
#: tests and benches only. No verb reads it (an installed grader's is site-packages/): they
#: find the course with resolve_course_root.
DEFAULT_ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Assignment:
    """One assignment's metadata and the paths of its material."""

    id: str
    title: str
    functions: tuple[str, ...]
    root: Path
    uses_torch: bool = False
    max_score: float = 100.0
    due: dt.datetime | None = None  # assignment.toml's ``due`` (grader.core.deadlines)

    @property
    def folder(self) -> Path:
        return self.root / "assignments" / self.id

    @property
    def stub(self) -> Path:
        return self.folder / f"{self.id}.ipynb"

    @property
    def public_dir(self) -> Path:
        return self.folder / "public"

    @property
    def reference(self) -> Path:
        return self.root / "solutions" / f"{self.id}.ipynb"

    @property
    def hidden_suite(self) -> Path:
        return self.root / "solutions" / "hidden" / f"test_{self.id}.py"


@dataclass(frozen=True)
class Course:
    """All assignments of a course root, in a stable order."""

    root: Path
    assignments: tuple[Assignment, ...]
    config: CourseConfig = field(default_factory=CourseConfig)

    def select(self, only: Sequence[str] = ()) -> tuple[Assignment, ...]:
        """The assignments ``--assignment`` names, in course order (all when none is named);
        every verb's check: an unknown id is a ConfigError listing the known ones."""
        known = [a.id for a in self.assignments]
        unknown = [a for a in dict.fromkeys(only) if a not in known]
        if unknown:
            raise ConfigError(f"--assignment: unknown {', '.join(map(repr, unknown))} "
                              f"(known: {', '.join(known)})")
        return tuple(a for a in self.assignments if not only or a.id in only)

    def get(self, assignment_id: str) -> Assignment:
        for assignment in self.assignments:
            if assignment.id == assignment_id:
                return assignment
        known = ", ".join(a.id for a in self.assignments)
        raise ConfigError(f"unknown assignment {assignment_id!r} (known: {known})")

    @property
    def secret_file(self) -> Path:
        return self.root / "solutions" / "course_secret"


def read_meta(meta_path: Path) -> dict[str, Any]:
    """The parsed ``assignment.toml``; unreadable or malformed: a one-line CourseError."""
    try:
        return tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CourseError(f"{meta_path}: cannot read assignment metadata: {reason}") from None


def load_assignment(folder: Path, root: Path) -> Assignment:
    """Read ``folder/assignment.toml``; a broken file is a CourseError naming it."""
    meta_path = folder / "assignment.toml"
    meta = read_meta(meta_path)
    try:
        return Assignment(
            id=folder.name,
            title=str(meta["title"]),
            functions=tuple(str(name) for name in meta["functions"]),
            root=root,
            uses_torch=bool(meta.get("uses_torch", False)),
            due=read_due(meta, meta_path),
        )
    except (KeyError, TypeError) as exc:
        raise CourseError(f"{meta_path}: missing or malformed key {exc}") from exc


def find_course_root(start: Path) -> Path | None:
    """The nearest folder from ``start`` upward that holds ``course.toml`` (None: none does)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    return None


def resolve_course_root(given: Path | None, env: Mapping[str, str] | None = None,
                        cwd: Path | None = None) -> Path:
    """--course, else $GRADER_COURSE, else the nearest course.toml from the working directory
    upward; none of them: a one-line ConfigError saying how to name or make one."""
    env = os.environ if env is None else env
    if given is not None:
        return given
    if env.get(COURSE_VARIABLE):
        return Path(env[COURSE_VARIABLE])
    here = cwd or Path.cwd()
    found = find_course_root(here)
    if found is None:
        raise ConfigError(f"{here}: no {COURSE_FILE} here or in any parent folder (run `grade` "
                          f"inside a course, pass --course DIR, set {COURSE_VARIABLE}, or "
                          "create one with `grade init DIR`)")
    return found


def load_course(root: Path = DEFAULT_ROOT) -> Course:
    """Every ``assignments/*/assignment.toml`` under ``root``, sorted by the file's ``order``,
    with the course's ``course.toml`` (defaults when the folder has none)."""
    folder = root / "assignments"
    if not folder.is_dir():
        raise ConfigError(f"{root}: not a course root (no assignments/ folder)")
    config = read_course_config(root / COURSE_FILE) if (root / COURSE_FILE).is_file() \
        else CourseConfig(id=root.resolve().name, title=root.resolve().name)
    found = []
    for meta in sorted(folder.glob("*/assignment.toml")):
        order = read_meta(meta).get("order", 99)
        if not isinstance(order, int) or isinstance(order, bool):
            raise CourseError(f"{meta}: order must be a whole number, not {order!r}")
        found.append((order, load_assignment(meta.parent, root)))
    found.sort(key=lambda pair: (pair[0], pair[1].id))
    return Course(root=root, assignments=tuple(a for _, a in found), config=config)

"""The autograder zip's contents: exactly what setup.sh and run_autograder need, nothing else.

    setup.sh, run_autograder         rendered from grader/templates/gradescope/ (executable)
    autograder.json                  the build's choices (grader.integrations.gradescope.config)
    requirements.txt                 the grader's dependencies, pinned to the versions that
                                     grade here (torch is installed apart, from --torch-index)
    package/pyproject.toml           the grader's package: its source as it is imported here
    package/grader/...
    course/course.toml               the course's [visibility], when it has one
    course/assignments/<id>/assignment.toml   every assignment's metadata (a file is matched
                                     against all of them, as `grade` matches it)
    course/solutions/hidden/         the chosen assignments' hidden suites with the course files
                                     they import and pytest.ini (grader.suite.files.suite_entries:
                                     the files the suite hash covers; no other suite), and the
                                     test budgets (budgets.json, grader.suite.budgets.shipped)
    course/solutions/course_secret   the secret this machine's `grade` seeds with
    course/grace-ledger.csv          the grace days each student has spent (grades.csv of
                                     `grade collect`), when the course keeps one: the zip is
                                     private to the course's staff; rebuild it to refresh

Not shipped: reference notebooks and stubs (grading never reads them), public tests, the
report templates (run_autograder writes only results.json), tests/, demo/, bench/.
The zip is reproducible: sorted entries, fixed timestamps.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

import grader
from grader.core.course import Assignment, Course
from grader.core.deadline_files import COURSE_FILE
from grader.core.errors import ConfigError, CourseError
from grader.core.grade_record import LEDGER_FILE
from grader.core.paths import TEMPLATES_DIR
from grader.integrations.gradescope.config import CONFIG_NAME, AutograderConfig
from grader.suite import budgets
from grader.suite.files import suite_entries

TEMPLATES = TEMPLATES_DIR / "gradescope"
DISTRIBUTION = "nn-grader"
#: Files of the grader's package that are shipped (its code; no caches).
PACKAGE_SUFFIXES = (".py", ".typed")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_NAME = re.compile(r"^[A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Entry:
    """One file of the zip."""

    data: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class Install:
    """How setup.sh installs torch: the requirement and its package index ("" = pip's own)."""

    torch: str
    torch_index: str


def runtime_requirements() -> list[str]:
    """The grader's declared dependencies (no extras), from its installed metadata."""
    try:
        declared = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(f"the {DISTRIBUTION} distribution is not installed (pip install -e "
                          ".): its dependencies are what setup.sh installs") from None
    return [r for r in declared if "extra" not in r.partition(";")[2]]


def requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement.strip())
    if not match:
        raise ConfigError(f"{DISTRIBUTION}: cannot read the requirement {requirement!r}")
    return match.group(0)


def pinned(requirements: Sequence[str]) -> list[str]:
    """``name==version`` of each requirement as installed here (torch left out)."""
    pins = []
    for requirement in requirements:
        name = requirement_name(requirement)
        if name.lower() == "torch":
            continue
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            raise ConfigError(f"{name}: a dependency of the grader is not installed") from None
    return pins


def local_torch() -> str:
    """``torch==X.Y.Z`` for the torch installed here (without a local tag such as +cpu)."""
    try:
        return f"torch=={importlib.metadata.version('torch').split('+')[0]}"
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError("torch is not installed here; pass --torch") from None


def _environment(course: Course) -> jinja2.Environment:
    folder = TEMPLATES
    if not folder.is_dir():
        raise CourseError(f"{folder}: Gradescope templates folder not found")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters["quote"] = json.dumps
    return env


def _render(env: jinja2.Environment, name: str, values: Mapping[str, object]) -> bytes:
    try:
        return env.get_template(name).render(values).encode("utf-8")
    except jinja2.TemplateError as exc:
        raise CourseError(f"{TEMPLATES / name}: {exc}") from exc


def package_entries() -> dict[str, Entry]:
    """The grader package as imported here, under ``package/grader/``."""
    root = Path(grader.__file__).resolve().parent
    entries = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.suffix in PACKAGE_SUFFIXES \
                and "__pycache__" not in path.parts \
                and path.relative_to(root).parts[0] != "templates":
            entries[f"package/grader/{path.relative_to(root).as_posix()}"] = \
                Entry(path.read_bytes())
    return entries


def course_entries(course: Course, chosen: Sequence[Assignment], secret: str
                   ) -> dict[str, Entry]:
    """The course files grading reads: metadata, the chosen hidden suites, the secret."""
    entries = {}
    for assignment in course.assignments:
        meta = assignment.folder / "assignment.toml"
        entries[f"course/assignments/{assignment.id}/assignment.toml"] = _read(meta)
    for relative, path in {**suite_entries(chosen), **budgets.shipped(chosen)}.items():
        entries[f"course/{relative}"] = _read(path)
    if (course.root / "course.toml").is_file():  # [visibility] per course and per test
        entries["course/course.toml"] = _read(course.root / "course.toml")
    entries["course/solutions/course_secret"] = Entry((secret + "\n").encode("utf-8"), 0o600)
    if (course.root / COURSE_FILE).is_file():  # the late policy ([late])
        entries[f"course/{COURSE_FILE}"] = _read(course.root / COURSE_FILE)
    if (course.root / LEDGER_FILE).is_file():  # grace days spent so far (one-student path)
        entries[f"course/{LEDGER_FILE}"] = _read(course.root / LEDGER_FILE)
    return entries


def _read(path: Path) -> Entry:
    try:
        return Entry(path.read_bytes())
    except OSError as exc:
        raise CourseError(f"{path}: cannot read ({exc.strerror})") from None


def bundle_entries(course: Course, config: AutograderConfig, install: Install, secret: str
                   ) -> dict[str, Entry]:
    """Every file of the zip, by its name in the zip."""
    chosen = [course.get(a) for a in config.assignments]
    env = _environment(course)
    requirements = runtime_requirements()
    values = {"grader_version": config.grader_version, "torch": install.torch,
              "torch_index": install.torch_index, "dependencies": requirements}
    entries = {
        "setup.sh": Entry(_render(env, "setup.sh.j2", values), 0o755),
        "run_autograder": Entry(_render(env, "run_autograder.j2", values), 0o755),
        CONFIG_NAME: Entry(config.to_json().encode("utf-8")),
        "requirements.txt": Entry(("\n".join(pinned(requirements)) + "\n").encode("utf-8")),
        "package/pyproject.toml": Entry(_render(env, "pyproject.toml.j2", values)),
    }
    entries.update(package_entries())
    entries.update(course_entries(course, chosen, secret))
    return entries


def write_zip(path: Path, entries: Mapping[str, Entry]) -> Path:
    """Write ``entries`` to ``path`` (replaced atomically), sorted, with fixed timestamps."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give the zip file's name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (0o100000 | entries[name].mode) << 16
                archive.writestr(info, entries[name].data)
        os.chmod(tmp, 0o600)  # it holds the course secret and the hidden suites
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

"""``grade classroom50 build`` and ``grade classroom50 grade``: this grader as a Classroom 50
autograder.

``build CLASSROOM_DIR`` writes, for each assignment (or one ``--slug`` for several), the folder
Classroom 50 bundles and runs, ``CLASSROOM_DIR/autograders/<slug>/``:

    autograder.py      the entrypoint (grader/templates/classroom50/autograder.py, copied as it is)
    nn-grader.json     which assignments it grades, the grader version, the torch pin
    runtime.json       the ``runtime`` block to register the assignment with (Python, apt)
    nn-grader/         this grader's package (grader/, with its templates) and a pyproject.toml
                       made from its installed metadata, pip-installed
    course/            the course material grading needs: assignments/<id>/, the hidden suites
                       with the course files they import (suite_entries, as Gradescope's zip),
                       solutions/course_secret

Classroom 50 publishes that folder on GitHub Pages and runs it in the student's repository:
every student can read all of it (docs/push-grading.md).

``grade [PATH]`` (what autograder.py runs, in the student's checkout) grades PATH exactly as
``grade ci`` does, with the student id = the repository owner's name in lower case, and writes
``./result.json`` (:mod:`grader.integrations.classroom50`), ``./release-body.md`` (the summary and
feedback)
and ``status``/``summary`` to ``$GITHUB_OUTPUT``. Exit 0 when graded; 1 when the grader failed
on the submission (Classroom 50 then posts an error status, never a score).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import grader
from grader.core.course import Assignment, Course
from grader.core.deadline_files import COURSE_FILE
from grader.core.errors import ConfigError, CourseError
from grader.core.paths import TEMPLATES_DIR
from grader.core.settings import Settings
from grader.core.text import heredoc
from grader.core.visibility import read_visibility
from grader.integrations import classroom50 as c50
from grader.integrations.ci import CiRequest, ci
from grader.suite import budgets
from grader.suite.files import suite_entries

ENTRYPOINT = TEMPLATES_DIR / "classroom50" / "autograder.py"
DISTRIBUTION = "nn-grader"
#: The package data of the grader (as pyproject.toml declares it): py.typed and the templates.
PACKAGE_DATA = ("py.typed", "templates/**/*", "review/templates/*.html", "review/static/*",
                "review/migrations/*.py", "review/migrations/*.mako",
                "review/migrations/versions/*.py")
CONFIG_NAME = "nn-grader.json"
TORCH_PIN = "2.13.0"
#: Classroom 50's slug rule (autograde-runner.yaml) and its cap on a fetched bundle.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}$")
MAX_BUNDLE_BYTES = 10 * 1024 * 1024
RUNTIME = {"runs-on": "ubuntu-latest", "python": "3.12", "apt": ["bubblewrap"]}
RELEASE_BODY_CHARS = 100_000
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


@dataclass(frozen=True)
class BuildRequest:
    classroom_dir: Path
    only: tuple[str, ...] = ()
    slug: str | None = None
    force: bool = False


def build(request: BuildRequest, course: Course,
          echo: Callable[[str], None] = print) -> tuple[Path, ...]:
    """Write one autograder folder per assignment (or one for all, with a slug)."""
    chosen = list(course.select(request.only))
    groups = [(request.slug, chosen)] if request.slug else [(a.id, [a]) for a in chosen]
    written = []
    for slug, assignments in groups:
        if not SLUG.match(slug):
            raise ConfigError(f"--slug: {slug!r} is not a Classroom 50 assignment slug "
                              f"({SLUG.pattern})")
        folder = request.classroom_dir / "autograders" / slug
        _make_room(folder, request.force)
        try:
            _write_autograder(folder, course, assignments)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        written.append(folder)
        echo(f"Wrote {folder} (grades {', '.join(a.id for a in assignments)}; "
             f"{_size(folder) // 1024} KiB)")
    echo("These folders hold the hidden suites and the course secret. Classroom 50 publishes "
         "them on GitHub Pages and runs them in the student's repository: every student can "
         "read them (docs/push-grading.md).")
    return tuple(written)


def _make_room(folder: Path, force: bool) -> None:
    if not folder.exists():
        folder.mkdir(parents=True)
        return
    if not force:
        raise ConfigError(f"{folder}: exists (use --force to replace it)")
    if not (folder / CONFIG_NAME).is_file():
        raise ConfigError(f"{folder}: not written by `grade classroom50 build`; not replacing it")
    shutil.rmtree(folder)
    folder.mkdir()


def _write_autograder(folder: Path, course: Course, assignments: Sequence[Assignment]) -> None:
    for needed in (ENTRYPOINT, course.secret_file):
        if not needed.is_file():
            raise CourseError(f"{needed}: not found")
    shutil.copyfile(ENTRYPOINT, folder / "autograder.py")
    config = {"assignments": [a.id for a in assignments], "grader_version": grader.__version__,
              "torch": TORCH_PIN}
    (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (folder / "runtime.json").write_text(json.dumps(RUNTIME, indent=2) + "\n", encoding="utf-8")
    package = folder / "nn-grader"
    package.mkdir()
    (package / "pyproject.toml").write_text(package_pyproject(), encoding="utf-8")
    shutil.copytree(Path(grader.__file__).resolve().parent, package / "grader", ignore=_SKIP)
    _write_course(folder / "course", course, assignments)
    size = _size(folder)
    if size > MAX_BUNDLE_BYTES:
        raise CourseError(f"{folder}: {size // 1024} KiB, over Classroom 50's "
                          f"{MAX_BUNDLE_BYTES // (1024 * 1024)} MiB bundle limit")


def package_pyproject() -> str:
    """A pyproject.toml that installs the grader package copied beside it: this grader's
    version and runtime dependencies (from its installed metadata, a wheel's or a checkout's)."""
    requires = importlib.metadata.requires(DISTRIBUTION) or []
    runtime = [r for r in requires if "extra ==" not in r]
    dependencies = "".join(f"    {json.dumps(r)},\n" for r in runtime)
    return (f"[build-system]\nrequires = [\"setuptools>=68\"]\n"
            f"build-backend = \"setuptools.build_meta\"\n\n"
            f"[project]\nname = \"{DISTRIBUTION}\"\nversion = \"{grader.__version__}\"\n"
            f"requires-python = \">=3.11\"\ndependencies = [\n{dependencies}]\n\n"
            f"[project.scripts]\ngrade = \"grader.cli:main\"\n\n"
            f"[tool.setuptools.packages.find]\ninclude = [\"grader*\"]\n\n"
            f"[tool.setuptools.package-data]\ngrader = {json.dumps(list(PACKAGE_DATA))}\n")


def _write_course(target: Path, course: Course, assignments: Sequence[Assignment]) -> None:
    for assignment in assignments:
        shutil.copytree(assignment.folder, target / "assignments" / assignment.id, ignore=_SKIP)
    shipped = {**suite_entries(assignments), **budgets.shipped(assignments)}
    for relative, path in shipped.items():
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / relative)
    shutil.copyfile(course.secret_file, target / "solutions" / "course_secret")
    if (course.root / COURSE_FILE).is_file():  # the late policy; never the extensions or
        shutil.copyfile(course.root / COURSE_FILE, target / COURSE_FILE)  # overrides: public


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- grading


@dataclass(frozen=True)
class AutogradeRequest:
    checkout: Path
    only: tuple[str, ...]
    out_dir: Path | None = None
    grace_ledger: Path | None = None  # the course's (never shipped in the public folder)


@dataclass(frozen=True)
class AutogradeOutcome:
    exit_code: int
    document: dict[str, object] | None
    result_json: Path | None


def autograde(request: AutogradeRequest, course: Course, settings: Settings,
              env: Mapping[str, str] | None = None,
              echo: Callable[[str], None] = print) -> AutogradeOutcome:
    """Grade the checkout for Classroom 50 (see the module docstring)."""
    env = os.environ if env is None else env
    course.select(request.only)
    identity = c50.identity_from_env(env)
    checkout = request.checkout
    for planted in ("result.json", "release-body.md"):  # the student's own, never ours
        (checkout / planted).unlink(missing_ok=True)
    ci_env = {k: v for k, v in env.items() if k != "GITHUB_OUTPUT"}  # ours go there, below
    with contextlib.ExitStack() as stack:
        out_dir = request.out_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="nn-grader-", dir=env.get("RUNNER_TEMP") or None)))
        submitted = c50.submitted_at(checkout, identity)  # the commit's: kept on regrade
        outcome = ci(CiRequest(path=checkout, out_dir=out_dir, student=identity.owner.lower(),
                               only=request.only, grace_ledger=request.grace_ledger,
                               submitted_at=dt.datetime.fromisoformat(submitted)),
                     course, settings, env=ci_env, echo=echo)
        body = outcome.summary_md.read_text(encoding="utf-8")
    if outcome.grader_failed:
        echo("grade: the grader failed: no result.json; Classroom 50 reports an error")
        return AutogradeOutcome(exit_code=1, document=None, result_json=None)
    graded = c50.utc_stamp(dt.datetime.now(dt.UTC))
    document = c50.result_document(outcome.run.results, identity, submitted, graded,
                                   read_visibility(course.root,
                                                   [a.id for a in course.assignments]))
    result_json = checkout / "result.json"
    result_json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    state, summary = c50.status_and_summary(document)
    if len(body) > RELEASE_BODY_CHARS:
        body = body[:RELEASE_BODY_CHARS] + "\n\n(cut here: the full report is in the job log)\n"
    (checkout / "release-body.md").write_text(f"{summary}\n\n{body}", encoding="utf-8")
    output = env.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.write(heredoc("status", state) + heredoc("summary", summary))
    echo(f"result.json: score {document['score']}/{document['max-score']} ({summary})")
    return AutogradeOutcome(exit_code=0, document=document, result_json=result_json)

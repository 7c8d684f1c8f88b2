"""``grade release OUT_DIR``: the student bundle, and proof that nothing secret is in it.

    OUT_DIR/README.md                    starter README (grader/templates/bundle/README.md.j2)
    OUT_DIR/requirements.txt             what the notebooks and public tests need
    OUT_DIR/pytest.ini, conftest.py      ``python -m pytest`` runs the public tests
    OUT_DIR/selfcheck/                   ``check("relu")`` in a notebook, ``python -m selfcheck``
    OUT_DIR/selfcheck/vendor/grader/     the grader's own modules the self-check runs (shipped.py)
    OUT_DIR/<id>/<id>.ipynb              the stub, generated from solutions/<id>.ipynb
    OUT_DIR/<id>/public/...              the public tests, copied
    OUT_DIR/.github/workflows/public-checks.yml   only with ``--with-workflow``

The self-check runs the grader's own extraction, worker loop and pytest plugin: release copies
those modules, unchanged, with every grader module they import (:mod:`grader.release.shipped`),
and writes ``selfcheck/assignments.json`` (ids, titles, function names). After writing, every
file of the bundle is scanned for the hidden suites' test names, the reference solutions' code
lines, the course secret and similarity reports; a hit is a CourseError and the bundle is
removed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat

from grader.core.course import Course
from grader.core.errors import ConfigError, CourseError
from grader.core.paths import TEMPLATES_DIR
from grader.extract.stub import stub_text
from grader.release.shipped import ship
from grader.similarity import CSV_HEADER, REPORT_MARKER

BUNDLE_TEMPLATES = TEMPLATES_DIR / "bundle"
STUDENT_WORKFLOW = TEMPLATES_DIR / "github" / "student.yml"
#: Files copied from grader/templates/bundle/ as they are.
STATIC_FILES = ("conftest.py", "pytest.ini", "selfcheck/__init__.py", "selfcheck/__main__.py",
                "selfcheck/cli.py", "selfcheck/kernel.py", "selfcheck/local.py",
                "selfcheck/plugin.py", "selfcheck/public.py")
#: Where PyTorch's CPU builds are (the bundle's requirements.txt names it for torch).
CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
_SKIPPED = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints")
#: Solution lines shorter than this (``x = 1``, ``return x``) are too common to be evidence.
MIN_LINE = 12


@dataclass(frozen=True)
class ReleaseRequest:
    out_dir: Path
    only: tuple[str, ...] = ()
    force: bool = False
    with_workflow: bool = False
    course_title: str = "Introduction to Neural Networks"


@dataclass(frozen=True)
class Release:
    out_dir: Path
    files: tuple[Path, ...]


def release(request: ReleaseRequest, course: Course,
            echo: Callable[[str], None] = print) -> Release:
    """Build the bundle in ``request.out_dir``, scan it, and list what it holds."""
    assignments = list(course.select(request.only))
    out = request.out_dir
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not request.force:
            raise ConfigError(f"{out}: exists and is not empty (use --force to replace it)")
        if not (out / "selfcheck" / "assignments.json").is_file():
            raise ConfigError(f"{out}: not a bundle made by `grade release`; not replacing it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        _write_bundle(out, course, assignments, request)
        leaks = find_leaks(out, course)
        if leaks:
            raise CourseError("the student bundle would leak grader material:\n  "
                              + "\n  ".join(leaks))
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    files = tuple(sorted(p for p in out.rglob("*") if p.is_file()))
    echo(f"Wrote the student bundle ({len(assignments)} assignments, {len(files)} files) "
         f"to {out}; scanned: no hidden test, solution or secret in it")
    return Release(out_dir=out, files=files)


def torch_version() -> str:
    """The torch the bundle pins: the release installed here (the one the suites were validated
    with), without its local tag (``2.13.0+cpu`` -> ``2.13.0``)."""
    try:
        return importlib.metadata.version("torch").split("+")[0]
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError("torch is not installed here: the bundle pins the installed "
                          "release") from None


def _write_bundle(out: Path, course: Course, assignments: Sequence, request: ReleaseRequest
                  ) -> None:
    templates = BUNDLE_TEMPLATES
    if not templates.is_dir():
        raise CourseError(f"{templates}: bundle templates folder not found")
    for assignment in assignments:
        folder = out / assignment.id
        folder.mkdir()
        text = stub_text(assignment.reference, assignment.id)
        (folder / f"{assignment.id}.ipynb").write_text(text, encoding="utf-8")
        if assignment.public_dir.is_dir():
            shutil.copytree(assignment.public_dir, folder / "public",
                            ignore=shutil.ignore_patterns(*_SKIPPED, "*.pyc", ".*"))
        else:
            (folder / "public").mkdir()
    for name in STATIC_FILES:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(templates / name, target)
    ship(out)
    manifest = {a.id: {"title": a.title, "functions": list(a.functions)} for a in assignments}
    (out / "selfcheck" / "assignments.json").write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    values = {
        "course_title": request.course_title,
        "assignments": assignments,
        "uses_torch": any(a.uses_torch for a in assignments),
        "example_function": assignments[0].functions[0] if assignments else "relu",
        "cpu_torch": course.config.student_torch == "cpu",
        "torch_index": CPU_TORCH_INDEX,
        "torch_version": torch_version(),
    }
    for name in ("README.md", "requirements.txt"):
        (out / name).write_text(env.get_template(f"{name}.j2").render(values), encoding="utf-8")
    if request.with_workflow:
        target = out / ".github" / "workflows" / "public-checks.yml"
        target.parent.mkdir(parents=True)
        shutil.copyfile(STUDENT_WORKFLOW, target)


# --------------------------------------------------------------------------- leak scan


def hidden_test_names(course: Course) -> set[str]:
    """Every ``def test_...`` name in solutions/hidden/."""
    names: set[str] = set()
    for suite in sorted((course.root / "solutions" / "hidden").glob("*.py")):
        tree = ast.parse(suite.read_text(encoding="utf-8"))
        names.update(node.name for node in ast.walk(tree)
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and node.name.startswith("test_"))
    return names


def solution_lines(reference: Path) -> tuple[set[str], str]:
    """(the non-trivial code lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``,
    everything else the reference shows: prose and code outside those regions)."""
    notebook = nbformat.read(reference, as_version=4)
    inside_lines: set[str] = set()
    shown: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            shown.append(cell.source)
            continue
        inside = False
        for line in cell.source.splitlines():
            text = line.strip()
            if text.startswith(("### BEGIN SOLUTION", "### BEGIN HIDDEN")):
                inside = True
            elif text.startswith(("### END SOLUTION", "### END HIDDEN")):
                inside = False
            elif not inside:
                shown.append(text)
            elif len(text) >= MIN_LINE and not text.startswith("#"):
                inside_lines.add(text)
    return inside_lines, "\n".join(shown)


def notebook_code(text: str) -> str:
    """Every cell's source of a notebook's JSON text, joined (as a person reads them)."""
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception:  # noqa: BLE001 - not a notebook: the raw text is all there is
        return text
    return "\n".join(cell.source for cell in notebook.cells)


def find_leaks(bundle: Path, course: Course) -> list[str]:
    """``file: what`` for every hidden test name, solution line, secret or similarity report
    found in ``bundle``."""
    secret_file = course.secret_file
    secret = secret_file.read_text(encoding="utf-8").strip() if secret_file.is_file() else ""
    tests = hidden_test_names(course)
    solutions: dict[str, str] = {}
    shown: list[str] = []  # what a reference shows outside its solutions is not secret
    for assignment in course.assignments:
        if assignment.reference.is_file():
            inside, outside = solution_lines(assignment.reference)
            shown.append(outside)
            solutions.update((line, assignment.id) for line in inside)
    given = "\n".join(shown)
    solutions = {line: a for line, a in solutions.items() if line not in given}
    leaks = []
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            text += "\n" + notebook_code(text)
        where = path.relative_to(bundle)
        if secret and secret in text:
            leaks.append(f"{where}: the course secret")
        if REPORT_MARKER in text or text.startswith(CSV_HEADER):
            leaks.append(f"{where}: a similarity report (for the instructor only)")
        leaks.extend(f"{where}: hidden test name {name}" for name in sorted(tests)
                     if re.search(rf"\b{re.escape(name)}\b", text))
        leaks.extend(f"{where}: solution line of {a}: {line}"
                     for line, a in sorted(solutions.items()) if line in text)
        if path.name.startswith("test_") and (course.root / "solutions" / "hidden"
                                              / path.name).is_file():
            leaks.append(f"{where}: has the name of a hidden suite")
    return leaks

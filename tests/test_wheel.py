"""The issue's test of a course of its own: the grader built as a wheel and installed (not
editable) into a fresh virtual environment grades a copy of this repository's course from inside
it with the same scores as this checkout, and `grade init` + `grade new` + `grade validate` work
in an empty folder; nothing is written into the installation, HOME or the checkout.

Slow (builds a wheel, makes a venv, installs torch): `pytest -m slow tests/test_wheel.py`.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.core.course import DEFAULT_ROOT

pytestmark = pytest.mark.slow
#: What a course needs to grade its demo class (the wheel carries everything else).
COURSE_PARTS = ("course.toml", "assignments", "solutions", "demo/submissions")
#: Never in the wheel: a course's material, its secret, this repository's tests and benches.
FORBIDDEN = ("solutions/", "course_secret", "hidden/", "assignments/", "demo/", "tests/",
             "bench/", "budgets.json", ".ipynb")


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 900
        ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


def listing(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` with its size (what changed, if anything was written)."""
    return {p.relative_to(folder).as_posix(): p.stat().st_size
            for p in sorted(folder.rglob("*")) if p.is_file() or p.is_symlink()}


def scores(grades_csv: Path) -> list[tuple[str, ...]]:
    with grades_csv.open(newline="") as handle:
        return sorted((r["student"], r["assignment"], r["score"], r["max_score"], r["status"])
                      for r in csv.DictReader(handle))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (the checkout gets no build/ folder)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(DEFAULT_ROOT / name, source / name)
    shutil.copytree(DEFAULT_ROOT / "grader", source / "grader",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         str(source), "-w", str(base / "dist")], cwd=base, env=dict(os.environ))
    (built,) = (base / "dist").glob("nn_grader-*.whl")
    return built


def test_the_wheel_carries_the_grader_and_its_templates_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert all(n.startswith(("grader/", "nn_grader-")) for n in names), names
    assert not [n for n in names if any(part in n for part in FORBIDDEN)]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for template in ("grader/templates/summary.html.j2", "grader/templates/new/examples.toml",
                     "grader/templates/bundle/requirements.txt.j2",
                     "grader/templates/gradescope/setup.sh.j2",
                     "grader/templates/classroom50/autograder.py",
                     "grader/templates/github/grading.yml",
                     "grader/templates/init/course.toml.j2"):
        assert template in names


def test_an_installed_wheel_grades_a_course_folder_anywhere(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items()
           if k not in ("GRADER_COURSE", "PYTHONPATH", "VIRTUAL_ENV", "GRADER_SECRET")}
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "torch==2.13.0",
         str(wheel)], cwd=tmp_path, env=env)
    home = tmp_path / "home"
    home.mkdir()
    env = {**env, "HOME": str(home), "PATH": f"{venv / 'bin'}:{env.get('PATH', '')}"}
    grade = str(venv / "bin" / "grade")
    before, checkout = listing(venv), listing(DEFAULT_ROOT / "grader")

    course = tmp_path / "course"
    for part in COURSE_PARTS:
        (course / part).parent.mkdir(parents=True, exist_ok=True)
        source = DEFAULT_ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, course / part)
    run([grade, "demo/submissions", "--out", "out", "-q", "--jobs", "2"], cwd=course, env=env)
    editable = tmp_path / "editable"
    run([sys.executable, "-m", "grader.cli", "demo/submissions", "--out", str(editable), "-q",
         "--jobs", "2"], cwd=DEFAULT_ROOT, env={**os.environ, "HOME": str(home)})
    assert scores(course / "out" / "grades.csv") == scores(editable / "grades.csv")
    assert len(scores(editable / "grades.csv")) >= 20

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    run([grade, "init", "."], cwd=fresh, env=env)
    run([grade, "new", "optimizers"], cwd=fresh / "assignments", env=env)
    checked = run([grade, "validate"], cwd=fresh, env=env)
    assert "example" in checked.stdout and "optimizers" in checked.stdout
    assert "mutants killed: 24/24" in checked.stdout, checked.stdout

    assert listing(venv) == before  # the installation is never written
    assert listing(DEFAULT_ROOT / "grader") == checkout
    assert listing(home) == {}, listing(home)

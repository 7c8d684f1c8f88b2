"""The student's self-check and the grader agree on every notebook the project has.

For each notebook of tests/notebook_corpus.py (demo class, equivalents and mutants as
notebooks, stubs, the extraction tests' robustness cases), placed in a released bundle:

* ``python -m selfcheck --json`` runs in the student's own Python (no grader installed: the
  bundle's copy of it only), one process per assignment;
* the grader runs the same public tests on the same file through a real sandboxed worker
  (``grader.submission.grade.run_public``, process level, warm).

The module the self-check loads must be the grader's extraction (same statements, same names
defined once loaded), and every public test's verdict (status and message) must be equal.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers.bundle import bundle_python, make_bundle
from helpers.notebook_corpus import ROOT, cases

from grader.core.course import load_course
from grader.core.results import PASSED
from grader.core.settings import Settings
from grader.sandbox import make_sandbox
from grader.submission.grade import PublicRun, run_public
from grader.submission.student import load_student_module

pytestmark = pytest.mark.slow  # the bundle's self-check in notebook kernels

COURSE = load_course(ROOT)


def grader_side(files: dict[Path, str]) -> dict[Path, PublicRun]:
    sandbox = make_sandbox("process", warm=True)
    settings = Settings(course_root=ROOT)
    try:
        return {path: run_public(path, COURSE.get(a), settings, sandbox)
                for path, a in files.items()}
    finally:
        close = getattr(sandbox, "close", None)
        if close is not None:
            close()


@pytest.fixture(scope="module")
def agreement(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    bundle = make_bundle(tmp_path_factory.mktemp("agreement") / "bundle")
    files: dict[Path, str] = {}
    for case in cases(COURSE):
        path = case.build(bundle / case.assignment / case.label)
        assert path not in files, f"two cases write {path}"
        files[path] = case.assignment
    # the self-check: one student process per assignment, all at once, while the grader runs
    running = {}
    for assignment in sorted(set(files.values())):
        paths = [str(p) for p, a in files.items() if a == assignment]
        report = bundle / f"{assignment}.json"
        running[assignment] = (report, subprocess.Popen(
            bundle_python(bundle, "selfcheck", "--json", str(report), *paths, run=False),
            cwd=bundle, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    graded = grader_side(files)
    selfcheck: dict[Path, dict[str, Any]] = {}
    for report, process in running.values():
        out, err = process.communicate(timeout=900)
        # 1: some check failed (the corpus holds wrong notebooks on purpose); a crash is not 0/1
        assert process.returncode in (0, 1), err[-3000:]
        assert report.is_file(), err[-3000:]
        selfcheck.update((Path(entry["notebook"]), entry)
                         for entry in json.loads(report.read_text()))
    return {"files": files, "grader": graded, "selfcheck": selfcheck}


def test_every_notebook_was_checked_by_both(agreement: dict[str, Any]) -> None:
    files = agreement["files"]
    assert set(agreement["selfcheck"]) == set(files) == set(agreement["grader"])
    kinds = {path.stem.split("-")[0] for path in files}
    assert {"demo", "equivalents", "mutants", "stub", "reversed", "merged", "split", "one",
            "magics", "class", "dict"} <= kinds


def test_the_self_check_loads_the_graders_extraction(agreement: dict[str, Any]) -> None:
    for path, assignment in agreement["files"].items():
        mine = agreement["selfcheck"][path]
        module, error = load_student_module(path, COURSE.get(assignment).functions)
        assert mine["error"] == error, path.name
        assert mine["source_sha256"] == hashlib.sha256(module.source.encode()).hexdigest(), \
            path.name
        assert mine["loaded"] == list(agreement["grader"][path].loaded), path.name


def masked(message: str) -> str:
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", message)


def test_every_public_verdict_agrees(agreement: dict[str, Any]) -> None:
    """Status and message equal; a message may differ in its numbers only where the grader's
    own message differs between two runs of the same file (a mutant's unseeded draws)."""
    notebooks = tests = passed = 0
    differ, numbers_only = [], []
    for path, assignment in agreement["files"].items():
        mine = {t["name"]: (t["status"], t["message"])
                for t in agreement["selfcheck"][path]["tests"]}
        theirs = {t.name: (t.status, t.message) for t in agreement["grader"][path].tests}
        assert mine, f"{path.name}: the self-check ran no public test"
        for name in sorted(set(mine) | set(theirs)):
            a, b = mine.get(name), theirs.get(name)
            if a == b:
                continue
            if a and b and a[0] == b[0] and masked(a[1]) == masked(b[1]):
                numbers_only.append((path, assignment, name))
            else:
                differ.append(f"{path.name}::{name}: self-check {a}, grader {b}")
        notebooks += 1
        tests += len(theirs)
        passed += sum(status == PASSED for status, _ in theirs.values())
    print(f"\nagreement: {notebooks} notebooks, {tests} public tests "
          f"({passed} passed, {tests - passed} did not), every verdict equal; "
          f"{len(numbers_only)} messages differ in random numbers only")
    assert not differ, "\n".join(differ[:40])
    assert passed and tests - passed  # both verdicts occur: the comparison can fail
    again = grader_side({path: assignment for path, assignment, _ in numbers_only})
    for path, _, name in numbers_only:
        first = next(t.message for t in agreement["grader"][path].tests if t.name == name)
        second = next(t.message for t in again[path].tests if t.name == name)
        assert first != second, f"{path.name}::{name}: the grader is deterministic here"

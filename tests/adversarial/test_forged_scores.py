"""A student cannot forge its own score: each attack of ``forged/`` scores no more than the
same student's honest baseline (the function left unimplemented, or the same mistake made
without the forgery), graded in one slot, attacks first, at both levels.

The suites once trusted what the worker said: ``train``'s reported losses, the type of
``train_model``'s losses, a record of forward passes kept in the worker's model, and the
worker's ``torch.cuda.is_available()`` for a tolerance. Each attack replaces functions of a
correct implementation from ``tests/equivalents/`` (named on its first line).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from helpers.resources import needs_bwrap

from grader.core.course import load_course
from grader.core.results import RunResult
from grader.core.settings import Limits, Settings
from grader.run.grading import close_sandboxes, grade_folder
from grader.sandbox.bwrap import available as bwrap_problem

ROOT = Path(__file__).resolve().parents[2]
FORGED = Path(__file__).resolve().parent / "forged"
CASES = sorted(p.name for p in FORGED.iterdir() if p.is_dir())
BWRAP_PROBLEM = bwrap_problem()
LIMITS = Limits(memory_mb=2048, processes=64, test_timeout_s=30, submission_timeout_s=300,
                load_timeout_s=30,
                output_bytes=64 * 1024, file_size_mb=16)
LEVELS = [pytest.param("bwrap", marks=needs_bwrap), "process"]


def with_replaced(base: str, override: str) -> str:
    """``base`` without its top-level definitions that ``override`` defines, then
    ``override``."""
    names = {node.name for node in ast.parse(override).body
             if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    lines = base.splitlines()
    for node in sorted((n for n in ast.parse(base).body
                        if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in names),
                       key=lambda n: n.lineno, reverse=True):
        assert node.end_lineno is not None
        del lines[node.lineno - 1:node.end_lineno]
    return "\n".join(lines) + "\n\n\n" + override


def source(case: str, kind: str) -> tuple[str, str]:
    """(assignment id, the student's .py) of ``case``'s attack or baseline."""
    override = (FORGED / case / f"{kind}.py").read_text(encoding="utf-8")
    match = re.match(r"# base: (\w+)/(\S+)", override)
    assert match, f"{case}/{kind}.py: no '# base:' line"
    base = (ROOT / "tests" / "equivalents" / match.group(1) / match.group(2)).read_text()
    return match.group(1), with_replaced(base, override)


@pytest.fixture(scope="module", autouse=True)
def fresh_sandboxes():
    close_sandboxes()
    yield
    close_sandboxes()


def grade_all(level: str, base: Path) -> RunResult:
    subs = base / "submissions"
    for case in CASES:
        for prefix, kind in (("a", "attack"), ("b", "baseline")):
            assignment, text = source(case, kind)
            (subs / f"{prefix}_{case}").mkdir(parents=True)
            (subs / f"{prefix}_{case}" / f"{assignment}.py").write_text(text, encoding="utf-8")
    settings = Settings(course_root=ROOT, limits=LIMITS, sandbox=level, secret="forged", jobs=1)
    return grade_folder(subs, load_course(ROOT), settings, only=("backprop", "training"))


@pytest.mark.slow  # the forged corpus graded as a class at each level
@pytest.mark.parametrize("level", LEVELS)
def test_a_forged_result_scores_no_more_than_the_honest_baseline(tmp_path: Path,
                                                                 level: str) -> None:
    run = grade_all(level, tmp_path)
    scores = {}
    for case in CASES:
        attack, baseline = (next(r for r in run.results
                                 if r.student == f"{prefix}_{case}" and r.path)
                            for prefix in ("a", "b"))
        assert not attack.grader_error and not baseline.grader_error, (attack.error,
                                                                       baseline.error)
        scores[case] = (attack.score, baseline.score)
    assert {c: s for c, s in scores.items() if s[0] > s[1]} == {}, scores
    assert all(0 < baseline < 100 for _, baseline in scores.values()), scores

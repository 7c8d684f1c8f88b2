"""``grade validate``: prove each hidden suite grades right before students are graded by it.

For every assignment: the reference notebook must score the full 100, the generated stub 0
(every test "not attempted", none a grader error), and every mutant in
``tests/mutants/<id>/*.py`` (a single-bug variant of the reference) must lose points. Prints the
kill rate per assignment; returns False when any of that fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.course import Assignment, Course
from grader.results import ERROR, SubmissionResult
from grader.runner.grade import Job, grade_job
from grader.sandbox import make_sandbox
from grader.sandbox.base import Sandbox
from grader.settings import Limits, Settings

VALIDATION_SECRET = "validate"


@dataclass(frozen=True)
class Validation:
    assignment: str
    reference: float
    stub: float
    mutants: int
    survivors: tuple[str, ...]
    grader_errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return (self.reference == 100 and self.stub == 0 and not self.survivors
                and not self.grader_errors)


def validate_assignment(assignment: Assignment, mutants: list[Path], settings: Settings,
                        sandbox: Sandbox) -> Validation:
    def grade(name: str, path: Path) -> SubmissionResult:
        return grade_job(Job(name, assignment, path), settings, sandbox)

    graded = [grade("reference", assignment.reference), grade("stub", assignment.stub)]
    graded += [grade(path.stem, path) for path in mutants]
    errors = tuple(f"{r.student}: {t.name}: {t.message}" for r in graded for t in r.tests
                   if t.status == ERROR)
    survivors = tuple(r.student for r in graded[2:] if r.score >= assignment.max_score)
    return Validation(assignment.id, graded[0].score, graded[1].score, len(mutants),
                      survivors, errors)


def validate(course: Course, mutants_dir: Path, sandbox_level: str, only: Sequence[str] = (),
             echo: Callable[[str], None] = print) -> bool:
    assignments = course.select(only)
    settings = Settings(course_root=course.root, sandbox=sandbox_level,
                        secret=VALIDATION_SECRET, limits=Limits(test_timeout_s=30))
    sandbox = make_sandbox(sandbox_level)
    echo(f"{'assignment':<12} {'reference':>9} {'stub':>5} {'mutants killed':>15}")
    results = []
    for assignment in assignments:
        mutants = sorted((mutants_dir / assignment.id).glob("*.py"))
        result = validate_assignment(assignment, mutants, settings, sandbox)
        results.append(result)
        killed = result.mutants - len(result.survivors)
        rate = f"{killed}/{result.mutants} ({100 * killed / max(result.mutants, 1):.0f}%)"
        echo(f"{assignment.id:<12} {result.reference:>9g} {result.stub:>5g} {rate:>15}"
             f"  {'ok' if result.ok else 'FAIL'}")
        for name in result.survivors:
            echo(f"  survived: {name}")
        for line in result.grader_errors:
            echo(f"  grader error: {line}")
    total = sum(r.mutants for r in results)
    killed = total - sum(len(r.survivors) for r in results)
    echo(f"mutants killed: {killed}/{total}")
    return all(r.ok for r in results)

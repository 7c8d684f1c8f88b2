"""``grade validate``: prove each hidden suite grades right before students are graded by it.

For every assignment, first its own consistency (grader.commands.consistency: the toml, the
reference, the stub, the public tests, the hidden suite and the mutants agree on the function
names, the points add up); an inconsistent assignment is not graded. Then the reference
notebook must score the full 100, the generated stub 0 (every test "not attempted", none a
grader error), and every mutant in ``tests/mutants/<id>/*.py`` (a single-bug variant of the
reference) must be killed: a test *of a function its* ``# breaks:`` *header names* must fail on
it (never a test that fails because the mutant lacks the name). Last, the mutants derived
from the reference (grader.commands.generated) are graded and each function's mutation score
printed, every survivor as a diff; the assignment must reach the course's ``[validate]
mutation_score``. Prints the kill rate per assignment; returns False when any of that fails.

It also measures the test budgets (grader.suite.budgets): where ``solutions/hidden/budgets.json``
has
no measurement for a suite as it is now (new or changed), the reference's worker time on each
test, the largest over MEASURE_STUDENTS students' inputs, is stored under the suite's hash.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.commands.consistency import breaks_of, caught, check_consistency, load_reference
from grader.commands.generated import (
    GeneratedScore,
    report_lines,
    required_score,
    score_generated,
)
from grader.core.course import Assignment, Course
from grader.core.results import ERROR, SubmissionResult
from grader.core.settings import Limits, Settings
from grader.sandbox import make_sandbox
from grader.sandbox.base import Sandbox
from grader.submission.grade import Job, grade_job, suite_hash
from grader.suite import budgets

VALIDATION_SECRET = "validate"
#: The reference is timed on this many students' inputs; each test keeps its slowest.
MEASURE_STUDENTS = 3
#: Every test's budget while validating: measurements must not depend on older ones.
VALIDATE_TEST_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Validation:
    assignment: str
    reference: float
    stub: float
    mutants: int
    survivors: tuple[str, ...]
    grader_errors: tuple[str, ...]
    budgets: str = ""  # what became of the test budgets (grader.suite.budgets)
    problems: tuple[str, ...] = ()  # inconsistencies (grader.commands.consistency)
    generated: GeneratedScore | None = None  # None: not made (the reference fell short)

    @property
    def ok(self) -> bool:
        return (not self.problems and self.reference == 100 and self.stub == 0
                and not self.survivors and not self.grader_errors
                and (self.generated is None or self.generated.ok))


def validate_assignment(assignment: Assignment, mutants: list[Path], settings: Settings,
                        sandbox: Sandbox, required: float = 0.0,
                        generate: bool = True) -> Validation:
    """Consistency, then the reference, the stub, the hand-written and generated mutants."""
    reference = load_reference(assignment)
    problems = tuple(check_consistency(assignment, reference, mutants))
    if problems:
        return Validation(assignment.id, float("nan"), float("nan"), len(mutants), (), (),
                          "not measured (the assignment is inconsistent)", problems)

    def grade(name: str, path: Path, select: Callable[[str], bool] | None = None
              ) -> SubmissionResult:
        return grade_job(Job(name, assignment, path), settings, sandbox, select=select)

    graded = [grade("reference", assignment.reference), grade("stub", assignment.stub)]
    graded += [grade(path.stem, path) for path in mutants]
    errors = tuple(f"{r.student}: {t.name}: {t.message}" for r in graded for t in r.tests
                   if t.status == ERROR)
    survivors = tuple(r.student for r, path in zip(graded[2:], mutants, strict=True)
                      if not caught(r, set(breaks_of(path)[1])))
    measured = measure_budgets(assignment, graded[0], grade)
    # generated mutants get the budgets students get (measured just now at the latest): a
    # mutant that loops for ever costs seconds, not VALIDATE_TEST_TIMEOUT_S per test
    budgeted = replace(settings, limits=replace(settings.limits, test_timeout_s=None))

    def grade_generated(name: str, path: Path, select: Callable[[str], bool] | None
                        ) -> SubmissionResult:
        return grade_job(Job(name, assignment, path), budgeted, sandbox, select=select)

    generated = (score_generated(assignment, reference.source, grade_generated, required,
                                 generous=grade)
                 if generate and graded[0].score == assignment.max_score else None)
    return Validation(assignment.id, graded[0].score, graded[1].score, len(mutants),
                      survivors, errors, measured, generated=generated)


def measure_budgets(assignment: Assignment, reference: SubmissionResult,
                    grade: Callable[[str, Path], SubmissionResult]) -> str:
    """Measure and store the suite's test budgets unless they are measured for it already."""
    digest = suite_hash(assignment)
    if budgets.measurement(assignment, digest)[0] is not None:
        return "measured earlier for this suite"
    if reference.score != assignment.max_score:
        return "not measured (the reference does not score full marks)"
    runs = [reference] + [grade(f"reference-{k}", assignment.reference)
                          for k in range(2, MEASURE_STUDENTS + 1)]
    worker_s: dict[str, float] = {}
    for run in runs:
        for test in run.tests:
            worker_s[test.name] = max(worker_s.get(test.name, 0.0), test.worker_s)
    path = budgets.record(assignment, digest, worker_s)
    slowest = max(worker_s, key=worker_s.__getitem__)
    return (f"measured now into {path.name}: slowest {slowest} "
            f"{worker_s[slowest]:.3f} s -> budget {budgets.rule(worker_s[slowest]):.3g} s")


def validate(course: Course, mutants_dir: Path, sandbox_level: str, only: Sequence[str] = (),
             echo: Callable[[str], None] = print, generate: bool = True) -> bool:
    """Validate the assignments ``only`` names (all by default); False when any fails.
    ``generate`` False skips the generated mutants (the hand-written ones are graded)."""
    assignments = course.select(only)
    required = required_score(course.root)
    settings = Settings(course_root=course.root, sandbox=sandbox_level,
                        secret=VALIDATION_SECRET,
                        limits=Limits(test_timeout_s=VALIDATE_TEST_TIMEOUT_S))
    sandbox = make_sandbox(sandbox_level)
    echo(f"{'assignment':<12} {'reference':>9} {'stub':>5} {'mutants killed':>15}")
    results = []
    for assignment in assignments:
        mutants = sorted((mutants_dir / assignment.id).glob("*.py"))
        started = time.monotonic()
        result = validate_assignment(assignment, mutants, settings, sandbox, required, generate)
        results.append(result)
        report(result, echo)
        echo(f"  validated in {time.monotonic() - started:.1f} s")
    graded = [r for r in results if not r.problems]
    total = sum(r.mutants for r in graded)
    killed = total - sum(len(r.survivors) for r in graded)
    echo(f"mutants killed: {killed}/{total}")
    return all(r.ok for r in results)


def report(result: Validation, echo: Callable[[str], None]) -> None:
    """The assignment's table row, then one line per problem."""
    if result.problems:
        echo(f"{result.assignment:<12} inconsistent: {len(result.problems)} problem(s), "
             f"nothing graded  FAIL")
        for line in result.problems:
            echo(f"  {line}")
        return
    killed = result.mutants - len(result.survivors)
    rate = f"{killed}/{result.mutants} ({100 * killed / max(result.mutants, 1):.0f}%)"
    echo(f"{result.assignment:<12} {result.reference:>9g} {result.stub:>5g} {rate:>15}"
         f"  {'ok' if result.ok else 'FAIL'}")
    for name in result.survivors:
        echo(f"  survived: {name} (no test of a function its '# breaks:' names caught it)")
    for line in result.grader_errors:
        echo(f"  grader error: {line}")
    echo(f"  budgets: {result.budgets}")
    if result.generated is not None:
        for line in report_lines(result.generated):
            echo(line)

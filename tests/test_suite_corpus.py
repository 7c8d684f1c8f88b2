"""Every hidden suite against its corpus: equivalents score 100, mutants are caught where they
break, and inputs are seeded per student.

* each file in tests/equivalents/<id>/ (a correct solution written differently) scores 100 for
  several students: the suite has no false failures;
* each file in tests/mutants/<id>/ (one real bug) scores below 100 without a grader error, and
  exactly the tests of the functions on its ``# breaks:`` line lose points;
* every assignment has at least 12 mutants and 3 equivalents.

The per-assignment files (tests/test_<id>_suite.py) check the rest: reference, stub, public
tests and feedback particular to each suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.suite_harness import (
    ROOT,
    STUDENTS,
    breaks_of,
    corpus,
    describe,
    function_of,
    grade,
    lost,
)

from grader.core.course import load_course
from grader.core.results import ERROR

pytestmark = pytest.mark.slow  # every mutant and equivalent graded

COURSE = load_course(ROOT)
IDS = tuple(a.id for a in COURSE.assignments)
#: torch suites cost more per run: two students are enough to vary the inputs
STUDENTS_FOR = {"training": STUDENTS[:2]}

EQUIVALENTS = [pytest.param(a, path, student, id=f"{a}-{path.stem}-{student}")
               for a in IDS for path in corpus("equivalents", a)
               for student in STUDENTS_FOR.get(a, STUDENTS)]
MUTANTS = [pytest.param(a, path, id=f"{a}-{path.stem}") for a in IDS
           for path in corpus("mutants", a)]


@pytest.mark.parametrize(("assignment_id", "path", "student"), EQUIVALENTS)
def test_equivalent_scores_100(assignment_id: str, path: Path, student: str) -> None:
    result = grade(COURSE.get(assignment_id), path, student)
    assert result.error is None
    assert result.score == 100, describe(result)


@pytest.mark.parametrize(("assignment_id", "path"), MUTANTS)
def test_mutant_is_caught_by_its_functions_tests(assignment_id: str, path: Path) -> None:
    assignment = COURSE.get(assignment_id)
    breaks = breaks_of(path)
    assert breaks <= set(assignment.functions), f"unknown names in '# breaks:': {breaks}"
    result = grade(assignment, path)
    assert result.error is None
    assert result.score < 100, f"{path.name} scored 100"
    assert not [t for t in result.tests if t.status == ERROR], describe(result)
    hit = {function_of(name, assignment.functions) for name in lost(result)}
    assert hit <= breaks, f"tests of other functions lost points:\n{describe(result)}"
    assert hit == breaks, f"no test of {sorted(breaks - hit)} lost points"


@pytest.mark.parametrize("assignment_id", IDS)
def test_enough_mutants_and_equivalents(assignment_id: str) -> None:
    assert len(corpus("mutants", assignment_id)) >= 12
    assert len(corpus("equivalents", assignment_id)) >= 3


@pytest.mark.parametrize("assignment_id", IDS)
def test_suite_seeds_inputs_per_student(assignment_id: str) -> None:
    assignment = COURSE.get(assignment_id)
    seeds = {student: [t.seed for t in grade(assignment, assignment.reference, student).tests]
             for student in ("alice", "bob")}
    assert seeds["alice"] != seeds["bob"]

"""gradebook.csv: one row per student, a column per assignment, a total; the roster's columns,
its students with no folder (missing, 0) and folders not on it (unknown); every CSV cell safe."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from grader.core.results import PASSED, RunResult, SubmissionResult
from grader.core.results import TestResult as Result
from grader.core.roster import read_roster
from grader.report import write_reports

FORMULA = '=HYPERLINK("x")'


def _sub(student: str, assignment: str, score: float, **kw: object) -> SubmissionResult:
    test = Result(name="test_f__x", description="f: x", status=PASSED, score=score,
                  max_score=score)
    return SubmissionResult(student=student, assignment=assignment,  # type: ignore[arg-type]
                            path=f"/s/{assignment}.ipynb", tests=(test,), **kw)


def _run() -> RunResult:
    return RunResult(results=(
        _sub("alice", "forward", 100), _sub("alice", "backprop", 80),
        _sub("Bob", "forward", 50), _sub("Bob", "backprop", 10, grader_error=True),
        _sub(FORMULA, "forward", 30), _sub(FORMULA, "backprop", 20),
        _sub("line\nbreak", "forward", 1), _sub("line\nbreak", "backprop", 2),
    ))


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_one_row_per_student_a_column_per_assignment_and_a_total(tmp_path: Path) -> None:
    paths = write_reports(_run(), tmp_path)
    rows = _read(paths.gradebook_csv)
    assert rows[0] == ["student", "forward", "backprop", "total"]
    by_student = {row[0]: row[1:] for row in rows[1:]}
    assert by_student["alice"] == ["100", "80", "180"]
    assert by_student["Bob"] == ["50", "", "50"]  # the grader failed on backprop: no 0
    assert len(rows) == 5  # a name with a line break is one row


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text('student,name,email,lms_id\nbob,"Bob\nBuilder",bob@x.edu,2\n'
                    "alice,Alice,alice@x.edu,1\nzoe,@SUM(A1),zoe@x.edu,3\n", encoding="utf-8")
    return path


def test_the_roster_adds_columns_missing_students_and_unknown_folders(
        tmp_path: Path, roster: Path) -> None:
    paths = write_reports(_run(), tmp_path / "out", roster=read_roster(roster))
    rows = _read(paths.gradebook_csv)
    assert rows[0] == ["student", "name", "email", "lms_id", "forward", "backprop", "total",
                       "roster"]
    assert [row[0] for row in rows[1:4]] == ["Bob", "alice", "zoe"]  # roster order first
    assert rows[1][1:4] == ["Bob\\nBuilder", "bob@x.edu", "2"]  # matched case-insensitively
    assert rows[3] == ["zoe", "'@SUM(A1)", "zoe@x.edu", "3", "0", "0", "0", "missing"]
    unknown = {row[0]: row for row in rows[4:]}
    assert unknown["'" + FORMULA][-1] == "unknown"
    assert paths.missing == ("zoe",) and set(paths.unknown) == {FORMULA, "line\nbreak"}


@pytest.mark.parametrize("name", ["grades.csv", "gradebook.csv"])
def test_a_formula_folder_name_is_neutralised_in_every_csv(tmp_path: Path, name: str) -> None:
    write_reports(_run(), tmp_path)
    rows = _read(tmp_path / name)
    cells = [cell for row in rows for cell in row]
    assert "'" + FORMULA in cells
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert not any("\n" in cell for cell in cells)
    assert (tmp_path / name).read_text(encoding="utf-8").count("\n") == len(rows)

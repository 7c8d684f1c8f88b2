"""grader.report: grades.csv, results.json, feedback and summary from hand-built results."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from grader.core.errors import GraderError
from grader.core.paths import inside, safe_component
from grader.core.results import (
    CRASHED,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    TIMED_OUT,
    Attempt,
    RunResult,
    SubmissionResult,
    TestResult,
)
from grader.report import score_table, write_reports

REQUIRED_TEST_KEYS = {"name", "score", "max_score", "status", "output", "visibility"}


def _test(name: str, status: str, max_score: float = 10.0, message: str = "") -> TestResult:
    score = max_score if status == PASSED else 0.0
    return TestResult(name=name, description=f"{name} works", status=status, score=score,
                      max_score=max_score, message=message, seed=7)


def _sub(student: str, assignment: str, *tests: TestResult, **kw: object) -> SubmissionResult:
    defaults: dict[str, object] = {
        "path": f"/subs/{student}/{assignment}.ipynb", "tests": tests, "seed": 1234,
        "grader_version": "0.1.0", "suite_hash": "abcdef0123456789", "sandbox": "process",
        "matched_by": "file name", "duration_s": 1.5,
    }
    defaults.update(kw)
    return SubmissionResult(student=student, assignment=assignment, **defaults)  # type: ignore[arg-type]


def sample_run() -> RunResult:
    """Two assignments, three students: passes, failures, a timeout, a crash, a missing and an
    unreadable notebook, a second attempt, a name with a comma, and an unrecognised file."""
    evil = "<script>alert('x')</script>"
    return RunResult(
        results=(
            _sub("alice", "activations", _test("relu", PASSED), _test("sigmoid", PASSED),
                 _test("softmax", PASSED, 12.5)),
            _sub("bob", "activations", _test("relu", PASSED),
                 _test("sigmoid", FAILED, message=f"input: 1\nexpected 0.73\ngot {evil}"),
                 _test("softmax", TIMED_OUT, 12.5, message="took longer than 10 s"),
                 notes=("This statement failed when your definitions were loaded: x = 1/0",),
                 output="hello from bob\n",
                 other_attempts=(Attempt("/subs/bob/activations (1).ipynb", 5.0),)),
            _sub("carol, jr.", "activations", _test("relu", PASSED), _test("sigmoid", FAILED),
                 _test("softmax", CRASHED, 12.5, message="ZeroDivisionError")),
            _sub("alice", "backprop", path=None, max_score=100.0,
                 error="No notebook was handed in for this assignment."),
            _sub("bob", "backprop", _test("backward", NOT_ATTEMPTED, 50.0),
                 error="cannot parse notebook: invalid JSON"),
            _sub("carol, jr.", "backprop", _test("backward", PASSED, 50.0)),
        ),
        unrecognized=(("/subs/dave/notes.txt", "not a notebook or .py file"),),
        sandbox="process",
    )


@pytest.fixture
def run() -> RunResult:
    return sample_run()


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_grades_csv_header_rows_and_order(run: RunResult, tmp_path: Path) -> None:
    write_reports(run, tmp_path)
    header = (tmp_path / "grades.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ("student,assignment,score,max_score,status,file,other_attempts,error,"
                      "raw_score,late_penalty,final_score,submitted_at,due,grace_days_used,"
                      "late,override")
    rows = _rows(tmp_path)
    assert [(r["student"], r["assignment"]) for r in rows] == [
        ("alice", "activations"), ("alice", "backprop"), ("bob", "activations"),
        ("bob", "backprop"), ("carol, jr.", "activations"), ("carol, jr.", "backprop")]
    assert rows[0]["score"] == "32.5" and rows[0]["status"] == "graded"
    assert rows[2]["score"] == "10"
    assert rows[2]["other_attempts"] == "/subs/bob/activations (1).ipynb (5)"
    assert rows[3]["status"] == "unreadable" and "invalid JSON" in rows[3]["error"]


def test_missing_notebook_scores_zero(run: RunResult, tmp_path: Path) -> None:
    paths = write_reports(run, tmp_path)
    row = next(r for r in _rows(tmp_path) if (r["student"], r["assignment"]) == ("alice",
                                                                                  "backprop"))
    assert (row["score"], row["max_score"], row["status"], row["file"]) == ("0", "100",
                                                                            "missing", "")
    sub = next(s for s in paths.submissions if (s.student, s.assignment) == ("alice",
                                                                              "backprop"))
    data = json.loads(sub.results_json.read_text(encoding="utf-8"))
    assert data["score"] == 0 and data["tests"] == []
    feedback = sub.feedback_md.read_text(encoding="utf-8")
    assert "Nothing was handed in" in feedback and "0 / 100" in feedback
    assert "Nothing was handed in" in sub.feedback_html.read_text(encoding="utf-8")


def test_a_grader_error_is_status_error_not_a_grade(tmp_path: Path) -> None:
    failed = _sub("dana", "activations", grader_error=True,
                  error="The grader failed on this submission (SandboxFailure: x)")
    paths = write_reports(RunResult(results=(failed,), sandbox="process"), tmp_path)
    row = _rows(tmp_path)[0]
    assert (row["status"], row["score"]) == ("error", "0") and "grader failed" in row["error"]
    data = json.loads(paths.submissions[0].results_json.read_text(encoding="utf-8"))
    assert data["extra_data"]["status"] == "error"
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "graded 0, unreadable 0, missing 0, grader errors 1" in summary
    feedback = paths.submissions[0].feedback_md.read_text(encoding="utf-8")
    assert "The grader failed on your notebook (not your code)" in feedback
    assert "could not be read" not in feedback


def test_student_name_with_comma_is_quoted(run: RunResult, tmp_path: Path) -> None:
    write_reports(run, tmp_path)
    text = (tmp_path / "grades.csv").read_text(encoding="utf-8")
    assert '\n"carol, jr.",activations,' in text
    assert {r["student"] for r in _rows(tmp_path)} == {"alice", "bob", "carol, jr."}


def test_results_json_is_gradescope_shaped(run: RunResult, tmp_path: Path) -> None:
    paths = write_reports(run, tmp_path)
    assert len(paths.submissions) == 6
    for sub in paths.submissions:
        data = json.loads(sub.results_json.read_text(encoding="utf-8"))
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
        assert {"execution_time", "output", "visibility", "stdout_visibility"} <= data.keys()
        for test in data["tests"]:
            assert test.keys() >= REQUIRED_TEST_KEYS
            assert test["status"] in ("passed", "failed")
        extra = data["extra_data"]
        for key in ("grader_version", "suite_hash", "seed", "sandbox", "device", "file",
                    "matched_by", "notes", "other_attempts"):
            assert key in extra
    bob = json.loads((tmp_path / "bob" / "activations" / "results.json").read_text())
    assert bob["score"] == 10
    softmax = bob["tests"][2]
    assert softmax["status"] == "failed" and softmax["extra_data"]["status"] == TIMED_OUT
    assert "timed out" in softmax["output"]
    assert bob["extra_data"]["seed"] == 1234


def test_html_escapes_student_message(run: RunResult, tmp_path: Path) -> None:
    write_reports(run, tmp_path)
    html = (tmp_path / "bob" / "activations" / "feedback.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "failed: input: 1</span>" in html  # the failure's first line, in its verdict
    markdown = (tmp_path / "bob" / "activations" / "feedback.md").read_text(encoding="utf-8")
    assert "<script>alert('x')</script>" in markdown  # Markdown is not HTML-escaped


def test_feedback_content(run: RunResult, tmp_path: Path) -> None:
    write_reports(run, tmp_path, titles={"activations": "Activation functions"})
    md = (tmp_path / "bob" / "activations" / "feedback.md").read_text(encoding="utf-8")
    assert md.startswith("# Activation functions (`activations`)")
    assert "**Score:** 10 / 100" in md
    assert "activations (1).ipynb`: 5" in md and "best one counts" in md
    assert "x = 1/0" in md  # the failed statement note
    assert "| sigmoid works | failed | 0 / 10 |" in md
    assert "took longer than 10 s" in md and "hello from bob" in md
    assert "seed 1234" in md and "abcdef0123456789" in md and "sandbox process" in md
    html = (tmp_path / "bob" / "activations" / "feedback.html").read_text(encoding="utf-8")
    assert "<style>" in html and "<script" not in html


def test_summary_pass_rates(run: RunResult, tmp_path: Path) -> None:
    write_reports(run, tmp_path)
    md = (tmp_path / "summary.md").read_text(encoding="utf-8")
    # activations: relu 3/3, sigmoid 1/3, softmax 1/3 -> hardest first.
    assert "| relu works | 3 / 3 | 100% |" in md
    assert "| sigmoid works | 1 / 3 | 33% |" in md
    assert md.index("sigmoid works") < md.index("relu works")
    assert md.index("softmax works") < md.index("relu works")
    # backprop: bob's unreadable notebook is not counted among the graded.
    assert "| backward works | 1 / 1 | 100% |" in md
    assert "graded 1, unreadable 1, missing 1" in md
    assert "`/subs/dave/notes.txt`: not a notebook or .py file" in md
    assert "sandbox level: **process**" in md
    html = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert "33%" in html and "notes.txt" in html


def test_two_of_three_is_67_percent(tmp_path: Path) -> None:
    run = RunResult(results=tuple(
        _sub(name, "forward", _test("mse", status))
        for name, status in (("a", PASSED), ("b", PASSED), ("c", FAILED))))
    write_reports(run, tmp_path)
    assert "| mse works | 2 / 3 | 67% |" in (tmp_path / "summary.md").read_text()
    assert "67%" in (tmp_path / "summary.html").read_text()


@pytest.mark.parametrize("evil", ["../x", "..", "a/../../b", "/etc", "..\\y", "."])
def test_evil_student_id_stays_inside_out_dir(tmp_path: Path, evil: str) -> None:
    out = tmp_path / "out"
    run = RunResult(results=(_sub(evil, "forward", _test("mse", PASSED)),))
    paths = write_reports(run, out)
    root = out.resolve()
    for path in paths.files:
        assert path.resolve().is_relative_to(root)
    written = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()}
    assert all(p.is_relative_to(root) for p in written)
    assert _rows(out)[0]["student"] == evil


def test_safe_component_keeps_names_apart() -> None:
    assert safe_component("alice") == "alice"
    assert safe_component("a/b") != safe_component("a_b")
    assert "/" not in safe_component("../x") and safe_component("..") not in ("..", ".")
    assert inside(Path("/tmp/out"), "..", "x").parent.parent == Path("/tmp/out")


def test_atomic_write_leaves_no_temp_files(run: RunResult, tmp_path: Path) -> None:
    paths = write_reports(run, tmp_path)
    assert paths.out_dir == tmp_path
    write_reports(run, tmp_path)  # overwriting works too
    assert not list(tmp_path.rglob("*.tmp"))
    assert set(paths.files) | set(paths.kept) == {p for p in tmp_path.rglob("*")
                                                  if p.is_file()}
    assert tmp_path / ".reports.json" in paths.kept  # the stamps the next run reuses


def test_score_table(run: RunResult) -> None:
    table = score_table(run)
    assert not table.endswith("\n")
    lines = table.splitlines()
    assert lines[0].split() == ["student", "activations", "backprop", "total"]
    assert lines[2].split() == ["alice", "32.5", "-", "32.5"]
    assert lines[3].split() == ["bob", "10", "0", "10"]
    assert lines[4].split() == ["carol,", "jr.", "10", "50", "60"]
    assert lines[-1] == "unrecognized: /subs/dave/notes.txt: not a notebook or .py file"


def test_symlinked_student_folder_outside_is_refused(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "mallory").symlink_to(elsewhere, target_is_directory=True)
    run = RunResult(results=(_sub("mallory", "forward", _test("mse", PASSED)),))
    with pytest.raises(GraderError, match="outside the output folder"):
        write_reports(run, out)
    assert not list(elsewhere.iterdir())


def test_long_output_is_truncated(tmp_path: Path) -> None:
    run = RunResult(results=(_sub("a", "forward", _test("mse", PASSED), output="x" * 9000),))
    write_reports(run, tmp_path)
    md = (tmp_path / "a" / "forward" / "feedback.md").read_text(encoding="utf-8")
    assert "x" * 5000 in md and "x" * 5001 not in md
    assert "4000 more characters not shown" in md

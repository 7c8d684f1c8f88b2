"""Feedback that teaches: skipped is neither passed nor failed, failures grouped by function
with one cause line, knock-on failures and syntax-error cells named (hand-built results)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.gradescope_schema import schema_problems

from grader.core.results import FAILED, NOT_ATTEMPTED, PASSED, SKIPPED, RunResult, SubmissionResult
from grader.core.results import TestResult as Result
from grader.report import write_reports
from grader.report.calls import direct_calls, transitive
from grader.report.feedback import student_note
from grader.report.gradescope import results_json

SIGN = "Hint: Your gradient has the opposite sign."
NO_GPU = "needs --device cuda: no GPU on this grading run"


def _t(name: str, status: str, points: float, message: str = "") -> Result:
    return Result(name=name, description=name.removeprefix("test_").replace("__", ": "),
                  status=status, score=points if status == PASSED else 0.0, max_score=points,
                  message=message)


def _sub(student: str, assignment: str, *tests: Result, notes: tuple[str, ...] = ()
         ) -> SubmissionResult:
    return SubmissionResult(student=student, assignment=assignment, tests=tests,
                            path=f"/s/{student}/{assignment}.ipynb", notes=notes)


def _alice() -> SubmissionResult:
    return _sub("alice", "training", _t("test_train_model__losses", PASSED, 100),
                _t("test_train_model__cuda_device", SKIPPED, 0, NO_GPU))


def _bob() -> SubmissionResult:
    wrong = "backward(...): 12 of 12 values are wrong.\n" + SIGN
    return _sub("bob", "backprop", _t("test_forward__values", PASSED, 10),
                _t("test_backward__lecture", FAILED, 30, wrong),
                _t("test_backward__deeper", FAILED, 23, wrong),
                _t("test_train__losses", FAILED, 13, "losses: 5 of 6 values are wrong"),
                _t("test_train__initial", PASSED, 24))


def _write(tmp_path: Path, *results: SubmissionResult) -> Path:
    calls = {"backprop": {"train": ("backward", "forward")}}
    write_reports(RunResult(results=results), tmp_path, calls=calls)
    return tmp_path


def test_a_skipped_test_is_not_what_went_wrong(tmp_path: Path) -> None:
    out = _write(tmp_path, _alice())
    html = (out / "alice" / "training" / "feedback.html").read_text()
    md = (out / "alice" / "training" / "feedback.md").read_text()
    assert "What went wrong" not in html and "What went wrong" not in md
    assert "Not run on this machine" in html and "needs a GPU" in md
    assert "1 of 1 passed, 1 not run" in md


def test_results_json_shows_a_skipped_test_as_neither_passed_nor_failed() -> None:
    document = results_json(_alice())
    skipped = document["tests"][1]
    assert "status" not in skipped and skipped["max_score"] == 0 and skipped["score"] == 0
    assert skipped["output"].startswith("Skipped, not counted")
    assert document["tests"][0]["status"] == "passed"
    failed = results_json(_bob())["tests"][1]
    assert failed["status"] == "failed"


def test_one_cause_line_per_function_with_its_points_and_the_knock_on_named(
        tmp_path: Path) -> None:
    md = (_write(tmp_path, _bob()) / "bob" / "backprop" / "feedback.md").read_text()
    went_wrong = md[md.index("## What went wrong"):md.index("## What works")]
    assert went_wrong.count("### ") == 2  # backward, then train: not one block per test
    assert went_wrong.index("`backward` (-53 of 53 points)") < went_wrong.index("`train`")
    assert went_wrong.count("opposite sign") == 1  # the hint once, as the cause
    assert ("train uses backward, and your backward is wrong: fix backward first"
            in went_wrong)
    assert "`forward`: 1 test passed" in md


def test_not_attempted_is_one_line(tmp_path: Path) -> None:
    stubs = _sub("carol", "backprop", *(
        _t(f"test_backward__case{i}", NOT_ATTEMPTED, 5,
           "Not attempted: this function still raises NotImplementedError.")
        for i in range(8)), *(
        _t(f"test_{f}__values", NOT_ATTEMPTED, 5,
           "Not attempted: this function still raises NotImplementedError.")
        for f in ("forward", "train")))
    md = (_write(tmp_path, stubs) / "carol" / "backprop" / "feedback.md").read_text()
    assert "## What went wrong" not in md
    folded = md[md.index("## Not attempted yet"):md.index("## All tests")]
    assert folded.count("Not attempted yet") == 2  # the heading and its one line
    assert ("Not attempted yet: backward, forward, train (each still raises "
            "NotImplementedError; 50 points).") in folded


def test_a_syntax_error_cell_is_named_by_the_tests_of_what_it_defines(tmp_path: Path) -> None:
    note = ("code cell 6, line 3: syntax error (expected ':'); its code was skipped "
            "(it defines softmax)\n    def softmax(z)\n                  ^")
    dave = _sub("dave", "activations",
                _t("test_softmax__values", FAILED, 15,
                   "Your code raised NameError: softmax is not defined in your notebook"),
                _t("test_relu__values", PASSED, 85), notes=(note,))
    md = (_write(tmp_path, dave) / "dave" / "activations" / "feedback.md").read_text()
    assert ("softmax was never defined: code cell 6 (the one defining softmax), line 3 has a "
            "syntax error (expected ':'). Fix that line.") in md
    assert "    def softmax(z)\n                  ^" in md
    assert "NameError" not in md
    assert "## Notes" not in md  # the note would say the same again


def test_notes_are_in_a_students_words() -> None:
    note = student_note("code cell 2, line 1: syntax error (invalid syntax); its code was "
                        "skipped (it defines f)\n    def f(:\n          ^")
    assert note.text == ("code cell 2 (the one defining f), line 1: syntax error (invalid "
                         "syntax); that code could not be graded.")
    assert note.quote == "    def f(:\n          ^"
    assert student_note("something else").text == "something else"


def test_dependencies_come_from_the_reference_call_graph() -> None:
    source = ("def forward(x):\n    return x\n\ndef backward(x):\n    return x\n\n"
              "def step(x):\n    return backward(forward(x))\n\n"
              "def train(x):\n    return step(x)\n")
    direct = direct_calls(source, ["forward", "backward", "step", "train"])
    assert transitive(direct)["train"] == ("backward", "forward", "step")
    assert transitive(direct)["forward"] == ()


def test_results_json_with_a_skipped_test_follows_the_schema(tmp_path: Path) -> None:
    out = _write(tmp_path, _alice())
    text = (out / "alice" / "training" / "results.json").read_text()
    # (the top-level max_score of grade run's results.json predates this: tests only here)
    assert [p for p in schema_problems(text) if p.startswith("tests")] == []
    assert "status" not in json.loads(text)["tests"][1]

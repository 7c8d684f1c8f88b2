"""Visibility per test (issue 29): public tests at once, hidden tests' details after the due
date, set per course and per test, on every path; the score so far and what is held."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from grader.core.errors import CourseError
from grader.core.results import FAILED, PASSED, RunResult, SubmissionResult, TestResult
from grader.core.visibility import Visibility, read_visibility, split
from grader.integrations.gradescope.config import AutograderConfig
from grader.integrations.gradescope.results import Upload, results_document
from grader.report import write_reports

HINT = "sigmoid(x) = 1 / (1 + exp(-x)); check the sign in the exponent."
PUBLIC = Visibility("after_due_date", (("test_*__values", "visible"),),
                    {"activations": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)})


def _course(root: Path, course: str, due: str | None = None) -> Path:
    (root / "assignments" / "activations").mkdir(parents=True)
    (root / "course.toml").write_text(course)
    meta = 'title = "A"\nfunctions = ["sigmoid"]\n' + (f"due = {due}\n" if due else "")
    (root / "assignments" / "activations" / "assignment.toml").write_text(meta)
    return root


def test_course_toml_sets_the_default_and_per_test_rules(tmp_path: Path) -> None:
    root = _course(tmp_path, '[visibility]\ndefault = "after_due_date"\n'
                   '[visibility.tests]\n"activations/test_sigmoid__values" = "visible"\n'
                   '"test_*__large*" = "hidden"\n', "2030-01-01T12:00:00Z")
    rule = read_visibility(root, ["activations"])
    assert rule.of("activations", "test_sigmoid__values") == "visible"
    assert rule.of("activations", "test_sigmoid__large_inputs") == "hidden"
    assert rule.of("activations", "test_relu__values") == "after_due_date"
    due = dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)
    assert rule.due == {"activations": due}
    assert not rule.shown("activations", "test_relu__values", due - dt.timedelta(seconds=1))
    assert rule.shown("activations", "test_relu__values", due)
    assert not rule.shown("activations", "test_sigmoid__large_inputs", due)  # never


def test_without_a_visibility_table_every_test_is_visible(tmp_path: Path) -> None:
    rule = read_visibility(_course(tmp_path, 'name = "x"\n'), ["activations"])
    assert not rule.configured and rule.of("activations", "test_x") == "visible"


def test_a_bad_value_is_a_one_line_error_naming_the_file(tmp_path: Path) -> None:
    root = _course(tmp_path, '[visibility]\ndefault = "soon"\n')
    with pytest.raises(CourseError, match=r"course\.toml: \[visibility\] default: 'soon' is "
                                          r"not one of"):
        read_visibility(root)


def _bob() -> SubmissionResult:
    tests = (TestResult("test_sigmoid__values", "sigmoid: values", FAILED, 0, 4,
                        f"sigmoid(x): 10 of 10 values are wrong\nHint: {HINT}"),
             TestResult("test_relu__values", "relu: values", PASSED, 4, 4),
             TestResult("test_sigmoid__large_inputs", "sigmoid: large inputs", FAILED, 0, 4,
                        f"sigmoid(x): 3 of 12 values are wrong\nHint: {HINT}"),
             TestResult("test_relu__input_not_modified", "relu: input unchanged", PASSED, 3, 3))
    return SubmissionResult("bob", "activations", "/s/bob/activations.ipynb", tests)


def test_held_tests_are_counted_not_shown_in_the_feedback_page(tmp_path: Path) -> None:
    paths = write_reports(RunResult((_bob(),)), tmp_path, visibility=PUBLIC)
    md = paths.submissions[0].feedback_md.read_text()
    assert "**Score so far:** 4 / 8 (the tests shown now)" in md
    assert ("Still hidden: 2 tests worth 7 points, shown after the due date (2030-01-01 00:00 "
            "UTC).") in md
    assert f"**{HINT}**" in md.replace("\\", "")  # the cause line of a shown test
    assert "large inputs" not in md and "input unchanged" not in md
    document = json.loads(paths.submissions[0].results_json.read_text())
    by_id = {t["extra_data"]["id"]: t for t in document["tests"]}
    assert by_id["test_sigmoid__values"]["visibility"] == "visible"
    assert by_id["test_sigmoid__values"]["output"].startswith(HINT)
    assert by_id["test_sigmoid__large_inputs"]["visibility"] == "after_due_date"
    assert "Still hidden: 2 tests worth 7 points" in document["output"].replace("\\", "")
    # after the due date the page shows everything and the whole score
    later = split(_bob().tests, "activations", PUBLIC, dt.datetime(2030, 1, 2, tzinfo=dt.UTC))
    assert not later.held and len(later.tests) == 4


def test_gradescope_shows_public_tests_at_once_and_the_score_so_far() -> None:
    config = AutograderConfig(assignments=("activations",), grader_version="0.1.0")
    upload = Upload("bob", RunResult((_bob(),)))
    document = results_document(upload, {"activations": "Act"}, config, PUBLIC)
    by_name = {t["name"]: t for t in document["tests"]}
    values = by_name["Act: sigmoid: values"]
    assert values["visibility"] == "visible" and values["output"].startswith("**")
    assert HINT in values["output"].replace("\\", "")
    assert by_name["Act: sigmoid: large inputs"]["visibility"] == "after_due_date"
    notebook = by_name["Act: your notebook"]
    assert notebook["visibility"] == "visible"
    text = notebook["output"].replace("\\", "")
    assert "Your score so far: 4 of 8 points (the tests shown now)." in text
    assert "Still hidden: 2 tests worth 7 points" in text
    assert "Your score so far: 4 of 8 points" in document["output"].replace("\\", "")
    # without the course's rules, the build's --test-visibility holds every test back
    plain = results_document(upload, {"activations": "Act"}, config)
    assert {t["visibility"] for t in plain["tests"][1:]} == {"after_due_date"}

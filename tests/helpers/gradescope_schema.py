"""The fields of Gradescope's results.json, as its autograder specification documents them.

Source: Gradescope's "Autograder Specifications" page (gradescope-autograders.readthedocs.io,
"Output format", "Controlling Test Case Visibility", "Test case status", "Output String
Formatting"). Only the documented keys are accepted, with the documented values.
"""

from __future__ import annotations

import json
import math
from typing import Any

TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format",
             "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
             "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output",
             "output_format", "tags", "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "simple_format", "html", "md", "ansi"}
STATUS = {"passed", "failed"}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def _check_common(where: str, entry: dict[str, Any], problems: list[str]) -> None:
    for key in ("output_format", "test_output_format", "test_name_format", "name_format"):
        if key in entry and entry[key] not in FORMATS:
            problems.append(f"{where}.{key}: {entry[key]!r} is not a documented format")
    for key in ("visibility", "stdout_visibility"):
        if key in entry and entry[key] not in VISIBILITY:
            problems.append(f"{where}.{key}: {entry[key]!r} is not a documented visibility")
    if "extra_data" in entry and not isinstance(entry["extra_data"], dict):
        problems.append(f"{where}.extra_data: not an object")
    for key in ("score", "max_score", "execution_time"):
        if key in entry and not _number(entry[key]):
            problems.append(f"{where}.{key}: {entry[key]!r} is not a number")
    for key in ("output", "name", "number"):
        if key in entry and not isinstance(entry[key], str):
            problems.append(f"{where}.{key}: not a string")


def _check_test(index: int, test: Any, problems: list[str]) -> None:
    where = f"tests[{index}]"
    if not isinstance(test, dict):
        problems.append(f"{where}: not an object")
        return
    problems.extend(f"{where}: undocumented key {key!r}" for key in sorted(set(test) - TEST_KEYS))
    _check_common(where, test, problems)
    if "status" in test and test["status"] not in STATUS:
        problems.append(f"{where}.status: {test['status']!r} is not passed/failed")
    if "tags" in test and not (isinstance(test["tags"], list)
                               and all(isinstance(t, str) for t in test["tags"])):
        problems.append(f"{where}.tags: not a list of strings")
    if _number(test.get("score")) and _number(test.get("max_score")) \
            and not 0 <= test["score"] <= test["max_score"]:
        problems.append(f"{where}: score {test['score']} outside 0..{test['max_score']}")


def schema_problems(text: str) -> list[str]:
    """What in a results.json (its text) breaks Gradescope's documented format."""
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        document = json.loads(text, parse_constant=no_constants)
    except ValueError as exc:
        return [f"not valid JSON: {exc}"]
    if not isinstance(document, dict):
        return ["not a JSON object"]
    problems = [f"undocumented top-level key {key!r}" for key in sorted(set(document)
                                                                        - TOP_LEVEL)]
    _check_common("results", document, problems)
    tests = document.get("tests", [])
    if not isinstance(tests, list):
        return [*problems, "tests: not a list"]
    for index, test in enumerate(tests):
        _check_test(index, test, problems)
    scored = all(isinstance(t, dict) and "score" in t for t in tests) and tests
    if "score" not in document and not scored:
        problems.append("no top-level score and not every test has one")
    return problems

"""Every verb with ``--assignment`` rejects an unknown id the same way, before doing anything:
one line, exit 2, the known ids listed (``Course.select`` is the one check)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.main import main
from grader.core.course import load_course
from grader.core.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
KNOWN = ", ".join(a.id for a in load_course(ROOT).assignments)


def verbs(tmp: Path) -> dict[str, list[str]]:
    submissions = tmp / "submissions"
    (submissions / "alice").mkdir(parents=True)
    notebook = submissions / "alice" / "forward.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    return {
        "run": ["run", str(submissions), "--out", str(tmp / "out")],
        "ci": ["ci", str(submissions / "alice"), "--out", str(tmp / "ci-out")],
        "release": ["release", str(tmp / "release")],
        "validate": ["validate"],
        "gradescope": ["gradescope", str(tmp / "autograder.zip")],
        "similarity": ["similarity", str(submissions), "--out", str(tmp / "sim")],
        "classroom50 build": ["classroom50", "build", str(tmp / "c50")],
        "classroom50 grade": ["classroom50", "grade", str(submissions / "alice"),
                              "--out", str(tmp / "c50-out")],
    }


@pytest.mark.parametrize("verb", ["run", "ci", "release", "validate", "gradescope", "similarity",
                                  "classroom50 build", "classroom50 grade"])
def test_unknown_assignment_is_one_line_for_every_verb(tmp_path: Path, verb: str) -> None:
    argv = [*verbs(tmp_path)[verb], "--assignment", "nosuch", "--course", str(ROOT)]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"grade: error: --assignment: unknown 'nosuch' (known: {KNOWN})"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["submissions"]  # nothing written


def test_select_keeps_course_order_and_all_by_default() -> None:
    course = load_course(ROOT)
    ids = [a.id for a in course.assignments]
    assert [a.id for a in course.select()] == ids
    assert [a.id for a in course.select([ids[-1], ids[0]])] == [ids[0], ids[-1]]
    with pytest.raises(ConfigError, match="'x', 'y'"):
        course.select([ids[0], "x", "y", "x"])

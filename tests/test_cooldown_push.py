"""The practice cooldown on push grading (issue 28): `grade ci --practice-history FILE`.

The history is the grading runner's own records (its artifacts ``score-<student>-<sha>-<n>``
with GitHub's ``created_at``), never a date the student sets: a commit dated long ago does not
buy a grading. Over a fixed clock with a fake history; the end-to-end test grades through the
CLI as the workflow's `grade` step does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.course_copy import activations_course
from helpers.github_outputs import github_outputs

from grader.core.course import DEFAULT_ROOT
from grader.core.errors import ConfigError
from grader.core.grade_record import Deadlines
from grader.integrations.practice import practice_gate, read_history

NOW = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)
DUE = dt.datetime.fromisoformat("2026-10-05T23:59:00+02:00")
SHA = "0123456789abcdef0123456789abcdef01234567"
PRACTICE = "[practice]\ncooldown_minutes = 60\nburst = 2\n"


def record(student: str, minutes_ago: float, sha: str = SHA, attempt: int = 1) -> str:
    stamp = (NOW - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"name": f"score-{student}-{sha}-{attempt}", "created_at": stamp})


def history(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "practice-history.jsonl"
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def course(tmp_path: Path, toml: str = PRACTICE) -> Path:
    root = tmp_path / "course"
    root.mkdir(exist_ok=True)
    (root / "course.toml").write_text(toml)
    return root


def gate(tmp_path: Path, path: Path | None, due: dt.datetime | None = DUE, toml: str = PRACTICE):
    deadlines = Deadlines(dues={"activations": due} if due else {})
    return practice_gate(path, course(tmp_path, toml), deadlines, "alice", ["activations"], NOW)


def test_only_the_students_own_records_count(tmp_path: Path) -> None:
    path = history(tmp_path, record("alice", 10), record("Alice", 5, attempt=2),
                   record("alice-b", 1), record("bob", 2),
                   json.dumps({"name": "feedback-alice-" + SHA + "-1",
                               "created_at": "2026-10-01T11:59:00Z"}),
                   json.dumps({"name": "score-alice-notasha-1",
                               "created_at": "2026-10-01T11:59:00Z"}))
    assert read_history(path, "alice") == [NOW - dt.timedelta(minutes=10),
                                            NOW - dt.timedelta(minutes=5)]
    assert read_history(path, "alice-b") == [NOW - dt.timedelta(minutes=1)]


def test_two_recent_gradings_use_the_bucket_and_the_next_is_refused(tmp_path: Path) -> None:
    said = gate(tmp_path, history(tmp_path, record("alice", 20), record("alice", 10)))
    assert not said.allowed
    assert said.line == ("graded too soon: the next grading is allowed at 2026-10-01 14:40 "
                         "+02:00 (due 2026-10-05 23:59 +02:00, 4 days 9 h from now; one "
                         "practice grading every 60 min, up to 2 in a row)")


def test_an_old_grading_leaves_the_bucket_full(tmp_path: Path) -> None:
    said = gate(tmp_path, history(tmp_path, record("alice", 600), record("bob", 1),
                                  record("bob", 2)))
    assert said.allowed and said.line.startswith("practice grading: 1 more available now")


def test_no_cooldown_without_practice_history_or_after_the_due_date(tmp_path: Path) -> None:
    busy = history(tmp_path, record("alice", 2), record("alice", 1))
    assert gate(tmp_path, busy, toml="").allowed and gate(tmp_path, busy, toml="").line == ""
    assert gate(tmp_path, None).line == ""
    past = gate(tmp_path, busy, due=NOW - dt.timedelta(hours=1))
    assert past.allowed and past.line == ""  # from the due date on, every grading counts


def test_a_bad_history_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    for text, message in (("{not json\n", r"line 1: not a JSON object"),
                          (record("alice", 1) + '\n"x"\n', r"line 2: expected an object"),
                          ('{"name": "score-alice-' + SHA + '-1", "created_at": "soon"}\n',
                           r"line 1: created_at: 'soon' is not an ISO 8601")):
        path = tmp_path / "h.jsonl"
        path.write_text(text)
        with pytest.raises(ConfigError, match=message) as caught:
            read_history(path, "alice")
        assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_a_json_array_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    path.write_text("[" + record("alice", 3) + "]")
    assert read_history(path, "alice") == [NOW - dt.timedelta(minutes=3)]


# -- end to end: `grade ci` as the workflow's grade step runs it -----------------------------


@pytest.fixture(scope="module")
def ci_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return activations_course(tmp_path_factory.mktemp("course"), DUE.isoformat(), PRACTICE)


def grade_ci(ci_course: Path, tmp_path: Path, *lines: str) -> tuple[subprocess.CompletedProcess,
                                                                   Path, dict[str, str]]:
    checkout = tmp_path / "submission"
    checkout.mkdir(parents=True)
    shutil.copy(DEFAULT_ROOT / "solutions" / "activations.ipynb", checkout)
    output = tmp_path / "github-output.txt"
    output.write_text("")
    env = {**os.environ, "GITHUB_OUTPUT": str(output),
           "GRADER_SUBMITTED_AT": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}
    done = subprocess.run([sys.executable, "-m", "grader.cli", "ci", str(checkout), "--course",
                           str(ci_course), "--student", "alice", "--out", str(tmp_path / "report"),
                           "--practice-history", str(history(tmp_path, *lines))],
                          capture_output=True, text=True, timeout=600, env=env)
    return done, tmp_path / "report", github_outputs(output)


@pytest.mark.slow  # grades a notebook through the CLI, twice
def test_grade_ci_refuses_a_grading_too_soon_and_records_no_score(ci_course: Path,
                                                                   tmp_path: Path) -> None:
    # a commit the student dated a year ago changes nothing: the runner's records decide
    done, report, outputs = grade_ci(ci_course, tmp_path / "soon", record("alice", 20),
                                     record("alice", 10))
    assert done.returncode == 0, done.stderr
    assert "Not graded: graded too soon: the next grading is allowed at 2026-10-01 14:40" \
        in done.stdout
    assert "Points" not in done.stdout and "points" not in outputs
    assert outputs["practice"].startswith("graded too soon")
    assert not list(report.rglob("results.json"))  # nothing for `grade collect` to count
    assert (report / "ci-summary.md").read_text().startswith("# Not graded\n\nGraded too soon")
    done, report, outputs = grade_ci(ci_course, tmp_path / "later", record("alice", 600))
    assert done.returncode == 0, done.stderr
    assert outputs["points"] == "100/100" and "Points 100/100" in done.stdout
    assert "practice grading: 1 more available now" in done.stdout
    summary = (report / "ci-summary.md").read_text()
    assert summary.startswith("**Practice grading: 1 more available now")
    assert (report / "alice" / "activations" / "results.json").is_file()

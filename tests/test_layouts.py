"""`grade SOURCE` for every layout the LMSs give: the demo class as a Canvas download, a Moodle
download, a Gradescope export and git checkouts (folders and zips) is found, mapped to the
roster and graded exactly as the same class in per-student folders."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.lms_layouts import (
    CLASS,
    LATE,
    canvas_download,
    contract_roster,
    git_checkouts,
    gradescope_export,
    moodle_download,
    per_student,
    zipped,
)

from grader.cli.main import main
from grader.commands.grade import RunRequest, run
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.roster import read_roster
from grader.core.settings import Settings
from grader.run.discover import Discovery, discover_view
from grader.run.identities import map_to_roster
from grader.run.layouts import open_source

COURSE = load_course(DEFAULT_ROOT)
BUILDERS = {"canvas": canvas_download, "moodle": moodle_download,
            "gradescope": gradescope_export, "git": git_checkouts, "per-student": per_student}
LMS_IDS = {"canvas": {p.login: str(p.canvas_id) for p in CLASS},
           "moodle": {p.login: str(p.moodle_id) for p in CLASS},
           "gradescope": {p.login: p.sis_id for p in CLASS},
           "git": {p.login: p.login for p in CLASS}}


def _source(tmp_path: Path, layout: str, as_zip: bool, **kw: tuple[str, ...]) -> Path:
    folder = BUILDERS[layout](tmp_path / layout, **kw)
    if not as_zip:
        return folder
    # Gradescope's export zip wraps everything in one folder; Canvas's and Moodle's do not
    return zipped(folder, tmp_path / f"{layout}.zip",
                  wrap="assignment_4242_export" if layout == "gradescope" else "")


Digest = dict[tuple[str, str], str]


def _found(source: Path, roster: Path, layout: str | None = None
           ) -> tuple[str, Discovery, Digest]:
    with open_source(source, layout) as view:
        found = discover_view(view, COURSE.assignments)
        mapped = map_to_roster(found, read_roster(roster))
        # file contents are read while the zip's staging folder exists
        digest = {(s.student, s.assignment): hashlib.sha256(s.path.read_bytes()).hexdigest()
                  for s in mapped.submissions}
        return view.layout, mapped, digest


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Discovery, Digest]:
    tmp = tmp_path_factory.mktemp("baseline")
    _, found, digest = _found(per_student(tmp / "class"), contract_roster(tmp / "roster.csv"))
    return found, digest


# a zip never carries .git (hidden entries are left out): git checkouts are a folder
@pytest.mark.parametrize(("layout", "as_zip"), [
    ("canvas", False), ("canvas", True), ("moodle", False), ("moodle", True),
    ("gradescope", False), ("gradescope", True), ("git", False), ("per-student", False),
    ("per-student", True)])
def test_each_layout_is_detected_and_finds_what_per_student_folders_hold(
        tmp_path: Path, baseline: tuple[Discovery, Digest], layout: str, as_zip: bool) -> None:
    detected, found, digest = _found(_source(tmp_path, layout, as_zip),
                                     contract_roster(tmp_path / "roster.csv"))
    assert detected == layout
    assert found.students == baseline[0].students  # every student mapped to the roster's id
    assert digest == baseline[1]  # the same bytes for each (student, assignment)
    baseline = baseline[0]
    assert [(s.student, s.assignment, s.matched_by) for s in found.submissions] == \
        [(s.student, s.assignment, s.matched_by) for s in baseline.submissions]
    assert len(found.unrecognized) == 1 and found.unrecognized[0].reason.startswith(
        "not a notebook")  # frank's notes.pdf
    if layout != "per-student":
        assert {i.student: i.lms_id for i in found.identities} == LMS_IDS[layout]
        assert {s.lms_id for s in found.submissions if s.student == "alice"} == \
            {LMS_IDS[layout]["alice"]}


def test_canvas_late_marker_and_gradescope_times_travel_with_each_submission(
        tmp_path: Path) -> None:
    roster = contract_roster(tmp_path / "roster.csv")
    _, canvas, _ = _found(_source(tmp_path, "canvas", True), roster)
    assert {s.student for s in canvas.submissions if s.late} == LATE
    assert all(s.late is False for s in canvas.submissions if s.student not in LATE)
    assert {s.name for s in canvas.submissions if s.student == "alice"} == {
        "activations.ipynb", "forward.ipynb", "backprop.ipynb", "training.ipynb"}
    _, export, _ = _found(_source(tmp_path, "gradescope", False), roster)
    assert {s.submitted_at for s in export.submissions if s.student == "alice"} == {
        "2026-11-01T10:15:00+01:00"}
    assert all(s.late is None for s in export.submissions)


def test_without_a_roster_the_layout_ids_are_the_students(tmp_path: Path) -> None:
    with open_source(_source(tmp_path, "canvas", False)) as view:
        found = discover_view(view, COURSE.assignments)
    assert found.students == tuple(str(p.canvas_id) for p in CLASS)
    assert found.identities[0].name == "andersonalice"


SCORED = ("alice", "bob", "dave")  # 100, a realistic bug, a syntax error: three scores


def _scores(source: Path, out: Path, roster: Path, layout: str | None = None
            ) -> tuple[dict[tuple[str, str], float], list[str]]:
    settings = Settings(course_root=DEFAULT_ROOT, secret="layouts-test", jobs=1)
    lines: list[str] = []
    request = RunRequest(submissions_dir=source, out_dir=out, roster=roster, layout=layout)
    result = run(request, COURSE, settings, echo=lines.append)
    return {(r.student, r.assignment): r.score for r in result.results}, lines


@pytest.fixture(scope="module")
def per_student_scores(tmp_path_factory: pytest.TempPathFactory
                       ) -> dict[tuple[str, str], float]:
    tmp = tmp_path_factory.mktemp("scores")
    source = per_student(tmp / "class", only=("activations",), who=SCORED)
    scores, lines = _scores(source, tmp / "out", contract_roster(tmp / "roster.csv"))
    assert lines[0].startswith("Layout: per-student")
    return scores


@pytest.mark.parametrize(("layout", "as_zip"), [("canvas", True), ("moodle", True),
                                                ("gradescope", True), ("git", False)])
def test_each_layout_grades_the_same_as_per_student_folders(
        tmp_path: Path, per_student_scores: dict[tuple[str, str], float], layout: str,
        as_zip: bool) -> None:
    source = _source(tmp_path, layout, as_zip, only=("activations",), who=SCORED)
    scores, lines = _scores(source, tmp_path / "out", contract_roster(tmp_path / "r.csv"))
    assert lines[0].startswith(f"Layout: {layout}: ")  # the run's first line names it
    assert scores == per_student_scores
    assert len({s for s in scores.values()}) == 3  # three different scores were compared
    with (tmp_path / "out" / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    # both ids in the gradebook: the roster's student and the download's id
    assert rows["alice"]["source_id"] == LMS_IDS[layout]["alice"]
    assert rows["alice"]["lms_id"] == "1001"  # the roster's own LMS id stays


def test_cli_grades_a_canvas_zip_with_both_ids_and_names_it(tmp_path: Path) -> None:
    source = _source(tmp_path, "canvas", True, only=("activations",), who=("alice",))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [str(source), "--out", str(out), "-j", "1",
                                       "--course", str(DEFAULT_ROOT)])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("Layout: canvas: ") and "canvas.zip" in first
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["student"], row["score"]) == ("1001", "100")  # no roster: Canvas's user id
    assert row["file"] == "canvas.zip/andersonalice_1001_77000_activations.ipynb"
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        (book,) = csv.DictReader(handle)
    assert (book["student"], book["name"], book["lms_id"], book["source_id"]) == (
        "1001", "andersonalice", "1001", "1001")
    again = CliRunner().invoke(main, [str(source), "--out", str(out), "-j", "1",
                                      "--course", str(DEFAULT_ROOT)])
    assert again.exit_code == 0, again.output  # unpacked anew, the same files: resumed
    assert "notebooks graded 0, reused 1 from cache" in again.output


def test_layout_can_be_forced(tmp_path: Path) -> None:
    source = _source(tmp_path, "moodle", False, only=("activations",), who=("alice",))
    with open_source(source, "per-student") as view:
        assert view.layout == "per-student"
        assert view.students[0].student == "Alice Anderson_5301_assignsubmission_file_"

"""--roster takes the LMS's own exports as they come: a Canvas gradebook export, a Moodle
participants export and a plain CSV, told apart by their header, with Canvas's Points Possible
row and test student (and Moodle's teachers) left out, and says which it read."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from helpers.lms_layouts import (
    CLASS,
    canvas_download,
    canvas_gradebook_export,
    moodle_download,
    moodle_participants,
)

from grader.cli.main import main
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.roster import CANVAS, MOODLE, PLAIN, RosterEntry, read_roster_file
from grader.run.discover import discover_view
from grader.run.identities import map_to_roster
from grader.run.layouts import open_source

COURSE = load_course(DEFAULT_ROOT)


def test_a_canvas_gradebook_export_is_read_as_it_comes(tmp_path: Path) -> None:
    roster = read_roster_file(canvas_gradebook_export(tmp_path / "export.csv"))
    assert roster.kind == CANVAS
    assert [e.student for e in roster.entries] == [p.login for p in CLASS]  # no Points Possible
    assert roster.entries[0] == RosterEntry(
        student="alice", name="Anderson, Alice", lms_id="1001", sis_id="S-01",
        username="alice", section="NN 101 A")
    assert roster.skipped == ("line 2: the Points Possible row",
                              "line 9: Canvas's test student (Student, Test)")
    assert "Activations (4242)" in roster.columns


def test_a_moodle_participants_export_is_read_as_it_comes(tmp_path: Path) -> None:
    roster = read_roster_file(moodle_participants(tmp_path / "participants.csv"))
    assert roster.kind == MOODLE
    assert len(roster.entries) == len(CLASS)
    assert roster.entries[1] == RosterEntry(student="S-02", name="Bob Brown",
                                            email="bob@uni.example", sis_id="S-02")
    assert roster.skipped == ("line 8: Tess Teacher is not a student (Teacher)",)


def test_a_plain_csv_is_still_the_contract_roster_whatever_its_separator(
        tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("student;name;email;lms_id\nalice;Alice;a@x;1001\n", encoding="utf-8")
    roster = read_roster_file(path)
    assert roster.kind == PLAIN
    assert roster.entries == (RosterEntry("alice", "Alice", "a@x", "1001"),)


def test_each_export_maps_its_own_download_to_the_roster(tmp_path: Path) -> None:
    pairs = [(canvas_download(tmp_path / "canvas", only=("activations",)),
              canvas_gradebook_export(tmp_path / "export.csv"), [p.login for p in CLASS]),
             (moodle_download(tmp_path / "moodle", only=("activations",)),
              moodle_participants(tmp_path / "participants.csv"), [p.sis_id for p in CLASS])]
    for source, export, students in pairs:
        with open_source(source) as view:
            found = discover_view(view, COURSE.assignments)
        mapped = map_to_roster(found, read_roster_file(export).entries)
        assert list(mapped.students) == students
        assert {s.student for s in mapped.submissions} == set(students)


def test_the_run_says_which_roster_it_read(tmp_path: Path) -> None:
    source = canvas_download(tmp_path / "canvas", only=("activations",), who=("alice",))
    export = canvas_gradebook_export(tmp_path / "export.csv")
    result = CliRunner().invoke(main, [str(source), "--out", str(tmp_path / "out"), "-j", "1",
                                       "--roster", str(export), "--course", str(DEFAULT_ROOT),
                                       "--gradebook-format", "canvas"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Layout: canvas")
    assert ("roster: read export.csv as a Canvas gradebook export: 6 students; skipped "
            "line 2: the Points Possible row; line 9: Canvas's test student (Student, Test)"
            ) in lines
    missing = next(line for line in lines if "with no folder" in line)
    assert "Points Possible" not in missing and "bob" in missing and "alice" not in missing
    book = tmp_path / "out" / "gradebook-canvas.csv"
    assert f"gradebook for canvas: {book}" in lines
    header, possible, first = book.read_text(encoding="utf-8").splitlines()[:3]
    assert header == "Student,ID,SIS User ID,SIS Login ID,Section,Activations (4242)"
    assert possible == "    Points Possible,,,,,100"
    assert first == '"Anderson, Alice",1001,S-01,alice,NN 101 A,100'

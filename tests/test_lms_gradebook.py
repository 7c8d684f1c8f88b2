"""--gradebook-format canvas|moodle|blackboard: a gradebook each LMS imports as it is. The
Canvas one has the header and Points Possible row of Canvas's own export format
(lib/gradebook_exporter.rb), and reads back as a Canvas gradebook export."""

from __future__ import annotations

import csv
from pathlib import Path

from helpers.lms_layouts import CLASS, canvas_gradebook_export, moodle_participants

from grader.core.results import PASSED, RunResult, StudentInfo, SubmissionResult
from grader.core.results import TestResult as Result
from grader.core.roster import CANVAS, read_roster_file
from grader.report import write_reports

TITLES = {"activations": "Activation functions and their derivatives",
          "forward": "Forward propagation and loss functions"}


def _sub(student: str, assignment: str, score: float, **kw: object) -> SubmissionResult:
    test = Result(name="test_f__x", description="f: x", status=PASSED, score=score,
                  max_score=score)
    return SubmissionResult(student=student, assignment=assignment,  # type: ignore[arg-type]
                            path=f"/s/{assignment}.ipynb", tests=(test,), **kw)


def _run() -> RunResult:
    return RunResult(results=(
        _sub("alice", "activations", 100), _sub("alice", "forward", 80),
        _sub("bob", "activations", 96), _sub("bob", "forward", 10, grader_error=True)))


def _rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def test_canvas_gradebook_has_canvas_export_header_and_points_possible_row(
        tmp_path: Path) -> None:
    roster = read_roster_file(canvas_gradebook_export(tmp_path / "export.csv"))
    paths = write_reports(_run(), tmp_path / "out", titles=TITLES, roster=roster.entries,
                          gradebook_format="canvas", lms_columns=roster.columns)
    assert paths.lms_gradebook == tmp_path / "out" / "gradebook-canvas.csv"
    rows = _rows(paths.lms_gradebook)
    # Canvas's export: Student, ID, SIS User ID, SIS Login ID, Section, then `Name (id)`
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Activations (4242)", "Forward (4243)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "100", "100"]
    by_id = {row[1]: row for row in rows[2:]}
    assert by_id["1001"] == ["Anderson, Alice", "1001", "S-01", "alice", "NN 101 A", "100",
                             "80"]
    assert by_id["1002"][5:] == ["96", ""]  # the grader failed: left empty, never a 0
    assert by_id["1003"][5:] == ["0", "0"]  # on the roster, nothing handed in
    assert len(rows) == 2 + len(CLASS)  # no test student, no total column
    assert paths.lms_notes == ()
    again = read_roster_file(paths.lms_gradebook)  # what Canvas exports, Canvas imports
    assert again.kind == CANVAS and again.entries == roster.entries


def test_canvas_gradebook_without_canvas_ids_says_what_the_import_will_do(
        tmp_path: Path) -> None:
    run = RunResult(results=_run().results, students=(
        StudentInfo("alice", lms_id="1001", name="andersonalice"),
        StudentInfo("bob", lms_id="1002", name="brownbob")))
    paths = write_reports(run, tmp_path, titles=TITLES, gradebook_format="canvas")
    assert paths.lms_gradebook is not None
    rows = _rows(paths.lms_gradebook)
    assert rows[0][5:] == [TITLES["activations"], TITLES["forward"]]
    assert [row[1] for row in rows[2:]] == ["1001", "1002"]  # the download's Canvas ids
    assert any("creates a new assignment" in note for note in paths.lms_notes)


def test_moodle_gradebook_keeps_the_identity_columns_exactly(tmp_path: Path) -> None:
    export = moodle_participants(tmp_path / "participants.csv")
    text = export.read_text(encoding="utf-8-sig").replace("alice@uni.example",
                                                          "Alice.Anderson@Uni.example")
    export.write_text(text, encoding="utf-8")
    roster = read_roster_file(export)
    results = tuple(_sub(s, a, score) for s, a, score in
                    (("S-01", "activations", 100), ("S-02", "activations", 50)))
    paths = write_reports(RunResult(results=results), tmp_path / "out", titles=TITLES,
                          roster=roster.entries, gradebook_format="moodle")
    assert paths.lms_gradebook is not None
    rows = _rows(paths.lms_gradebook)
    assert rows[0] == ["Full name", "Username", "ID number", "Email address",
                       TITLES["activations"]]
    # Moodle matches e-mail case-sensitively (MDL-29315): written exactly as the roster has it
    assert rows[1] == ["Alice Anderson", "", "S-01", "Alice.Anderson@Uni.example", "100"]
    assert not any("total" in cell.lower() or "feedback" in cell.lower() for cell in rows[0])


def test_blackboard_gradebook_is_tab_delimited_quoted_with_column_ids(tmp_path: Path) -> None:
    export = tmp_path / "gc.csv"
    export.write_text('"Last Name","First Name","Username","Student ID","Last Access",'
                      '"Availability","Activations [Total Pts: 100 Score] |88123"\n'
                      '"Anderson","Alice","alice","S-01","","Available",""\n'
                      '"Brown","Bob","bob","S-02","","Available",""\n', encoding="utf-8")
    roster = read_roster_file(export)
    paths = write_reports(_run(), tmp_path / "out", titles=TITLES, roster=roster.entries,
                          gradebook_format="blackboard", lms_columns=roster.columns)
    assert paths.lms_gradebook is not None and paths.lms_gradebook.suffix == ".txt"
    text = paths.lms_gradebook.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ('"Username"\t"Activations [Total Pts: 100 Score] |88123"'
                                    f'\t"{TITLES["forward"]}"')
    assert '"alice"\t"100"\t"80"' in text.splitlines()
    assert any("no Column ID for forward" in note for note in paths.lms_notes)


def test_plain_stays_the_default_and_writes_no_lms_file(tmp_path: Path) -> None:
    paths = write_reports(_run(), tmp_path)
    assert paths.lms_gradebook is None
    assert not list(tmp_path.glob("gradebook-*"))

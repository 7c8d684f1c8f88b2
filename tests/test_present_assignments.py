"""A run grades the assignments present in SOURCE (or --assignment, or --all): a folder of one
week's notebooks has no "missing" rows for the other assignments. A student who handed in the
right assignment in the wrong format (PDF, HTML export, a zip of the notebook) gets feedback that
names the file and says what to hand in."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest
from helpers.lms_layouts import DEMO, canvas_download

from grader.commands.grade import RunRequest, run
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import RunResult
from grader.core.settings import Settings
from grader.run.discover import discover_view
from grader.run.layouts import open_source

COURSE = load_course(DEFAULT_ROOT)
OTHERS = ("activations", "backprop", "training")


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """forward's week: two notebooks, a PDF, an HTML export, a zipped notebook, an empty folder."""
    root = tmp_path_factory.mktemp("week") / "forward-week"
    for student in ("alice", "bob", "carol", "dave", "erin"):
        (root / student).mkdir(parents=True)
    shutil.copyfile(DEMO / "alice" / "forward.ipynb", root / "alice" / "forward.ipynb")
    shutil.copyfile(DEMO / "bob" / "forward_final.ipynb", root / "bob" / "forward_final.ipynb")
    (root / "carol" / "forward.pdf").write_bytes(b"%PDF-1.4 printed notebook\n")
    (root / "dave" / "Forward.html").write_text("<html>exported</html>", encoding="utf-8")
    with zipfile.ZipFile(root / "erin" / "forward (1).zip", "w") as archive:
        archive.write(DEMO / "erin" / "Forward (1).ipynb", "Forward (1).ipynb")
    return root


def _grade(source: Path, out: Path, **kw: object) -> tuple[RunResult, list[str]]:
    settings = Settings(course_root=DEFAULT_ROOT, secret="week-test", jobs=1)
    lines: list[str] = []
    request = RunRequest(submissions_dir=source, out_dir=out, **kw)  # type: ignore[arg-type]
    return run(request, COURSE, settings, echo=lines.append), lines


@pytest.fixture(scope="module")
def graded(week: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[RunResult, list[str], Path]:
    out = tmp_path_factory.mktemp("out")
    result, lines = _grade(week, out)
    return result, lines, out


def test_a_one_assignment_folder_has_no_missing_rows_for_other_assignments(graded) -> None:
    result, lines, out = graded
    assert {r.assignment for r in result.results} == {"forward"}
    assert len(result.results) == 5  # every student, once
    assert lines[1] == ("Assignments graded (handed in by at least one student): forward; "
                        "not graded: activations, backprop, training (--all grades every "
                        "assignment)")
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        assert {row["assignment"] for row in csv.DictReader(handle)} == {"forward"}
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == ["student", "forward", "total"]
    assert not any((out / "alice" / other).exists() for other in OTHERS)
    scores = {r.student: r.score for r in result.results}
    assert scores["alice"] == 100 and 0 < scores["bob"] < 100


def test_all_and_assignment_still_grade_what_they_name(week: Path, graded,
                                                       tmp_path: Path) -> None:
    out = graded[2]
    everything, lines = _grade(week, out, all_assignments=True)  # forward reused from cache
    assert {r.assignment for r in everything.results} == {"forward", *OTHERS}
    assert all(r.missing for r in everything.results if r.assignment in OTHERS)
    assert lines[1].startswith("Assignments graded (--all): activations, forward, backprop")
    one, _ = _grade(week, tmp_path / "one", only=("backprop",))
    assert {r.assignment for r in one.results} == {"backprop"}


@pytest.mark.parametrize(("student", "file", "kind"), [
    ("carol", "forward.pdf", "a PDF"), ("dave", "Forward.html", "an HTML export"),
    ("erin", "forward (1).zip", "a zip archive")])
def test_a_file_in_the_wrong_format_is_named_in_the_feedback(graded, student: str, file: str,
                                                             kind: str) -> None:
    result, _, out = graded
    (mine,) = [r for r in result.results if r.student == student]
    assert mine.missing and mine.score == 0
    assert f"You handed in {file} ({kind})" in (mine.error or "")
    for page in ("feedback.md", "feedback.html"):
        text = (out / student / "forward" / page).read_text(encoding="utf-8")
        assert file.replace("(", "\\(").replace(")", "\\)") in text or file in text
        assert "forward.ipynb" in text and "Nothing was handed in" in text
    assert ("unzip it" in (mine.error or "")) == (kind == "a zip archive")


def test_a_canvas_file_in_the_wrong_format_is_named_by_its_original_name(
        tmp_path: Path) -> None:
    source = canvas_download(tmp_path / "canvas", only=("activations",), who=("alice",))
    (source / "andersonalice_1001_77001_activations.pdf").write_bytes(b"%PDF-1.4\n")
    with open_source(source) as view:
        found = discover_view(view, COURSE.assignments)
    (pdf,) = [u for u in found.unrecognized if u.assignment]
    assert (pdf.student, pdf.assignment, pdf.name) == ("1001", "activations",
                                                       "activations.pdf")

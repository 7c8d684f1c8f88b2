"""A rerun whose every submission is in the cache (issue 32) forks no reader per file, draws
no histogram and rewrites no report that did not change: discovery remembers each file's
match by its bytes (grader.run.matched), the summary's histograms are kept by what they show
(grader.report.plots.DrawnPictures), and a report file that already holds its text is left
alone (grader.core.paths.write_atomic)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from grader.commands.grade import RunRequest, run
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.paths import write_atomic
from grader.core.results import RunResult
from grader.core.settings import Settings
from grader.report import plots
from grader.report.plots import DrawnPictures, score_histogram
from grader.run import discover, local
from grader.run.matched import MatchMemo

COURSE = load_course(DEFAULT_ROOT)
DEMO = DEFAULT_ROOT / "demo" / "submissions"


def _run(source: Path, out: Path) -> RunResult:
    settings = Settings(course_root=DEFAULT_ROOT, secret="cached-rerun", jobs=1)
    return run(RunRequest(submissions_dir=source, out_dir=out, only=("activations",),
                          quiet=True), COURSE, settings, echo=lambda _: None)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, RunResult]:
    """alice, carol and dave's activations graded once (histogram drawn, matches kept)."""
    base = tmp_path_factory.mktemp("rerun")
    for student in ("alice", "carol", "dave"):
        (base / "class" / student).mkdir(parents=True)
        shutil.copy(DEMO / student / "activations.ipynb", base / "class" / student)
    return base / "class", base / "out", _run(base / "class", base / "out")


def _refuse(what: str):  # noqa: ANN202 - a stand-in of any signature
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a cached rerun {what}")
    return refused


def _without_duration(text: str) -> str:
    return re.sub(r"\d+(\.\d+)? s\b", "", text)


def test_a_cached_rerun_reads_draws_grades_and_rewrites_nothing(
        graded: tuple[Path, Path, RunResult], monkeypatch: pytest.MonkeyPatch) -> None:
    source, out, first = graded
    feedback = sorted(out.glob("*/activations/feedback.html"))
    assert len(feedback) == 3
    written = {p: p.stat().st_mtime_ns for p in feedback}
    summary = (out / "summary.html").read_text()
    monkeypatch.setattr(discover, "extract_file", _refuse("read a file in a child"))
    monkeypatch.setattr(plots, "score_histogram", _refuse("drew a histogram"))
    monkeypatch.setattr(local, "grade_jobs", _refuse("graded a submission"))
    again = _run(source, out)
    assert (again.graded, again.reused) == (0, 3)
    assert [(r.student, r.score) for r in again.results] == \
        [(r.student, r.score) for r in first.results]
    assert {p: p.stat().st_mtime_ns for p in feedback} == written  # not rewritten
    assert '<img src="data:image/png;base64,' in summary
    assert _without_duration((out / "summary.html").read_text()) == _without_duration(summary)


def test_a_changed_file_is_read_again(graded: tuple[Path, Path, RunResult],
                                      tmp_path: Path) -> None:
    source, out, _ = graded
    memo = MatchMemo(out, COURSE.assignments)
    alice = source / "alice" / "activations.ipynb"
    key = memo.key(alice, alice.name)
    assert memo.get(key) == ("activations", "file name")
    changed = tmp_path / "activations.ipynb"
    changed.write_bytes(alice.read_bytes().replace(b"relu", b"relu ", 1))
    assert memo.get(memo.key(changed, changed.name)) is None  # other bytes
    assert memo.get(memo.key(alice, "other.ipynb")) is None  # another name
    other_course = MatchMemo(out, COURSE.assignments[:2])
    assert other_course.get(other_course.key(alice, alice.name)) is None  # another course


def test_kept_histograms_are_the_drawn_ones_and_a_bad_one_is_drawn_again(
        tmp_path: Path) -> None:
    drawn = DrawnPictures(tmp_path)
    first = drawn.histogram([10.0, 55.5, 100.0], 100.0, "Activations")
    assert first == score_histogram([10.0, 55.5, 100.0], 100.0, "Activations")
    (kept,) = (tmp_path / DrawnPictures.FOLDER).iterdir()
    again = DrawnPictures(tmp_path)
    assert again.histogram([10.0, 55.5, 100.0], 100.0, "Activations") == first
    kept.write_text(json.dumps({"uri": 'data:image/png;base64,"><script>', "width": 1,
                                "height": 1, "alt": ""}))
    assert DrawnPictures(tmp_path).histogram([10.0, 55.5, 100.0], 100.0, "Activations") == first
    other = DrawnPictures(tmp_path)
    other.histogram([1.0, 2.0], 100.0, "Activations")
    other.finish()  # only the pictures of this run are kept
    assert [p.name for p in (tmp_path / DrawnPictures.FOLDER).iterdir()] != [kept.name]
    assert len(list((tmp_path / DrawnPictures.FOLDER).iterdir())) == 1


def test_a_report_that_holds_its_text_is_not_rewritten_and_a_link_is_replaced(
        tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "grades.csv", "student,score\n")
    before = path.stat()
    write_atomic(path, "student,score\n")
    assert path.stat().st_ino == before.st_ino and path.stat().st_mtime_ns == before.st_mtime_ns
    write_atomic(path, "student,score\nalice,100\n")
    assert path.read_text() == "student,score\nalice,100\n"
    target = tmp_path / "elsewhere.csv"
    target.write_text("same\n")
    link = tmp_path / "linked.csv"
    os.symlink(target, link)
    write_atomic(link, "same\n")  # the same text, but a link: replaced by a file
    assert not link.is_symlink() and link.read_text() == "same\n"

"""A rerun whose every submission is in the cache (issue 32) forks no reader per file and
rewrites no report that did not change: discovery remembers each file's match by its bytes
(grader.run.matched), and a report file that already holds its text is left alone
(grader.core.paths.write_atomic). The summary's histograms are SVG written from the scores in
well under a millisecond, so nothing keeps them; the folder an older version kept them in goes."""

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
from grader.extract import children
from grader.report.write import OLD_PICTURES
from grader.run import local
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


def test_a_cached_rerun_reads_grades_and_rewrites_nothing(
        graded: tuple[Path, Path, RunResult], monkeypatch: pytest.MonkeyPatch) -> None:
    source, out, first = graded
    feedback = sorted(out.glob("*/activations/feedback.html"))
    assert len(feedback) == 3
    written = {p: p.stat().st_mtime_ns for p in feedback}
    summary = (out / "summary.html").read_text()
    monkeypatch.setattr(children, "_start_child", _refuse("read a file in a child"))
    monkeypatch.setattr(local, "grade_jobs", _refuse("graded a submission"))
    again = _run(source, out)
    assert (again.graded, again.reused) == (0, 3)
    assert [(r.student, r.score) for r in again.results] == \
        [(r.student, r.score) for r in first.results]
    assert {p: p.stat().st_mtime_ns for p in feedback} == written  # not rewritten
    assert '<img src="data:image/svg+xml;base64,' in summary
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


def test_the_pictures_an_older_version_kept_are_removed_and_a_link_is_not_followed(
        graded: tuple[Path, Path, RunResult], tmp_path: Path) -> None:
    source, out, _ = graded
    old = out / OLD_PICTURES
    old.mkdir()
    (old / "0123abcd.json").write_text(json.dumps({"uri": "data:image/png;base64,AAAA"}))
    _run(source, out)
    assert not old.exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.json").write_text("{}")
    old.symlink_to(elsewhere)
    _run(source, out)
    assert (elsewhere / "keep.json").is_file() and old.is_symlink()
    old.unlink()


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

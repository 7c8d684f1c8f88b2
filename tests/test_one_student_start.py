"""One student's files start fast (issue 32, grader.run.local.grade_jobs): every file is read
and extracted once, at discovery (in one reader child, forked before any thread of the grader
imports), the zygote is started, then the suites' pytest hosts collect in the background, and
only then does grading begin, with discovery's modules; the scores are those of a plain run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.settings import Settings
from grader.extract import children
from grader.extract.children import _start_child
from grader.run.grading import close_sandboxes, grade_folder
from grader.submission import grade

COURSE = load_course(DEFAULT_ROOT)
ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice"


def test_files_are_read_once_then_suites_collect_before_grading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "class" / "alice"
    folder.mkdir(parents=True)
    for name in ("activations.ipynb", "forward.ipynb"):
        shutil.copy(ALICE / name, folder / name)
    events: list[tuple[str, Any]] = []

    def spy(name: str, original: Any, label: Any) -> None:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            events.append((name, label(*args)))
            return original(*args, **kwargs)
        monkeypatch.setattr(grade, name, recorded)

    # each reader child, with how many files it read
    monkeypatch.setattr(children, "_start_child", lambda jobs, limits: events.append(
        ("read", len(jobs))) or _start_child(jobs, limits))
    spy("load_student_module", grade.load_student_module, lambda job, *_: job.extraction)
    spy("warm_hosts", grade.warm_hosts, lambda suites: sorted(s[0].name for s in suites))
    spy("run_suite", grade.run_suite, lambda assignment, *_: assignment.id)
    close_sandboxes()
    try:
        run = grade_folder(folder.parent, COURSE, Settings(course_root=DEFAULT_ROOT,
                                                           secret="start"))
    finally:
        close_sandboxes()
    assert [name for name, _ in events] == ["read", "warm_hosts", "load_student_module",
                                            "run_suite", "load_student_module", "run_suite"]
    assert events[0] == ("read", 2)  # the student's two files, in one reader child
    assert all(label is not None for name, label in events if name == "load_student_module")
    assert events[1][1] == ["test_activations.py", "test_forward.py"]
    assert {r.assignment: r.score == r.max_score for r in run.results} == {
        "activations": True, "forward": True}
    assert grade._AHEAD == {}  # nothing kept past the run

"""The output folder a run creates is private (0700): every student's scores and feedback."""

from __future__ import annotations

import stat
from pathlib import Path

from grader.commands.grade import RunRequest, run
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.settings import Settings


def test_a_new_output_folder_is_private(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)  # nothing handed in: nothing to run
    out = tmp_path / "deep" / "out"
    run(RunRequest(submissions_dir=subs, out_dir=out, quiet=True), load_course(DEFAULT_ROOT),
        Settings(course_root=DEFAULT_ROOT, sandbox="process", secret="private"),
        echo=lambda _: None)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert (out / "grades.csv").is_file()

"""What run_autograder does for one submission, inside Gradescope's container.

    ROOT/source/autograder.json     the build's choices (assignments, visibility, limits)
    ROOT/source/course/             the course files the zip shipped
    ROOT/submission/                the student's upload (notebooks, .py files, zips)
    ROOT/submission_metadata.json   Gradescope's submission metadata (who submitted)
    ROOT/results/results.json       what this writes, whatever happens

The upload is unpacked into a staging folder (grader.integrations.gradescope.unpack) and graded
where it is as one student's files (grader.run.student.grade_student, as ``grade ci`` does), so
each test scores exactly what ``grade`` gives that student's file. The student id (which seeds
the tests) is ``$GRADER_STUDENT`` if set, else the first submitter's e-mail address in the
metadata, else their Gradescope user id, else ``student``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grader
from grader.core.cooldown import read_cooldown
from grader.core.course import Course, load_course
from grader.core.errors import ConfigError, CourseError
from grader.core.grade_record import apply_deadlines, one_student_deadlines, student_due
from grader.core.paths import write_atomic
from grader.core.results import grader_failed
from grader.core.settings import Settings, read_secret
from grader.core.visibility import read_visibility
from grader.integrations.gradescope.config import CONFIG_NAME, AutograderConfig, read_config
from grader.integrations.gradescope.metadata import (
    practice,
    read_metadata,
    refused_document,
    with_metadata,
)
from grader.integrations.gradescope.results import (
    Upload,
    failure_document,
    md_text,
    results_document,
)
from grader.integrations.gradescope.unpack import unpack_upload
from grader.report.late import cooldown_line
from grader.report.view import points
from grader.run.matching import Submission, match_file
from grader.run.student import grade_student, student_id, submission_files

ROOT_VARIABLE = "GRADER_GRADESCOPE_ROOT"
DEFAULT_ROOT = Path("/autograder")
_SOURCES = (".ipynb", ".py")


@dataclass(frozen=True)
class GradescopeRoot:
    """Gradescope's folder layout under one root (``/autograder`` on Gradescope)."""

    root: Path

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def config(self) -> Path:
        return self.source / CONFIG_NAME

    @property
    def course(self) -> Path:
        return self.source / "course"

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def metadata(self) -> Path:
        return self.root / "submission_metadata.json"

    @property
    def results(self) -> Path:
        return self.root / "results" / "results.json"


def submitter(metadata: Path, env: Mapping[str, str]) -> str:
    """The student id: $GRADER_STUDENT, else the first submitter's e-mail, else their id."""
    name = env.get("GRADER_STUDENT", "")
    if not name:
        try:
            users = json.loads(metadata.read_text(encoding="utf-8")).get("users") or []
        except (OSError, ValueError, AttributeError):
            users = []
        first = users[0] if users and isinstance(users[0], dict) else {}
        name = str(first.get("email") or first.get("id") or "").strip().lower()
    try:
        return student_id(metadata.parent, name or "student", {})
    except ConfigError:  # nothing left once made a safe folder name ("..")
        return "student"


def course_settings(layout: GradescopeRoot, config: AutograderConfig) -> tuple[Course, Settings]:
    """The shipped course and the settings ``grade`` would use (limits from the build)."""
    if config.grader_version != grader.__version__:
        raise CourseError(f"{layout.config}: built for grader {config.grader_version}, but "
                          f"grader {grader.__version__} is installed; rerun setup.sh")
    course = load_course(layout.course)
    for assignment in config.assignments:
        course.get(assignment)
    settings = Settings(course_root=course.root, limits=config.limits, sandbox=config.sandbox,
                        device="cpu", jobs=1, secret=read_secret(course.secret_file, env={}))
    return course, settings


def not_graded(folder: Path, kept: Sequence[Path], staged: Sequence[Path], student: str,
               course: Course, chosen: Sequence[str]) -> list[tuple[str, str]]:
    """Files of the upload this autograder does not grade, and why (beyond discovery's)."""
    titles = ", ".join(course.get(a).title for a in chosen)
    found: list[tuple[str, str]] = []
    for relative in staged:
        if relative.suffix.lower() not in _SOURCES:
            found.append((relative.as_posix(), "not a notebook or .py file"))
    for relative in kept:
        match = match_file(student, folder / relative, course.assignments)
        if isinstance(match, Submission) and match.assignment not in chosen:
            title = course.get(match.assignment).title
            found.append((relative.as_posix(), f"a notebook of {title}; this autograder "
                                               f"grades {titles}"))
    return found


def grade_upload(layout: GradescopeRoot, config: AutograderConfig, env: Mapping[str, str]
                 ) -> tuple[dict[str, Any], Upload | None]:
    """Unpack, grade and build the results document for the upload in ``layout``; with a
    practice cooldown (course.toml's ``[practice]``) that refuses this upload, the previous
    submission's results again, saying when the next grading is allowed (no Upload)."""
    course, settings = course_settings(layout, config)
    student = submitter(layout.metadata, env)
    metadata = read_metadata(layout.metadata)
    deadlines = with_metadata(one_student_deadlines(course), metadata, student,
                              config.assignments)
    now = metadata.created_at or dt.datetime.now(dt.UTC)
    due = student_due(deadlines, student, config.assignments)
    cooldown = read_cooldown(course.root)
    gate = practice(metadata, cooldown, due, now)
    line = cooldown_line(gate, cooldown, due, now) if gate and cooldown else ""
    if gate is not None and not gate.allowed and metadata.last_results is not None:
        return refused_document(metadata.last_results, line), None
    with tempfile.TemporaryDirectory(prefix="gradescope-upload-") as tmp:
        unpacked = unpack_upload(layout.submission, Path(tmp) / "upload")
        files = submission_files(unpacked.folder)
        skipped = [*unpacked.skipped, *not_graded(unpacked.folder, files, unpacked.files,
                                                  student, course, config.assignments)]
        run = grade_student(unpacked.folder, files, student, course, settings,
                            config.assignments)
    run = replace(run, results=apply_deadlines(run.results, deadlines, warn=print))
    upload = Upload(student=student, run=run,
                    not_graded=tuple(skipped) + tuple(run.unrecognized))
    titles = {a.id: a.title for a in course.assignments}
    visibility = read_visibility(course.root, config.assignments)
    document = results_document(upload, titles, config, visibility)
    if line:
        document["output"] = f"{md_text(line[:1].upper() + line[1:])}.\n\n{document['output']}"
        document["extra_data"]["practice"] = line
    return document, upload


@dataclass(frozen=True)
class AutogradeOutcome:
    results_json: Path
    document: dict[str, Any]
    grader_failed: bool

    @property
    def exit_code(self) -> int:
        return 1 if self.grader_failed else 0


def results_text(document: Mapping[str, Any]) -> str:
    """results.json's text: UTF-8 where every string is valid, else ASCII with escapes (a
    lone surrogate no UTF-8 writer takes must not cost the student their results.json)."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document, indent=2) + "\n"
    return text


def autograde(root: Path, env: Mapping[str, str] | None = None,
              echo: Callable[[str], None] = print) -> AutogradeOutcome:
    """Grade the submission under ``root`` and write results.json, even when grading fails.

    The grader's own failure (a broken course file, a crash) becomes a results.json that says
    so (grader.integrations.gradescope.results.failure_document) and the traceback goes to stdout,
    which
    Gradescope shows the course staff.
    """
    env = os.environ if env is None else env
    layout = GradescopeRoot(root)
    visibility = "hidden"
    try:
        config = read_config(layout.config)
        visibility = config.stdout_visibility
        document, upload = grade_upload(layout, config, env)
        if upload is None:
            echo("Not graded (practice cooldown): the previous submission's results stand")
        else:
            _echo_upload(upload, echo)
    except Exception as exc:  # noqa: BLE001 - whatever fails, Gradescope gets a results.json
        echo(traceback.format_exc().rstrip())
        echo(f"grade: error: the grader failed: {type(exc).__name__}: {exc}")
        document = failure_document(f"{type(exc).__name__}: {exc}", grader.__version__,
                                    visibility)
    failed = bool(document["extra_data"].get("grader_failed"))
    path = write_atomic(layout.results, results_text(document))
    echo(f"Score {points(float(document['score']))}; results in {path}")
    return AutogradeOutcome(results_json=path, document=document, grader_failed=failed)


def _echo_upload(upload: Upload, echo: Callable[[str], None]) -> None:
    """The instructor's log (Gradescope's autograder output): who, what, how many points."""
    echo(f"Sandbox: {upload.run.sandbox}")
    echo(f"Student: {upload.student}")
    for result in upload.run.results:
        where = result.path or "no notebook found"
        flag = " (the grader failed)" if grader_failed(result) else ""
        echo(f"{result.assignment}: {points(result.score)}/{points(result.max_score)} "
             f"{where}{flag}")
        if result.error:
            echo(f"  {result.error}")
    for path, reason in upload.not_graded:
        echo(f"not graded: {path}: {reason}")


def with_root(root: Path | None, env: Mapping[str, str]) -> Path:
    """``root``, else $GRADER_GRADESCOPE_ROOT, else /autograder."""
    return root or Path(env.get(ROOT_VARIABLE) or DEFAULT_ROOT)


"""``grade ci [PATH]``: grade one student's checkout (or one notebook) in a CI job.

PATH is a folder (a student's repository: notebooks anywhere inside) or a single notebook.
Its files are graded where they are, in the stages of a class run
(grader.run.student.grade_student), so the points are exactly what ``grade`` gives that
student in a class folder:

- the notebooks (``.ipynb``; ``.py`` files other than tests, ``conftest.py`` and the bundle's
  ``public/`` and ``selfcheck/`` folders) are graded, named by their paths relative to PATH;
  symbolic links are never followed (a link could point at the grader's own files);
- only the assignments found there are graded (``--assignment`` forces a list, a missing one
  scores 0); with none found, every assignment is graded and scores 0;
- the student id is ``--student``, else the name part of ``$GITHUB_REPOSITORY``, else the
  folder's name (the seeds depend on it).

Outputs: the usual reports in ``--out`` (results.json and feedback.html per assignment), plus
``ci-summary.md`` (also appended to ``$GITHUB_STEP_SUMMARY`` when set) and ``classroom.json``
(GitHub Classroom's runner result); a ``Points X/Y`` line on stdout; and ``points``, ``score``,
``max-score``, ``status``, ``result`` (base64 of classroom.json) and ``report-dir`` appended to
``$GITHUB_OUTPUT`` when set. The exit code is 0 whatever the score, 1 when the grader failed on
a submission (or ``--fail-under`` is given and the score is below that percentage).

Folder and file names and messages in a checkout are the student's, so the log, the step
summary and the outputs are the grader's alone: every student-controlled text in the log is
escaped (``ci_text``: no line break, no ``::`` workflow command, no ``Points N``) and, under
GitHub Actions, printed between ``::stop-commands::TOKEN`` and ``::TOKEN::`` with a random
token, so the only Points line and the only workflow commands are the grader's; the step
summary escapes names as Markdown and is at most :data:`MAX_STEP_SUMMARY` bytes; each
``$GITHUB_OUTPUT`` value is written with a random heredoc delimiter and bounded in size.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from grader.core.course import Course
from grader.core.deadline_files import parse_time
from grader.core.errors import ConfigError
from grader.core.feedback import by_test, explain, test_plain
from grader.core.grade_record import apply_deadlines, one_student_deadlines
from grader.core.paths import TEMPLATES_DIR
from grader.core.results import ERROR, PASSED, SKIPPED, RunResult, grader_failed
from grader.core.settings import Settings
from grader.core.text import (
    ci_text,
    command_token,
    heredoc,
    md_code,
    md_text,
)
from grader.core.visibility import Visibility, read_visibility, split
from grader.integrations.practice import practice_gate, refused_summary
from grader.report import write_reports
from grader.report.calls import reference_calls
from grader.report.late import record_lines
from grader.report.view import points
from grader.run.student import grade_student, student_id, submission_files

#: GitHub refuses step summaries over 1 MiB; ours stays well under it.
MAX_STEP_SUMMARY = 512 * 1024
#: Characters of one test's message in classroom.json (and the ``result`` output).
MAX_CLASSROOM_MESSAGE = 2000


@dataclass(frozen=True)
class CiRequest:
    path: Path
    out_dir: Path
    student: str | None = None
    only: tuple[str, ...] = ()
    fail_under: float | None = None
    #: when it was handed in (Classroom 50: the committer date); None: :func:`push_time`
    submitted_at: dt.datetime | None = None
    #: the course's grace-day ledger (grades.csv of `grade collect`); None: the course's
    #: grace-ledger.csv when present, else the full budget is assumed (and said)
    grace_ledger: Path | None = None
    #: the runner's earlier gradings of this student (grader.integrations.practice), for
    #: course.toml's [practice] cooldown; None: no cooldown
    practice_history: Path | None = None


@dataclass(frozen=True)
class CiOutcome:
    run: RunResult
    student: str
    score: float
    max_score: float
    grader_failed: bool
    exit_code: int
    summary_md: Path
    classroom_json: Path  # not written when a practice grading is refused

    @property
    def points_line(self) -> str:
        return f"Points {points(self.score)}/{points(self.max_score)}"


def ci(request: CiRequest, course: Course, settings: Settings,
       env: Mapping[str, str] | None = None, echo: Callable[[str], None] = print) -> CiOutcome:
    """Grade one checkout, write every report and CI output; see the module docstring."""
    env = os.environ if env is None else env
    course.select(request.only)
    path = request.path
    if not path.exists():
        raise ConfigError(f"{path}: no such file or folder")
    student = student_id(path, request.student, env)
    base = path if path.is_dir() else path.parent
    files = submission_files(path, skip=request.out_dir.resolve())
    run = grade_student(base, files, student, course, settings, request.only)
    when = request.submitted_at or push_time(env, base)
    deadlines = one_student_deadlines(course, request.grace_ledger)
    if when is not None:
        deadlines = deadlines.with_times({(student.lower(), r.assignment): when
                                          for r in run.results})
    run = replace(run, results=apply_deadlines(run.results, deadlines,
                                               warn=lambda line: echo(f"grade: {line}")))
    gate = practice_gate(request.practice_history, course.root, deadlines, student,
                         [r.assignment for r in run.results], when or dt.datetime.now(dt.UTC))
    if not gate.allowed:
        return _refused(request, student, gate.line, env, echo)
    visibility = read_visibility(course.root, [a.id for a in course.assignments])
    paths = write_reports(run, request.out_dir, TEMPLATES_DIR,
                          titles={a.id: a.title for a in course.assignments},
                          calls=reference_calls(course), visibility=visibility)
    run = paths.run or run  # a submission whose report failed is now a grader error
    score = round(sum(r.score for r in run.results), 6)
    max_score = round(sum(r.max_score for r in run.results), 6)
    failed = [r for r in run.results if grader_failed(r)]
    feedback = {(s.student, s.assignment): s.feedback_md for s in paths.submissions}
    summary = summary_markdown(run, score, max_score, feedback, course, visibility)
    if gate.line:
        summary = f"**{md_text(gate.line[:1].upper() + gate.line[1:])}.**\n\n{summary}"
        echo(ci_text(gate.line))
    summary_md = request.out_dir / "ci-summary.md"
    summary_md.write_text(summary, encoding="utf-8")
    classroom = classroom_result(run, max_score, bool(failed))
    classroom_json = request.out_dir / "classroom.json"
    classroom_json.write_text(json.dumps(classroom, indent=2) + "\n", encoding="utf-8")
    outcome_code = 1 if failed else 0
    percent = 100 * score / max_score if max_score else 0.0
    below = request.fail_under is not None and percent < request.fail_under
    outcome = CiOutcome(run=run, student=student, score=score, max_score=max_score,
                        grader_failed=bool(failed), exit_code=1 if below else outcome_code,
                        summary_md=summary_md, classroom_json=classroom_json)
    _github_outputs(outcome, classroom, request.out_dir, summary, env)
    _echo_summary(outcome, echo, paused=env.get("GITHUB_ACTIONS") == "true",
                  visibility=visibility)
    if failed:
        echo(f"grade: error: the grader failed on {', '.join(r.assignment for r in failed)}; "
             "see the report")
    if below:
        echo(f"grade: score {percent:.1f}% is below --fail-under {request.fail_under:g}")
    return outcome


def _refused(request: CiRequest, student: str, line: str, env: Mapping[str, str],
             echo: Callable[[str], None]) -> CiOutcome:
    """A practice grading the cooldown refuses: no reports (no record of a score), the
    summary and a ``practice`` output saying when the next grading is allowed."""
    request.out_dir.mkdir(parents=True, exist_ok=True)
    summary = refused_summary(line)
    summary_md = request.out_dir / "ci-summary.md"
    summary_md.write_text(summary, encoding="utf-8")
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(summary)
    if env.get("GITHUB_OUTPUT"):
        with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as handle:
            handle.write(heredoc("practice", line))
    echo(f"Not graded: {ci_text(line)}")
    return CiOutcome(run=RunResult(results=()), student=student, score=0.0, max_score=0.0,
                     grader_failed=False, exit_code=0, summary_md=summary_md,
                     classroom_json=request.out_dir / "classroom.json")


def push_time(env: Mapping[str, str], checkout: Path) -> dt.datetime | None:
    """When the graded commit was handed in, from the runner, never from a file's time:
    $GRADER_SUBMITTED_AT (ISO 8601, set by the grading workflow), else the push event's
    ``repository.pushed_at`` (GitHub's clock), else the commit's committer date; None when
    none is known. A rerun of the same workflow run sees the same event, so the same time."""
    given = env.get("GRADER_SUBMITTED_AT", "").strip()
    if given:
        return parse_time(given, "$GRADER_SUBMITTED_AT")
    event = env.get("GITHUB_EVENT_PATH", "")
    if event:
        try:
            data = json.loads(Path(event).read_text(encoding="utf-8"))
            pushed = data["repository"]["pushed_at"]
            if isinstance(pushed, int) and not isinstance(pushed, bool):
                return dt.datetime.fromtimestamp(pushed, dt.UTC)
        except (OSError, ValueError, KeyError, TypeError, OverflowError):
            pass
    return commit_time(checkout)


def commit_time(checkout: Path, revision: str = "HEAD") -> dt.datetime | None:
    """The committer date of ``revision`` in ``checkout`` (None outside a git checkout)."""
    try:
        done = subprocess.run(["git", "-c", "safe.directory=*", "-C", str(checkout), "show",
                               "-s", "--format=%ct", revision], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    stamp = done.stdout.strip()
    if done.returncode != 0 or not stamp.isdigit():
        return None
    return dt.datetime.fromtimestamp(int(stamp), dt.UTC)


def summary_markdown(run: RunResult, score: float, max_score: float,
                     feedback: Mapping[tuple[str, str], Path], course: Course,
                     visibility: Visibility | None = None) -> str:
    """The step summary: the points, one row per assignment, then each feedback report
    (as many as fit in MAX_STEP_SUMMARY bytes). With tests held back (``visibility``), the
    points are those of the tests shown now, and the rows say what is still hidden."""
    titles = {a.id: a.title for a in course.assignments}
    results = sorted(run.results, key=lambda r: r.assignment)
    shown = {r.assignment: split(r.tests, r.assignment, visibility) for r in results}
    if any(s.held for s in shown.values()):
        so_far = sum(s.score for s in shown.values())
        worth = sum(s.worth if s.held else r.max_score
                    for r, s in ((r, shown[r.assignment]) for r in results))
        head = f"# Autograder: {points(so_far)}/{points(worth)} points so far"
    else:
        head = f"# Autograder: Points {points(score)}/{points(max_score)}"
    lines = [head, "", "| assignment | points | tests passed | notebook |", "|---|---|---|---|"]
    for r in results:
        seen = shown[r.assignment]
        passed = sum(t.status == PASSED for t in seen.tests)
        counted = sum(t.status != SKIPPED for t in seen.tests)
        file = md_code(r.path, table=True) if r.path else "not found"
        got = (f"{points(seen.score)} / {points(seen.worth)} so far" if seen.held
               else f"{points(r.score)} / {points(r.max_score)}")
        lines.append(f"| {titles.get(r.assignment, r.assignment)} (`{r.assignment}`) | "
                     f"{got} | {passed} / {counted} | {file} |")
    for r in results:
        if shown[r.assignment].held:
            lines.append(f"\n{md_text(r.assignment)}: {md_text(shown[r.assignment].held_line())}")
    deadline = [f"- `{r.assignment}`: {md_text(line)}" for r in results
                for line in record_lines(r.grade, not r.missing)]
    if deadline:
        lines += ["", *deadline]
    for path, reason in run.unrecognized[:50]:
        lines.append(f"\nNot graded: {md_code(path)} ({md_text(reason)})")
    if len(run.unrecognized) > 50:
        lines.append(f"\n... and {len(run.unrecognized) - 50} more files not graded.")
    size = sum(len(line.encode()) + 1 for line in lines)
    for r in results:
        document = feedback.get((r.student, r.assignment))
        if document is None or not document.is_file():
            continue
        text = document.read_text(encoding="utf-8").rstrip()
        if size + len(text.encode()) + 16 > MAX_STEP_SUMMARY:
            lines += ["", "---", "", f"The feedback on `{r.assignment}` is too long for this "
                      "summary: it is in the report (feedback.md, feedback.html)."]
            continue
        size += len(text.encode()) + 16
        lines += ["", "---", "", text]
    return "\n".join(lines) + "\n"


def classroom_result(run: RunResult, max_score: float, failed: bool) -> dict[str, object]:
    """GitHub Classroom's runner result (what autograding-grading-reporter decodes)."""
    tests: list[dict[str, object]] = []
    for r in sorted(run.results, key=lambda r: r.assignment):
        if not r.tests:
            tests.append({"name": f"{r.assignment}: notebook", "status": "fail", "score": 0,
                          "max_score": r.max_score, "line_no": 0, "test_code": "",
                          "message": _clipped(r.error or "No notebook for this assignment "
                                                         "was found.")})
        explained = by_test(explain(r.tests, r.notes))
        for t in r.tests:
            if t.status == SKIPPED:  # neither passed nor failed: not a test of this run
                continue
            tests.append({
                "name": f"{r.assignment}: {t.description or t.name}",
                "status": "pass" if t.status == PASSED else
                          "error" if t.status == ERROR else "fail",
                "score": t.score, "max_score": t.max_score, "line_no": 0, "test_code": "",
                "message": _clipped("" if t.status == PASSED
                                    else test_plain(t, explained.get(t.name))),
                "execution_time": f"{t.duration_s:.3f}s"})
    all_passed = bool(tests) and all(t["status"] == "pass" for t in tests)
    status = "error" if failed else "pass" if all_passed else "fail"
    return {"version": 1, "status": status, "max_score": max_score, "tests": tests}


def _clipped(message: str) -> str:
    if len(message) <= MAX_CLASSROOM_MESSAGE:
        return message
    return message[:MAX_CLASSROOM_MESSAGE] + " [...]"


def _github_outputs(outcome: CiOutcome, classroom: Mapping[str, object], out_dir: Path,
                    summary: str, env: Mapping[str, str]) -> None:
    step_summary = env.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(summary)
    output = env.get("GITHUB_OUTPUT")
    if output:
        encoded = base64.b64encode(json.dumps(classroom).encode()).decode()
        values = {"points": f"{points(outcome.score)}/{points(outcome.max_score)}",
                  "score": points(outcome.score), "max-score": points(outcome.max_score),
                  "status": classroom["status"], "result": encoded, "report-dir": out_dir}
        with open(output, "a", encoding="utf-8") as handle:
            handle.write("".join(heredoc(name, value) for name, value in values.items()))


def _echo_summary(outcome: CiOutcome, echo: Callable[[str], None], paused: bool = False,
                  visibility: Visibility | None = None) -> None:
    """The log: student-controlled text escaped and, when ``paused`` (GitHub Actions), between
    ``::stop-commands::TOKEN`` and ``::TOKEN::``; the Points line after it, the grader's own.
    Per assignment, the feedback engine's cause line of each failing function, for the tests
    the student sees now (``visibility``)."""
    echo(f"Sandbox: {outcome.run.sandbox}")
    token = command_token()
    if paused:
        echo(f"::stop-commands::{token}")
    echo(f"Student: {ci_text(outcome.student)}")
    for r in sorted(outcome.run.results, key=lambda r: r.assignment):
        passed = sum(t.status == PASSED for t in r.tests)
        counted = sum(t.status != SKIPPED for t in r.tests)
        where = ci_text(r.path) if r.path else "no notebook found"
        echo(f"{r.assignment}: {points(r.score)}/{points(r.max_score)} "
             f"({passed} of {counted} tests passed) {where}")
        for line in record_lines(r.grade, not r.missing):
            echo(f"  {ci_text(line)}")
        if r.error:
            echo(f"  error: {ci_text(r.error)}")
        shown = split(r.tests, r.assignment, visibility)
        explanation = explain(shown.tests, r.notes)
        for item in explanation.wrong:
            echo(f"  FAILED {ci_text(item.function)}: {ci_text(item.cause)}")
        if explanation.not_attempted_line:
            echo(f"  {ci_text(explanation.not_attempted_line)}")
        if shown.held:
            echo(f"  {ci_text(shown.held_line())}")
    for path, reason in outcome.run.unrecognized:
        echo(f"not graded: {ci_text(path)}: {ci_text(reason)}")
    if paused:
        echo(f"::{token}::")
    echo(outcome.points_line)
    echo(f"Reports: {outcome.summary_md.parent} (ci-summary.md, classroom.json, "
         "<student>/<assignment>/feedback.html and results.json)")

"""write_reports: every file of a run's report, rendered from plain results.

    out_dir/grades.csv, out_dir/gradebook.csv
    out_dir/summary.md, out_dir/summary.html
    out_dir/<student>/<assignment>/results.json     (Gradescope)
    out_dir/<student>/<assignment>/feedback.md, feedback.html

Markdown and HTML come from Jinja2 templates (``grader/templates/``, in the package); only the
``.html.j2`` ones are autoescaped, the Markdown ones escape student text with the filters of
grader.core.text. Student ids and assignment ids pass through ``safe_component`` before they
become folders (never the name of a report file).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import jinja2

import grader
from grader.core.errors import CourseError
from grader.core.paths import OUTPUT_MARKER, TEMPLATES_DIR, inside, mark_output, write_atomic
from grader.core.results import RunResult, SubmissionResult
from grader.core.roster import RosterEntry
from grader.core.text import md_cell, md_code, md_fence, md_text, valid, visible
from grader.core.visibility import Visibility, split
from grader.report import stamps
from grader.report.gradebook import MISSING, UNKNOWN, gradebook_csv, gradebook_rows
from grader.report.gradescope import results_json
from grader.report.lms_gradebook import lms_gradebook
from grader.report.table import grades_csv
from grader.report.view import assignment_order, feedback_view, summary_view

TEMPLATES = ("feedback.md.j2", "feedback.html.j2", "summary.md.j2", "summary.html.j2")


@dataclass(frozen=True)
class SubmissionPaths:
    """The files written for one (student, assignment)."""

    student: str
    assignment: str
    results_json: Path
    feedback_md: Path
    feedback_html: Path


@dataclass(frozen=True)
class ReportPaths:
    """Every file one ``write_reports`` call wrote, and the folder they are in."""

    out_dir: Path
    grades_csv: Path
    summary_md: Path
    summary_html: Path
    submissions: tuple[SubmissionPaths, ...]
    gradebook_csv: Path
    #: roster students with no folder, and folders not on the roster (both empty without one)
    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    #: the gradebook in an LMS's format (--gradebook-format), and what to know before importing
    lms_gradebook: Path | None = None
    lms_notes: tuple[str, ...] = ()
    #: the run as reported: a submission whose report could not be written is a grader error
    run: RunResult | None = None
    #: not reports, but what the next run on OUT reuses: the report stamps
    kept: tuple[Path, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        per_submission = tuple(path for s in self.submissions
                               for path in (s.results_json, s.feedback_md, s.feedback_html))
        return (self.grades_csv, self.gradebook_csv, self.summary_md, self.summary_html,
                self.out_dir / OUTPUT_MARKER, *per_submission)


def make_environment(templates_dir: Path) -> jinja2.Environment:
    """The Jinja2 environment: strict, HTML-only autoescaping, Markdown helper filters."""
    if not templates_dir.is_dir():
        raise CourseError(f"{templates_dir}: report templates folder not found")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"),
                                            disabled_extensions=(), default=False,
                                            default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md_cell"] = md_cell
    env.filters["md_fence"] = md_fence
    env.filters["md_text"] = md_text
    env.filters["md_code"] = md_code
    return env




class _Templates(dict):  # type: ignore[type-arg]
    """The report templates, each compiled on first use (a rerun that renders no feedback
    page compiles only the summary's)."""

    def __init__(self, env: jinja2.Environment) -> None:
        super().__init__()
        self.env = env
        try:
            sources = [env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
                       for name in TEMPLATES]
        except jinja2.TemplateError as exc:
            raise CourseError(f"report template {exc}: cannot be loaded") from exc
        #: what the templates say, for the report stamps (grader.report.stamps)
        self.fingerprint = stamps.digest(*sources)

    def __missing__(self, name: str) -> jinja2.Template:
        try:
            template = self[name] = self.env.get_template(name)
        except jinja2.TemplateError as exc:
            raise CourseError(f"report template {exc}: cannot be loaded") from exc
        return template


def _load_templates(env: jinja2.Environment) -> _Templates:
    return _Templates(env)


def _write_submission(result: SubmissionResult, out_dir: Path, title: str,
                      templates: Mapping[str, jinja2.Template],
                      calls: Mapping[str, Sequence[str]],
                      visibility: Visibility | None = None,
                      written: stamps.WrittenReports | None = None) -> SubmissionPaths:
    folder = inside(out_dir, result.student, result.assignment)
    shown = split(result.tests, result.assignment, visibility)
    paths = SubmissionPaths(result.student, result.assignment, folder / "results.json",
                            folder / "feedback.md", folder / "feedback.html")
    files = (paths.results_json, paths.feedback_md, paths.feedback_html)
    key = stamps.digest(result, title, sorted(calls.items()), visibility,
                        [t.name for t in shown.tests], shown.when, grader.__version__,
                        getattr(templates, "fingerprint", None))
    if written is not None and written.unchanged(folder, key, files):
        return paths
    view = feedback_view(result, title, calls=calls, shown=shown)
    document = json.dumps(results_json(result, calls, visibility), indent=2,
                          ensure_ascii=False) + "\n"
    write_atomic(paths.results_json, document, durable=False)
    write_atomic(paths.feedback_md, templates["feedback.md.j2"].render(view), durable=False)
    write_atomic(paths.feedback_html, templates["feedback.html.j2"].render(view), durable=False)
    if written is not None:
        written.wrote(folder, key, files)
    return paths


#: the other text fields of a result, each made valid in a row that reports a failure
_PLAIN_TEXT = ("matched_by", "sandbox", "device", "suite_hash", "grader_version")


def _write_contained(result: SubmissionResult, out_dir: Path, title: str,
                     templates: Mapping[str, jinja2.Template],
                     calls: Mapping[str, Sequence[str]], visibility: Visibility | None = None,
                     written: stamps.WrittenReports | None = None
                     ) -> tuple[SubmissionPaths, SubmissionResult]:
    """One submission's files, and the result as reported: whatever fails while writing them
    (a value no writer takes, a full disk) makes this submission a grader error, reported
    with the reason in its own row, and every other submission's report is still written."""
    try:
        grades_csv(RunResult(results=(result,)))  # its grades.csv row renders too
        return _write_submission(result, out_dir, title, templates, calls, visibility,
                                 written), result
    except CourseError:
        raise
    except Exception as exc:  # noqa: BLE001 - contained: the row says why
        why = visible(valid(f"{type(exc).__name__}: {exc}", 300))
        failed = replace(result, tests=(), notes=(), output="", grader_error=True,
                         path=visible(valid(result.path)) if result.path is not None else None,
                         other_attempts=(), student=valid(result.student),
                         assignment=valid(result.assignment), grade=None, manual=(),
                         **{name: valid(getattr(result, name)) for name in _PLAIN_TEXT},
                         error=f"The grader failed writing the report of this submission "
                               f"({why}); please tell the course staff.")
        return _write_submission(failed, out_dir, title, templates, calls, visibility), failed


#: Where versions before 2026-12-07 kept the summary's histograms (PNG, by what they show);
#: histograms are SVG written in well under a millisecond now, so the folder goes.
OLD_PICTURES = ".pictures"


def _remove_old_pictures(out_dir: Path) -> None:
    """Remove the histograms an older version kept in OUT: its own files only (``*.json``,
    ``*.tmp``), never through a link, and the folder once empty."""
    folder = out_dir / OLD_PICTURES
    if folder.is_symlink() or not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.suffix in (".json", ".tmp") and path.is_file() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()  # left where anything else is in it


def write_reports(run: RunResult, out_dir: Path, templates_dir: Path | None = None, *,
                  titles: Mapping[str, str] | None = None,
                  calls: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
                  roster: Sequence[RosterEntry] | None = None,
                  gradebook_format: str = "plain",
                  lms_columns: Sequence[str] = (),
                  visibility: Visibility | None = None) -> ReportPaths:
    """Write grades.csv, the summary and every submission's results.json and feedback.

    A submission whose files cannot be written is reported as a grader error (status
    ``error``, the reason in its row); ``ReportPaths.run`` is the run as reported.

    ``titles`` maps assignment ids to their titles (``Course.assignments``); ids are shown
    where a title is not given. ``calls``: per assignment, which graded functions each one
    uses (grader.report.calls.reference_calls), to name knock-on failures. ``roster``
    (grader.core.roster.read_roster): its columns in gradebook.csv and names in the summary, its
    students without a folder scored 0. ``gradebook_format`` (canvas, moodle, blackboard) adds
    the gradebook in that LMS's import format (grader.report.lms_gradebook), its assignment
    columns taken from ``lms_columns`` (the roster export's header) where they name one.
    ``visibility`` (grader.core.visibility): the feedback pages show only the tests the
    student sees now, with the score so far and what is still hidden; results.json carries
    each test's visibility. Each file is replaced atomically.
    """
    titles = titles or {}
    calls = calls or {}
    templates = _load_templates(make_environment(templates_dir or TEMPLATES_DIR))
    mark_output(out_dir)
    ordered = sorted(range(len(run.results)),
                     key=lambda i: (run.results[i].student, run.results[i].assignment))
    reported = list(run.results)
    paths_of = {}
    written = stamps.WrittenReports(out_dir)  # what an earlier run wrote: not rendered again
    for i in ordered:  # files written in (student, assignment) order
        result = run.results[i]
        paths_of[i], reported[i] = _write_contained(
            result, out_dir, titles.get(result.assignment, ""), templates,
            calls.get(result.assignment, {}), visibility, written)
    written.save()
    submissions = tuple(paths_of[i] for i in ordered)
    # the run's own texts are valid by construction (grader.run.grading makes the unrecognized
    # files' names valid at the edge); made so here too, as no one submission's row can hold them
    run = replace(run, results=tuple(reported),  # the run's own order (gradebook columns)
                  unrecognized=tuple((valid(path), valid(reason))
                                     for path, reason in run.unrecognized),
                  sandbox=valid(run.sandbox))
    summary = summary_view(run, titles, roster or (), calls=calls)
    _remove_old_pictures(out_dir)
    assignments = assignment_order(run.results)
    rows = gradebook_rows(run.results, assignments, roster or (), run.students)
    lms = None
    if gradebook_format != "plain":
        max_scores = {r.assignment: r.max_score for r in run.results}
        lms = lms_gradebook(gradebook_format, rows, assignments, titles, lms_columns,
                            max_scores)
    return ReportPaths(
        out_dir=out_dir,
        grades_csv=write_atomic(out_dir / "grades.csv", grades_csv(run)),
        gradebook_csv=write_atomic(out_dir / "gradebook.csv",
                                   gradebook_csv(rows, assignments, roster is not None,
                                                 bool(run.students))),
        missing=tuple(r.student for r in rows if r.roster == MISSING),
        unknown=tuple(r.student for r in rows if r.roster == UNKNOWN),
        summary_md=write_atomic(out_dir / "summary.md",
                                templates["summary.md.j2"].render(summary)),
        summary_html=write_atomic(out_dir / "summary.html",
                                  templates["summary.html.j2"].render(summary)),
        submissions=submissions,
        lms_gradebook=write_atomic(out_dir / lms.file_name, lms.text) if lms else None,
        lms_notes=lms.notes if lms else (),
        run=run,
        kept=(written.path,) if written.path.is_file() else (),
    )

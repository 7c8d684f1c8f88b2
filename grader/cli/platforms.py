"""The verbs that grade one student for a platform or build what a platform runs: ``grade
ci``, ``gradescope``, ``gradescope-run``, ``classroom50 build|grade`` and ``collect`` (declared
here because grader/cli/main.py is long enough). Parsing only: each calls a typed function of
grader/commands/ or grader/integrations/."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from grader.cli.options import (
    assignment_option,
    course_device,
    course_limits,
    course_option,
    deadline_options,
    device_option,
    grace_ledger_option,
    guard,
    limit_options,
    out_option,
    resolve_course_root,
    sandbox_option,
)
from grader.core.course import load_course
from grader.core.settings import Settings, read_secret, resolve_device


@click.command("ci")
@click.argument("path", type=click.Path(path_type=Path), default=Path("."))
@out_option("where the reports, ci-summary.md and classroom.json go")
@click.option("--student", default=None, metavar="ID",
              help="student id [default: $GITHUB_REPOSITORY's name, else the folder's name]")
@assignment_option("grade this assignment (repeat) [default: those found in PATH]")
@click.option("--fail-under", type=float, default=None, metavar="PERCENT",
              help="exit 1 when the score is below this percentage of the maximum")
@grace_ledger_option
@click.option("--practice-history", type=click.Path(dir_okay=False, exists=True,
                                                    path_type=Path), default=None,
              metavar="FILE", help="the grading runner's earlier records (its artifacts' names "
              "and created_at, JSON lines): course.toml's [practice] cooldown applies")
@sandbox_option()
@device_option
@course_option
@limit_options
def ci_command(path: Path, out_dir: Path, student: str | None, only: tuple[str, ...],
               fail_under: float | None, grace_ledger: Path | None,
               practice_history: Path | None, sandbox: str, device: str | None,
               course_root: Path | None, **limit_flags: Any) -> None:
    """Grade one student's checkout (or notebook) for CI: summary, Points X/Y, outputs.

    Exits 0 whatever the score; 1 when the grader failed (or the score is below --fail-under).
    """
    from grader.integrations.ci import CiRequest, ci

    root = guard(lambda: resolve_course_root(course_root))
    course = guard(lambda: load_course(root))
    settings = guard(lambda: Settings(
        course_root=root, limits=course_limits(limit_flags, course), sandbox=sandbox,
        device=resolve_device(course_device(device, course)), jobs=1,
        secret=read_secret(course.secret_file)))
    request = CiRequest(path=path, out_dir=out_dir, student=student, only=only,
                        fail_under=fail_under, grace_ledger=grace_ledger,
                        practice_history=practice_history)
    outcome = guard(lambda: ci(request, course, settings, echo=click.echo))
    sys.exit(outcome.exit_code)


VISIBILITY = click.Choice(["visible", "after_due_date", "after_published", "hidden"])


@click.command("gradescope")
@click.argument("out_zip", type=click.Path(dir_okay=False, path_type=Path))
@assignment_option("grade this assignment (repeat) [default: every assignment]")
@click.option("--test-visibility", type=VISIBILITY, default=None,
              help="when students see the hidden tests' results "
                   "[default: course.toml's, else after_due_date]")
@click.option("--stdout-visibility", type=VISIBILITY, default="hidden", show_default=True,
              help="when students see the autograder's log")
@sandbox_option("isolation level for student code on Gradescope (auto: bwrap where the "
                "container allows it)")
@click.option("--torch", "torch_requirement", default=None, metavar="REQUIREMENT",
              help="torch for setup.sh to install [default: the version installed here]")
@click.option("--torch-index", default=None, metavar="URL",
              help="torch's package index; '' for pip's default "
                   "[default: https://download.pytorch.org/whl/cpu]")
@course_option
@limit_options
def gradescope_command(out_zip: Path, only: tuple[str, ...], test_visibility: str | None,
                       stdout_visibility: str, sandbox: str, torch_requirement: str | None,
                       torch_index: str | None, course_root: Path | None,
                       **limit_flags: Any) -> None:
    """Build OUT.zip, the Gradescope autograder: setup.sh, run_autograder, the course."""
    from grader.commands.gradescope import CPU_INDEX, GradescopeRequest, build

    root = guard(lambda: resolve_course_root(course_root))
    course = guard(lambda: load_course(root))
    if test_visibility is None:  # the deprecated course default is read only then
        for line in course.config.deprecated:
            click.echo(f"grade: warning: {line}", err=True)
    request = guard(lambda: GradescopeRequest(
        out_zip=out_zip, only=only,
        test_visibility=test_visibility or course.config.test_visibility or "after_due_date",
        stdout_visibility=stdout_visibility, torch=torch_requirement,
        torch_index=CPU_INDEX if torch_index is None else torch_index, sandbox=sandbox,
        limits=course_limits(limit_flags, course)))
    guard(lambda: build(request, course, read_secret(course.secret_file), echo=click.echo))


@click.command("gradescope-run")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the Gradescope root [default: $GRADER_GRADESCOPE_ROOT, else /autograder]")
def gradescope_run_command(root: Path | None) -> None:
    """Grade ROOT/submission into ROOT/results/results.json (run_autograder calls this).

    Exits 0 when the submission was graded, 1 when the grader failed (results.json says so).
    """
    from grader.commands.gradescope import GradescopeRunRequest, run
    from grader.integrations.gradescope.autograde import with_root

    request = GradescopeRunRequest(root=with_root(root, os.environ))
    outcome = guard(lambda: run(request, echo=click.echo))
    sys.exit(outcome.exit_code)


@click.group("classroom50")
def classroom50_group() -> None:
    """Classroom 50: write its autograders (build); grade one submission for it (grade)."""


@classroom50_group.command("build")
@click.argument("classroom_dir", type=click.Path(file_okay=False, path_type=Path))
@assignment_option()
@click.option("--slug", default=None,
              help="one autograder named SLUG grading every chosen assignment "
                   "[default: one per assignment, named by its id]")
@click.option("--force", is_flag=True, help="replace autograders written earlier")
@course_option
def classroom50_build_command(classroom_dir: Path, only: tuple[str, ...], slug: str | None,
                              force: bool, course_root: Path | None) -> None:
    """Write CLASSROOM_DIR/autograders/<slug>/: autograder.py and what it runs."""
    from grader.commands.classroom50 import BuildRequest, build

    course = guard(lambda: load_course(resolve_course_root(course_root)))
    request = BuildRequest(classroom_dir=classroom_dir, only=only, slug=slug, force=force)
    guard(lambda: build(request, course, echo=click.echo))


@classroom50_group.command("grade")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@assignment_option("grade this assignment (repeat)", required=True)
@out_option("where the reports go [default: a temporary folder]", default=None)
@grace_ledger_option
@sandbox_option()
@course_option
@limit_options
def classroom50_grade_command(path: Path, only: tuple[str, ...], out_dir: Path | None,
                              grace_ledger: Path | None, sandbox: str, course_root: Path | None,
                              **limit_flags: Any) -> None:
    """Grade the checkout at PATH for Classroom 50: ./result.json, ./release-body.md.

    Exits 0 when graded; 1 when the grader failed (Classroom 50 reports an error).
    """
    from grader.commands.classroom50 import AutogradeRequest, autograde

    root = guard(lambda: resolve_course_root(course_root))
    course = guard(lambda: load_course(root))
    settings = guard(lambda: Settings(
        course_root=root, limits=course_limits(limit_flags, course), sandbox=sandbox, device="cpu",
        jobs=1, secret=read_secret(course.secret_file)))
    request = AutogradeRequest(checkout=path, only=only, out_dir=out_dir,
                               grace_ledger=grace_ledger)
    outcome = guard(lambda: autograde(request, course, settings, echo=click.echo))
    sys.exit(outcome.exit_code)


@click.command("collect")
@click.argument("records", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("gradebook.csv"), show_default=True, help="the gradebook CSV")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV with a student column (or Classroom 50's roster.csv / students.csv)")
@click.option("--review", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="add the written answers' points graded with grade review in this folder")
@click.option("--db", "db_url", default=None, metavar="URL",
              help="the review database [default: REVIEW/review.db]")
@deadline_options(times=False)
@course_option
def collect_command(records: tuple[Path, ...], out: Path, roster: Path | None,
                    review: Path | None, db_url: str | None,
                    course_root: Path | None, extensions: Path | None,
                    overrides: Path | None) -> None:
    """Every student's score of record from the grading runner's records, as a gradebook CSV
    (the latest grading; with deadlines, the one the course's late policy says counts)."""
    from grader.commands.collect import CollectRequest, collect

    course = guard(lambda: load_course(resolve_course_root(course_root)))
    request = CollectRequest(records=records, out=out, roster=roster, extensions=extensions,
                             overrides=overrides, review=review, db=db_url)
    guard(lambda: collect(request, course, echo=click.echo))

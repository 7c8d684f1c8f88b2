"""The ``grade`` command: parses flags and calls typed library functions, nothing more.

Over 400 lines on purpose: one Click declaration per verb (13 here; ``review``, ``deliver`` and
``feedback`` are declared in grader/cli/review.py and grader/cli/feedback.py) and nothing else;
each verb's work is a typed function in grader/commands/ or grader/integrations/.

    grade SUBMISSIONS_DIR [--out DIR]     same as ``grade run``: the course contract's form
    grade run SUBMISSIONS_DIR ...         grade a folder of student notebooks
    grade init DIR [--from PATH]          a new course folder: course.toml, secret, example
    grade validate                        references score 100, stubs 0, every mutant is caught
    grade stubs [--check]                 regenerate student stubs from the reference notebooks
    grade new ID [--functions F,G]        scaffold an assignment: toml, reference, suites, stub
    grade release OUT_DIR                 the student bundle: stubs, public tests, self-check
    grade ci [PATH] / grade NOTEBOOK      one student's checkout in CI: Points X/Y, summary
    grade gradescope OUT.zip              the Gradescope autograder (setup.sh, run_autograder)
    grade gradescope-run                  what run_autograder runs on Gradescope, per upload
    grade classroom50 build DIR           Classroom 50 autograders (autograder.py + bundle)
    grade classroom50 grade [PATH]        what those run: result.json for one submission
    grade collect RECORDS... --out CSV    the grading runner's latest scores as a gradebook
    grade similarity SUBMISSIONS_DIR      which students share code beyond the stub
    grade review OUT                      TAs grade written answers in a browser
    grade deliver REPORT                  post a student's feedback on the graded commit
    grade feedback OUT --format F         pack the feedback pages for the LMS

Only the CLI (grader.cli.options.guard) turns exceptions (grader.core.errors, one tree) into
exit codes: 0 when grading ran (whatever the scores), 1 when the grader could not run, 2 for
bad flags, settings or course files, 130 when interrupted.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import click

import grader
from grader.cli.options import (
    assignment_option,
    course_option,
    deadline_options,
    device_option,
    grace_ledger_option,
    guard,
    jobs_option,
    lms_options,
    out_option,
    resolve_course_root,
    sandbox_option,
)
from grader.core.course import Course, load_course
from grader.core.settings import (
    LIMIT_HELP,
    NONE_DEFAULT,
    Limits,
    Settings,
    cluster_from,
    flag_name,
    limits_from,
    local_jobs,
    read_secret,
    resolve_device,
)

COMMANDS_ALIAS = "run"


class DefaultToRun(click.Group):
    """A group whose first argument, when it is not a verb, is the ``run`` verb's folder."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] == "--ci":  # `grade --ci PATH`: the ci verb
            args = ["ci", *args[1:]]
        elif args and args[0] not in self.commands and Path(args[0]).is_file() \
                and Path(args[0]).suffix.lower() != ".zip":
            args = ["ci", *args]  # `grade submission.ipynb`: one student's notebook
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h",
                                                                     "--version"):
            args = [COMMANDS_ALIAS, *args]
        return super().parse_args(ctx, args)


def limit_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """One ``--<limit>`` flag per Limits field (default: GRADER_<NAME> or the built-in)."""
    for spec in reversed(fields(Limits)):
        default = NONE_DEFAULT[spec.name] if spec.default is None else spec.default
        help_text = f"{LIMIT_HELP[spec.name]} [default {default}]"
        function = click.option(flag_name(spec.name), spec.name, default=None,
                                help=help_text, metavar="N")(function)
    return function


@click.group(cls=DefaultToRun, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(grader.__version__, prog_name="grade")
def main() -> None:
    """Grade neural-network coursework notebooks: `grade SUBMISSIONS_DIR [--out DIR]`."""
    # SIGTERM (kill, a cancelled CI job, a scheduler's stop) ends a run like Ctrl-C: graded
    # results are kept, worker pools and sandboxes are shut down, nothing is left running
    signal.signal(signal.SIGTERM, _interrupt)
    _private_matplotlib_cache()


def _private_matplotlib_cache() -> None:
    """matplotlib (the summary's histograms) keeps its font cache in a temporary folder of
    this run, not in ~/.cache: a verb writes only into the course and the output folder.
    A MPLCONFIGDIR the user set is kept."""
    if "MPLCONFIGDIR" not in os.environ:
        folder = tempfile.mkdtemp(prefix="nn-grader-matplotlib-")
        os.environ["MPLCONFIGDIR"] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@main.command("run")
@click.argument("submissions_dir", metavar="SOURCE", type=click.Path(path_type=Path))
@out_option("where grades.csv, results and feedback go")
@assignment_option("grade only this assignment (repeat)")
@jobs_option("submissions graded in parallel [default: number of cores]")
@sandbox_option()
@device_option
@click.option("--seed", type=int, default=None,
              help="replay: use this submission seed (with --student: for those students only)")
@click.option("--force", is_flag=True,
              help="regrade everything, ignoring results kept from earlier runs in --out")
@click.option("--student", "students", multiple=True, metavar="ID",
              help="regrade this student (repeat); the others are reused from earlier runs")
@click.option("--quiet", "-q", is_flag=True, help="print only the final line")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the class list: a Canvas gradebook export, a Moodle participants export, "
                   "Classroom 50's roster.csv or a CSV with a student column and any of name, "
                   "email, lms_id, as they come; gradebook.csv and the summary get them; "
                   "roster students with no submission score 0")
@lms_options
@click.option("--db", "db_url", default=None, metavar="URL",
              help="the review database of the written answers (grade review) to merge "
                   "[default: OUT/review.db when it exists]")
@click.option("--cold", is_flag=True,
              help="start a fresh Python for every worker instead of forking warm ones from "
                   "a zygote (slower; the same isolation)")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="grade on this Dask scheduler (tcp:// or tls://HOST:PORT) instead of local "
                   "processes [default: $DASK_SCHEDULER_ADDRESS; '' for local]")
@click.option("--tls-ca-file", default=None, metavar="FILE",
              help="CA certificate for a tls:// scheduler [default: $GRADER_TLS_CA_FILE]")
@click.option("--tls-cert", default=None, metavar="FILE",
              help="this client's certificate for a tls:// scheduler [default: $GRADER_TLS_CERT]")
@click.option("--tls-key", default=None, metavar="FILE",
              help="this client's private key for a tls:// scheduler [default: $GRADER_TLS_KEY]")
@deadline_options()
@course_option
@limit_options
def run_command(submissions_dir: Path, out_dir: Path, only: tuple[str, ...], jobs: int | None,
                sandbox: str, device: str | None, seed: int | None, force: bool,
                students: tuple[str, ...], quiet: bool, roster: Path | None,
                layout: str | None, all_assignments: bool, gradebook_format: str,
                db_url: str | None, cold: bool,
                scheduler: str | None,
                tls_ca_file: str | None, tls_cert: str | None, tls_key: str | None,
                course_root: Path | None, times: Path | None, extensions: Path | None,
                overrides: Path | None, **limit_flags: Any) -> None:
    """Grade SOURCE and write reports to --out.

    SOURCE is a folder or a zip: one folder per student (SOURCE/<student>/<notebook>.ipynb),
    Canvas's or Moodle's submissions download, a Gradescope export, or a folder of git
    checkouts. A rerun with the same --out grades only new or changed submissions.
    """
    from grader.commands.grade import RunRequest, run

    root = guard(lambda: resolve_course_root(course_root))
    course = guard(lambda: load_course(root))
    cluster = guard(lambda: cluster_from(scheduler, {
        "tls_ca_file": tls_ca_file, "tls_cert": tls_cert, "tls_key": tls_key}))
    settings = guard(lambda: Settings(
        course_root=root, limits=_limits(limit_flags, course), sandbox=sandbox,
        device=_device(device, course) if cluster else resolve_device(_device(device, course)),
        jobs=local_jobs(jobs if jobs is not None or cluster else course.config.jobs, cluster),
        secret=read_secret(course.secret_file), seed=seed,
        warm=not cold, cluster=cluster))
    request = RunRequest(submissions_dir=submissions_dir, out_dir=out_dir, only=only,
                         quiet=quiet, force=force, students=students, roster=roster,
                         layout=layout, all_assignments=all_assignments,
                         gradebook_format=gradebook_format, times=times,
                         extensions=extensions, overrides=overrides, db=db_url)
    guard(lambda: run(request, course, settings, echo=click.echo))


@main.command("validate")
@click.option("--sandbox", type=click.Choice(["inprocess", "process", "bwrap", "auto"]),
              default="inprocess", show_default=True,
              help="level to run references, stubs and mutants at (all trusted code)")
@click.option("--mutants", "mutants_dir", type=click.Path(path_type=Path), default=None,
              help="mutant corpus [default: tests/mutants of the course root]")
@click.option("--no-generated", is_flag=True,
              help="skip the mutants derived from the references (a quicker check)")
@assignment_option()
@course_option
def validate_command(sandbox: str, mutants_dir: Path | None, no_generated: bool,
                     only: tuple[str, ...], course_root: Path | None) -> None:
    """Prove the hidden suites grade right: consistent files, references 100, stubs 0,
    hand-written mutants caught, generated mutants scored (course.toml [validate])."""
    from grader.commands.validate import validate

    root = guard(lambda: resolve_course_root(course_root))
    course = guard(lambda: load_course(root))
    ok = guard(lambda: validate(course, mutants_dir or root / "tests" / "mutants", sandbox,
                                 only=only, echo=click.echo, generate=not no_generated))
    sys.exit(0 if ok else 1)


@main.command("stubs")
@click.option("--check", is_flag=True, help="only report stubs that differ (exit 1)")
@course_option
def stubs_command(check: bool, course_root: Path | None) -> None:
    """Regenerate assignments/<id>/<id>.ipynb from solutions/<id>.ipynb."""
    from grader.commands.stubs import write_stubs

    course = guard(lambda: load_course(resolve_course_root(course_root)))
    stale = guard(lambda: write_stubs(course, check=check, echo=click.echo))
    sys.exit(1 if check and stale else 0)


@main.command("init")
@click.argument("target", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--from", "source", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="start from the course at PATH (its assignments, suites, "
                                 "course.toml; never its secret) instead of the example")
@click.option("--title", default=None, help="the course's title [default: DIR's name]")
def init_command(target: Path, source: Path | None, title: str | None) -> None:
    """Create a course in DIR: course.toml, a fresh secret, .gitignore, an example assignment
    that `grade validate` passes, and the push-grading workflows."""
    from grader.commands.init import InitRequest, init_course

    request = InitRequest(target=target, source=source, title=title)
    guard(lambda: init_course(request, echo=click.echo))


@main.command("new")
@click.argument("assignment_id", metavar="ID")
@click.option("--title", default=None, help="the assignment's title [default: the id]")
@click.option("--functions", default=None, metavar="F,G",
              help="the functions students write [default: a worked example, double(x)]")
@course_option
def new_command(assignment_id: str, title: str | None, functions: str | None,
                course_root: Path | None) -> None:
    """Scaffold assignment ID: with --functions, files naming them; else the example double."""
    from grader.commands.new import NewAssignment, new_assignment, parse_functions

    names = guard(lambda: parse_functions(functions)) if functions is not None else ()
    request = NewAssignment(id=assignment_id, title=title or assignment_id, functions=names)
    guard(lambda: new_assignment(resolve_course_root(course_root), request, echo=click.echo))


@main.command("release")
@click.argument("out_dir", type=click.Path(path_type=Path))
@assignment_option()
@click.option("--force", is_flag=True, help="replace OUT_DIR if it holds an earlier bundle")
@click.option("--with-workflow", is_flag=True,
              help="add .github/workflows/public-checks.yml (grader/templates/github/student.yml)")
@course_option
def release_command(out_dir: Path, only: tuple[str, ...], force: bool, with_workflow: bool,
                    course_root: Path | None) -> None:
    """Build the student bundle: stubs, public tests, self-check, README; nothing secret."""
    from grader.release.bundle import ReleaseRequest, release

    course = guard(lambda: load_course(resolve_course_root(course_root)))
    request = ReleaseRequest(out_dir=out_dir, only=only, force=force,
                             with_workflow=with_workflow)
    guard(lambda: release(request, course, echo=click.echo))


@main.command("ci")
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
        course_root=root, limits=_limits(limit_flags, course), sandbox=sandbox,
        device=resolve_device(_device(device, course)), jobs=1,
        secret=read_secret(course.secret_file)))
    request = CiRequest(path=path, out_dir=out_dir, student=student, only=only,
                        fail_under=fail_under, grace_ledger=grace_ledger,
                        practice_history=practice_history)
    outcome = guard(lambda: ci(request, course, settings, echo=click.echo))
    sys.exit(outcome.exit_code)


VISIBILITY = click.Choice(["visible", "after_due_date", "after_published", "hidden"])


@main.command("gradescope")
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
        limits=_limits(limit_flags, course)))
    guard(lambda: build(request, course, read_secret(course.secret_file), echo=click.echo))


@main.command("gradescope-run")
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


@main.command("similarity")
@click.argument("submissions_dir", type=click.Path(path_type=Path))
@out_option("where similarity.csv and similarity.html go")
@assignment_option()
@click.option("--top", type=int, default=20, show_default=True,
              help="pairs per assignment shown side by side in similarity.html")
@jobs_option("assignments compared in parallel [default: number of cores]")
@click.option("--common", "common_percent", type=float, default=None, metavar="PERCENT",
              help="ignore code that more than PERCENT% of the students (and more than 10) "
                   "have, like MOSS's -m [default: off]")
@course_option
def similarity_command(submissions_dir: Path, out_dir: Path, only: tuple[str, ...], top: int,
                       jobs: int | None, common_percent: float | None,
                       course_root: Path | None) -> None:
    """Rank every pair of students per assignment by the code they share beyond the stub.

    Writes similarity.csv and similarity.html to --out, for the instructor only.
    """
    from grader.commands.similarity import SimilarityRequest, similarity

    course = guard(lambda: load_course(resolve_course_root(course_root)))
    request = SimilarityRequest(submissions_dir=submissions_dir, out_dir=out_dir, only=only,
                                top=top, jobs=jobs or os.cpu_count() or 1,
                                common_percent=common_percent)
    guard(lambda: similarity(request, course, echo=click.echo))


@main.group("classroom50")
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
        course_root=root, limits=_limits(limit_flags, course), sandbox=sandbox, device="cpu",
        jobs=1, secret=read_secret(course.secret_file)))
    request = AutogradeRequest(checkout=path, only=only, out_dir=out_dir,
                               grace_ledger=grace_ledger)
    outcome = guard(lambda: autograde(request, course, settings, echo=click.echo))
    sys.exit(outcome.exit_code)


@main.command("collect")
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


def _limits(flags: dict[str, Any], course: Course) -> Limits:
    """The --<limit> flags, then GRADER_* variables, then course.toml's [defaults]."""
    return limits_from(flags, defaults=course.config.limit_defaults())


def _device(flag: str | None, course: Course) -> str:
    """--device, else course.toml's [defaults] device, else cpu."""
    return flag or course.config.device or "cpu"


def _add_verbs() -> None:
    """Verbs declared in their own modules (this one is long enough)."""
    from grader.cli.feedback import deliver_command, feedback_command
    from grader.cli.review import review_command

    for command in (deliver_command, feedback_command, review_command):
        main.add_command(command)


_add_verbs()

if __name__ == "__main__":
    main()

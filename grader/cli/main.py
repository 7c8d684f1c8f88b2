"""The ``grade`` command: parses flags and calls typed library functions, nothing more.

Declared here: the group, ``run`` and ``similarity``; the author's verbs (validate, stubs, init,
new, release) in grader/cli/authoring.py, the platforms' (ci, gradescope, gradescope-run,
classroom50, collect) in grader/cli/platforms.py, ``review`` in grader/cli/review.py and
``deliver`` and ``feedback`` in grader/cli/feedback.py. Each verb's work is a typed function in
grader/commands/ or grader/integrations/.

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

import os
import signal
from pathlib import Path
from typing import Any

import click

import grader
from grader.cli.options import (
    assignment_option,
    course_device,
    course_limits,
    course_option,
    deadline_options,
    device_option,
    guard,
    jobs_option,
    limit_options,
    lms_options,
    out_option,
    resolve_course_root,
    sandbox_option,
)
from grader.core.course import load_course
from grader.core.settings import (
    Settings,
    cluster_from,
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


@click.group(cls=DefaultToRun, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(grader.__version__, prog_name="grade")
def main() -> None:
    """Grade neural-network coursework notebooks: `grade SUBMISSIONS_DIR [--out DIR]`."""
    # SIGTERM (kill, a cancelled CI job, a scheduler's stop) ends a run like Ctrl-C: graded
    # results are kept, worker pools and sandboxes are shut down, nothing is left running
    signal.signal(signal.SIGTERM, _interrupt)


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
        course_root=root, limits=course_limits(limit_flags, course), sandbox=sandbox,
        device=(course_device(device, course) if cluster
                else resolve_device(course_device(device, course))),
        jobs=local_jobs(jobs if jobs is not None or cluster else course.config.jobs, cluster),
        secret=read_secret(course.secret_file), seed=seed,
        warm=not cold, cluster=cluster))
    request = RunRequest(submissions_dir=submissions_dir, out_dir=out_dir, only=only,
                         quiet=quiet, force=force, students=students, roster=roster,
                         layout=layout, all_assignments=all_assignments,
                         gradebook_format=gradebook_format, times=times,
                         extensions=extensions, overrides=overrides, db=db_url)
    guard(lambda: run(request, course, settings, echo=click.echo))


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


def _add_verbs() -> None:
    """Verbs declared in their own modules (grouped by who uses them)."""
    from grader.cli import authoring, platforms
    from grader.cli.feedback import deliver_command, feedback_command
    from grader.cli.review import review_command

    for command in (authoring.validate_command, authoring.stubs_command, authoring.init_command,
                    authoring.new_command, authoring.release_command, platforms.ci_command,
                    platforms.gradescope_command, platforms.gradescope_run_command,
                    platforms.classroom50_group, platforms.collect_command, deliver_command,
                    feedback_command, review_command):
        main.add_command(command)


_add_verbs()

if __name__ == "__main__":
    main()

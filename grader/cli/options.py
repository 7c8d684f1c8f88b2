"""Click options that several ``grade`` verbs share (grader/cli/main.py declares the verbs).

Each is a decorator factory, so that a verb's declaration reads as one line per option and
the same flag has the same name, type, default and help everywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from grader.core import course as course_files
from grader.core.errors import NNGraderError
from grader.core.text import visible

Command = TypeVar("Command", bound=Callable[..., Any])
ONLY_HELP = "only this assignment (repeat)"


def course_option(function: Command) -> Command:
    return click.option("--course", "course_root", type=click.Path(file_okay=False,
                        path_type=Path), default=None,
                        help="course root (course.toml, assignments/, solutions/) "
                             "[default: $GRADER_COURSE, else the nearest course.toml from "
                             "the working directory upward]")(function)


def resolve_course_root(value: Path | None) -> Path:
    """--course, else $GRADER_COURSE, else the nearest course.toml upward (ConfigError: none;
    the CLI calls this inside _guard)."""
    return course_files.resolve_course_root(value)


def assignment_option(help_text: str = ONLY_HELP,
                      required: bool = False) -> Callable[[Command], Command]:
    """--assignment ID (repeat), as the ``only`` parameter (Course.select checks it)."""
    return click.option("--assignment", "only", multiple=True, required=required,
                        help=help_text)


def out_option(help_text: str, default: Path | None = Path("out")) -> Callable[[Command], Command]:
    """--out DIR, as the ``out_dir`` parameter."""
    return click.option("--out", "out_dir", type=click.Path(path_type=Path), default=default,
                        show_default=default is not None, help=help_text)


def sandbox_option(help_text: str = "isolation level for student code"
                   ) -> Callable[[Command], Command]:
    """--sandbox for student code: auto (bwrap where it works), bwrap or process."""
    return click.option("--sandbox", type=click.Choice(["auto", "bwrap", "process"]),
                        default="auto", show_default=True, help=help_text)


def device_option(function: Command) -> Command:
    return click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None,
                        help="torch device for the training suites "
                             "[default: course.toml's, else cpu]")(function)


def jobs_option(help_text: str) -> Callable[[Command], Command]:
    return click.option("--jobs", "-j", type=int, default=None, help=help_text)


def deadline_options(times: bool = True) -> Callable[[Command], Command]:
    """--times (unless ``times`` is False), --extensions and --overrides
    (grader.core.deadline_files): the late policy's inputs, as parameters of those names."""
    file = click.Path(dir_okay=False, path_type=Path)
    flags = [("extensions", "CSV student,assignment,due,reason (due: a date-time or +N days) "
                            "[default: the course's extensions.csv]"),
             ("overrides", "CSV student,assignment,points,reason,who[,test] "
                           "[default: the course's overrides.csv]")]
    if times:
        flags.insert(0, ("times", "CSV student,assignment,submitted_at: when each was handed "
                                  "in (times from earlier runs on the same --out are kept)"))

    def decorate(function: Command) -> Command:
        for name, help_text in reversed(flags):
            function = click.option(f"--{name}", name, type=file, default=None,
                                    metavar="FILE", help=help_text)(function)
        return function

    return decorate


def grace_ledger_option(function: Command) -> Command:
    """``--grace-ledger FILE`` for the one-student paths."""
    return click.option(
        "--grace-ledger", "grace_ledger", default=None,
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="the course's grades.csv from `grade collect` (student, assignment, "
             "grace_days_used): grace days spent on other assignments [default: "
             "grace-ledger.csv in the course; without one the full budget is assumed, and "
             "the feedback says so]")(function)


def lms_options(function: Command) -> Command:
    """--layout, --all and --gradebook-format: SOURCE as an LMS gives it, and back."""
    from grader.report.lms_gradebook import FORMATS
    from grader.run.layouts.model import LAYOUTS

    for option in reversed((
            click.option("--layout", type=click.Choice(LAYOUTS), default=None,
                         help="how SOURCE is laid out [default: detected, and named in the "
                              "first line]"),
            click.option("--all", "all_assignments", is_flag=True,
                         help="grade every assignment of the course, also those nobody "
                              "handed in (each scores 0 for everyone) [default: those found "
                              "in SOURCE]"),
            click.option("--gradebook-format", type=click.Choice(FORMATS), default="plain",
                         show_default=True,
                         help="also write the gradebook in this LMS's import format "
                              "(gradebook-canvas.csv, gradebook-moodle.csv, "
                              "gradebook-blackboard.txt)"))):
        function = option(function)
    return function


def guard(action: Callable[[], Any]) -> Any:
    """Run ``action``; an NNGraderError becomes a one-line message and its exit code (the one
    place the exception tree turns into exit codes)."""
    try:
        return action()
    except NNGraderError as exc:  # messages may carry student file and folder names
        click.echo(f"grade: error: {visible(exc)}", err=True)
        sys.exit(exc.exit_code)

"""The verbs of a course's author: ``grade validate``, ``stubs``, ``init``, ``new`` and
``release`` (declared here because grader/cli/main.py is long enough). Parsing only: each calls
a typed function of grader/commands/ or grader/release/."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.options import assignment_option, course_option, guard, resolve_course_root
from grader.core.course import load_course


@click.command("validate")
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


@click.command("stubs")
@click.option("--check", is_flag=True, help="only report stubs that differ (exit 1)")
@course_option
def stubs_command(check: bool, course_root: Path | None) -> None:
    """Regenerate assignments/<id>/<id>.ipynb from solutions/<id>.ipynb."""
    from grader.commands.stubs import write_stubs

    course = guard(lambda: load_course(resolve_course_root(course_root)))
    stale = guard(lambda: write_stubs(course, check=check, echo=click.echo))
    sys.exit(1 if check and stale else 0)


@click.command("init")
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


@click.command("new")
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


@click.command("release")
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

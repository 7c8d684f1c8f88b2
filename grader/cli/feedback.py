"""The verbs that return feedback to students: ``grade deliver`` (push grading posts it on the
student's commit) and ``grade feedback`` (packs it for the LMS). Declared here because
grader/cli/main.py is long enough."""

from __future__ import annotations

import os
from pathlib import Path

import click

from grader.cli.options import guard
from grader.core.text import visible


@click.command("deliver")
@click.argument("report", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--repository", envvar="STUDENT_REPOSITORY", required=True, metavar="OWNER/NAME",
              help="the student's repository [env: STUDENT_REPOSITORY]")
@click.option("--sha", envvar="STUDENT_SHA", required=True, metavar="SHA",
              help="the graded commit [env: STUDENT_SHA]")
@click.option("--mode", type=click.Choice(["check-run", "comment"]), default="check-run",
              show_default=True, help="a check run on the commit, or a comment")
@click.option("--issue", type=int, default=None, metavar="N",
              help="with --mode comment: comment on issue or pull request N, not the commit")
@click.option("--api", envvar="GITHUB_API_URL", default="https://api.github.com",
              show_default=True, help="the GitHub API [env: GITHUB_API_URL]")
@click.option("--grader-failed", is_flag=True, help="the grader failed on this commit")
def deliver_command(report: Path, repository: str, sha: str, mode: str, issue: int | None,
                    api: str, grader_failed: bool) -> None:
    """Post REPORT's feedback (`grade ci --out REPORT`) on the student's commit: a check run
    with the Markdown feedback as its summary, or a comment. Token: $GITHUB_TOKEN."""
    from grader.integrations.deliver import Target, deliver

    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or ""
    target = guard(lambda: Target(repository, sha, token, mode, issue, api))
    reply = guard(lambda: deliver(report, target, failed=grader_failed))
    click.echo(f"Feedback delivered: {visible(reply.get('html_url') or reply.get('url') or mode)}")


@click.command("feedback")
@click.argument("out_dir", metavar="OUT", type=click.Path(path_type=Path, file_okay=False,
                                                          exists=True))
@click.option("--format", "fmt", type=click.Choice(["moodle", "canvas", "folder"]),
              required=True, help="Moodle's feedback-files zip, Canvas's per-submission "
              "files, or a folder per student")
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=None, help="CSV with student, name, lms_id (Moodle and Canvas need lms_id)")
@click.option("--to", type=click.Path(path_type=Path), default=None,
              help="where to write [default: OUT/feedback-FORMAT.zip, OUT/feedback/]")
def feedback_command(out_dir: Path, fmt: str, roster: Path | None, to: Path | None) -> None:
    """Pack each student's feedback pages in OUT (a `grade` output) for the LMS."""
    from grader.commands.feedback import FeedbackRequest, pack_feedback

    guard(lambda: pack_feedback(FeedbackRequest(out_dir, fmt, roster, to), echo=click.echo))

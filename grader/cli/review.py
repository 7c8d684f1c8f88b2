"""The ``grade review`` verb (its own module: grader/cli/main.py is long enough)."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.options import guard


@click.command("review")
@click.argument("out_dir", metavar="OUT", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="the address to listen on (anything but 127.0.0.1 lets others reach it)")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="the port (0: any free one; the printed URL says which)")
@click.option("--db", "db_url", default=None, metavar="URL",
              help="the review database [default: sqlite OUT/review.db]; a "
                   "postgresql:// URL when TAs grade from different machines")
@click.option("--names", "show_names", is_flag=True,
              help="show students' ids (default: anonymous, 'Submission 3')")
def review_command(out_dir: Path, host: str, port: int, db_url: str | None,
                   show_names: bool) -> None:
    """Grade the written answers in OUT with a local web app for TAs.

    Prints the URL with its token and serves until interrupted (Ctrl-C); every request
    needs the token. Grades are kept in the review database; grade SOURCE --out OUT
    merges them into grades.csv, the gradebook, results.json and the feedback.
    """
    from grader.commands.review import ReviewRequest, serve

    request = ReviewRequest(out_dir, host, port, db_url, show_names)
    guard(lambda: serve(request, echo=lambda line: click.echo(line)))

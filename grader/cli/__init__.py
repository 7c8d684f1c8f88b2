"""The ``grade`` command line: Click parsing only.

main.py declares the verbs, options.py the shared flags. ``main`` is imported on first call, so
``python -m grader.cli.main`` runs that module once, without runpy's double-import warning.
The console script ends through :func:`grader.cli.exit.finish` (no interpreter teardown).
"""


def main() -> None:
    """The ``grade`` console script (``grader.cli:main``)."""
    from grader.cli.exit import finish
    from grader.cli.main import main as grade

    try:
        grade()
    except SystemExit as exc:
        finish(exc.code)
    finish(0)


__all__ = ["main"]

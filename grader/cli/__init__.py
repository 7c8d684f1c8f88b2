"""The ``grade`` command line: Click parsing only.

main.py declares the verbs, options.py the shared flags. ``main`` is imported on first call, so
``python -m grader.cli.main`` runs that module once, without runpy's double-import warning.
"""


def main() -> None:
    """The ``grade`` console script (``grader.cli:main``)."""
    from grader.cli.main import main as grade

    grade()


__all__ = ["main"]

"""The ``grade`` command line: Click parsing only.

main.py declares the verbs, options.py the shared flags."""

from grader.cli.main import main

__all__ = ["main"]

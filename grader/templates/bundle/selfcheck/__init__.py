"""Self-check: run this course's public tests on your own notebook, on your own machine.

In a notebook cell (after running the cells that define your functions)::

    from selfcheck import check
    check("relu")          # the public checks of one function
    check()                # every public check of this notebook's assignment

From a terminal, at the top of your repository::

    python -m selfcheck    # every assignment folder's notebook, a summary per function
    python -m pytest       # the same public tests, pytest's own way

Only public tests run here: easy cases you can check by hand. Passing them is a good sign,
not a guarantee; the course's grader uses more inputs. Your code runs in your own Python
process (it is your own code on your own machine).

One code path with the grader: ``vendor/grader/`` holds copies of the grader's own modules
(``grade release`` copies them unchanged): the notebook is read and loaded exactly as the
grader loads it (cells in any order, a class below its first use, an unfinished stub beside
your definition), and the public tests run with the grader's own fixtures and verdicts.
"""

from __future__ import annotations

import sys
from pathlib import Path

_VENDOR = str(Path(__file__).resolve().parent / "vendor")
if _VENDOR not in sys.path:
    sys.path.insert(0, _VENDOR)

from selfcheck.kernel import CheckResult, check  # noqa: E402
from selfcheck.public import ASSIGNMENTS, Outcome, check_file, find_notebook  # noqa: E402

__all__ = ["ASSIGNMENTS", "CheckResult", "Outcome", "check", "check_file", "find_notebook"]

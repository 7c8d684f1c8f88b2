"""The budgets' margin: no correct code times out with the machine loaded by a parallel run.

Runs README's margin benchmark (bench/margin.py): every equivalent implementation in
tests/equivalents/ (loop-based ones included) and the correct demo students are graded at the
strongest level here with the budgets measured from the reference, while another grading run
(``grade`` on a class of demo copies, ``--jobs 2``) keeps the machine busy throughout. The
bench exits 1 when correct code scored below 100, a budget was not the measured one, or the
machine was not loaded; the assertion here is on those checks and the count of timeouts (none),
never on seconds.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from grader.core.course import DEFAULT_ROOT

pytestmark = pytest.mark.slow  # a benchmark of the test budgets


def test_no_correct_code_times_out_on_a_loaded_machine() -> None:
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "margin.py")],
                         capture_output=True, text=True, timeout=1200, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "; timed out: 0 of " in run.stdout, run.stdout[-3000:]

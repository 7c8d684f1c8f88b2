"""bench/latency.py runs end to end and prints each path's ratio to the torch import and the
phases (its figures are a report on a shared machine, never asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.course import DEFAULT_ROOT


@pytest.mark.slow  # a benchmark: cold starts of the CLI and the torch import
def test_latency_bench_prints_ratios_to_the_torch_import_and_phases(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "latency.py"),
                          "--repeat", "1", "--paths", "ci", "--work", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert re.search(r"^torch +\d+\.\d\d +1\.00 ", run.stdout, re.M), run.stdout
    ratio = re.search(r"^ci +(\d+\.\d\d) +(\d+\.\d\d) ", run.stdout, re.M)
    assert ratio is not None and float(ratio.group(2)) > 0, run.stdout
    phases = re.search(r"^phases of ci: (.*)$", run.stdout, re.M)
    assert phases is not None, run.stdout
    for phase in ("import the CLI", "discovery", "prestart", "extraction", "zygote start",
                  "suites", "reports", "wall", "start and exit"):
        assert phase in phases.group(1), phases.group(1)
    assert "loadavg before" in run.stdout and "loadavg after" in run.stdout
    # the ci path really graded: its outputs are in the work folder
    assert (tmp_path / "out_ci0" / "ci-summary.md").is_file()

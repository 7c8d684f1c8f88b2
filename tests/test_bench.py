"""The benchmark runs end to end (its figures are a report, never asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from grader.core.course import DEFAULT_ROOT

pytestmark = pytest.mark.slow  # benchmarks


def test_bench_runs_and_its_baselines_score_as_the_grader_does(tmp_path) -> None:
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "run.py"), "--students",
                          "2", "--sample", "2", "--no-nbconvert", "--work", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "scores equal to the grader's on 2/2 sampled" in run.stdout
    for target in ("naive baseline's throughput", "isolation overhead", "memory flat in N",
                   "realistic class wall <= 1.5x the clean class's",
                   "clean class core time per submission <= 100 ms", "cache write (key and entry)",
                   "whole run core time per clean submission <= 1.25x the in-process floor's",
                   "walls from runs that sample no memory"):
        assert target in run.stdout
    # the realistic class has one student with an endless function and one with all endless:
    # each costs the grader at least one wait (a count, not a time)
    waits = re.search(r"the grader waited out (\d+) budgets", run.stdout)
    assert waits is not None and int(waits.group(1)) >= 2, run.stdout[-2000:]


def test_the_reports_bench_runs() -> None:
    """bench/reports.py (README's rendering figure) runs; its figures are not asserted."""
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "reports.py"),
                          "--students", "1", "--jobs", "1"],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "1 students x 4 assignments = 4 submissions" in run.stdout
    assert "rendering / grading = " in run.stdout


def test_the_isolation_bench_prints_each_sandbox_and_the_difference() -> None:
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "isolation.py"),
                          "--repeat", "1", "--students", "carol"],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rows = {match.group(1): [float(v) for v in match.group(2).split()] for match in
            re.finditer(r"^carol, (\w+) +([\d. ]+)$", run.stdout, re.M)}
    assert "inprocess" in rows and len(rows) == 2, run.stdout
    assert rows["inprocess"][2:4] == [0.0, 0.0]  # no zygote, no worker process
    warm = next(values for level, values in rows.items() if level != "inprocess")
    assert warm[0] > 0 and warm[4] > 0, run.stdout  # a wall and the machine's CPU, per file
    assert re.search(r"isolation, machine CPU +-?\d+\.\d +\(\d+\.\d\dx", run.stdout), run.stdout

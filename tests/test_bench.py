"""The benchmark runs end to end (its figures are a report, never asserted here)."""

from __future__ import annotations

import subprocess
import sys

from grader.course import DEFAULT_ROOT


def test_bench_runs_and_its_baselines_score_as_the_grader_does(tmp_path) -> None:
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "run.py"), "--students",
                          "2", "--sample", "2", "--no-nbconvert", "--work", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "scores equal to the grader's on 2/2 sampled" in run.stdout
    for target in ("naive baseline's throughput", "isolation overhead", "memory flat in N"):
        assert target in run.stdout


def test_the_reports_bench_runs() -> None:
    """bench/reports.py (README's rendering figure) runs; its figures are not asserted."""
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "reports.py"),
                          "--students", "1", "--jobs", "1"],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "1 students x 4 assignments = 4 submissions" in run.stdout
    assert "rendering / grading = " in run.stdout

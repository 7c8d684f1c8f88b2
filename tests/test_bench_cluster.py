"""bench/cluster.py runs end to end on a tiny class (its figures are a report, never asserted)."""

from __future__ import annotations

import re
import subprocess
import sys

from grader.core.course import DEFAULT_ROOT, load_course


def test_cluster_bench_runs_and_both_ways_score_every_submission_alike(tmp_path) -> None:
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "cluster.py"),
                          "--students", "2", "--rounds", "1", "--work", str(tmp_path)],
                         capture_output=True, text=True, timeout=1200, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    suites = sum(1 for a in load_course(DEFAULT_ROOT).assignments if a.hidden_suite.exists())
    assert f"scores equal in every run on {2 * suites}/{2 * suites}" in run.stdout
    assert re.search(r"\[(PASS|FAIL)\] 2-worker local cluster at most 10% slower than "
                     r"--jobs 2: \d+\.\d\dx", run.stdout), run.stdout

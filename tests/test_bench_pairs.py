"""bench/pairs.py grades one class with two versions of the grader, alternately, and prints
each round, the medians and their ratio, and whether every grade agrees (its figures are a
report on a shared machine, never asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.course import DEFAULT_ROOT


@pytest.mark.slow  # a benchmark: four cold runs of `grade`
def test_pairs_bench_alternates_two_revisions_and_compares_their_grades(tmp_path: Path
                                                                        ) -> None:
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "pairs.py"), "HEAD",
                          "HEAD", "--students", "1", "--rounds", "2", "--work", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rounds = re.findall(r"^ +\d +(\d+\.\d) / +(\d+\.\d) s +(\d+\.\d) / +(\d+\.\d) s$",
                        run.stdout, re.M)
    assert len(rounds) == 2 and all(float(v) > 0 for row in rounds for v in row), run.stdout
    assert re.search(r"^after \(HEAD\) / before \(HEAD\): wall \d+\.\d\dx, CPU \d+\.\d\dx$",
                     run.stdout, re.M), run.stdout
    assert "grades: the same for every student" in run.stdout
    assert run.stderr.count("pairs: round") == 4
    # both versions graded the class in their own worktree, which is gone afterwards
    assert (tmp_path / "class").is_dir() and not (tmp_path / "tree_before").exists()
    listed = subprocess.run(["git", "-C", str(DEFAULT_ROOT), "worktree", "list"],
                            capture_output=True, text=True, check=True).stdout
    assert str(tmp_path) not in listed


def test_a_revision_that_is_not_there_stops_the_bench_with_gits_message(tmp_path: Path
                                                                        ) -> None:
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "pairs.py"),
                          "no-such-revision", "HEAD", "--students", "1", "--rounds", "1",
                          "--work", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 1
    assert "no-such-revision" in run.stderr and "Traceback" not in run.stderr

"""Fair CPU (issue 22): every worker's cgroup has the same CPU share, so one submission that
spins many processes (each in its own session) competes as one worker, and its honest
neighbours, graded in parallel, lose nothing.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from helpers.resources import needs

from grader.core.course import DEFAULT_ROOT
from grader.sandbox import cgroups

ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice" / "activations.ipynb"
GRADE = [sys.executable, "-m", "grader.cli"]
FACTORY = cgroups.factory()
NO_CPU_SHARE = FACTORY is None or "cpu" not in FACTORY.controllers
#: relu, on its first call, forks a child that forks 59 more, all spinning, each in its own
#: session, for as long as the worker lives (until its cgroup is killed); relu returns at once
#: and is correct.
SPIN = ("def relu(x):\n"
        "    import os\n"
        "    if not getattr(relu, 'spun', False):\n"
        "        relu.spun = True\n"
        "        if os.fork() == 0:\n"
        "            for _ in range(59):\n"
        "                try:\n"
        "                    if os.fork() == 0:\n"
        "                        break\n"
        "                except OSError:\n"
        "                    break\n"
        "            os.setsid()\n"
        "            while True:\n"
        "                pass\n"
        "    return np.maximum(0, x)\n")


# without it, the stated fallback: no CPU share, each process competes on its own
@needs("no cgroup cpu controller here" if NO_CPU_SHARE else None, "cgroups (cpu controller)")
def test_a_worker_cgroup_has_a_cpu_share_and_counts_its_cpu_time() -> None:
    assert FACTORY is not None
    cgroup = FACTORY.create(512 * 1024 * 1024, 64)
    assert cgroup is not None and cgroup.cpu_share
    try:
        before = cgroup.cpu_seconds()
        assert before is not None
        spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
        subprocess.run([*cgroups.attach_prefix(cgroup), sys.executable, "-c", spin], check=True,
                       timeout=120)
        used = cgroup.cpu_seconds()
        assert used is not None and used - before >= 0.3  # the child's CPU time, counted
    finally:
        cgroup.remove()


@pytest.mark.slow  # sixty spinning processes waited out beside a class
@needs("no cgroup cpu controller here" if NO_CPU_SHARE else None, "cgroups (cpu controller)")
def test_sixty_spinning_processes_cost_honest_neighbours_nothing(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    for name in ("honest1", "honest2", "honest3"):
        (submissions / name).mkdir(parents=True)
        shutil.copy(ALICE, submissions / name / "activations.ipynb")
    notebook = nbformat.read(ALICE, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(SPIN))
    (submissions / "aspinner").mkdir()
    nbformat.write(notebook, submissions / "aspinner" / "activations.ipynb")
    started = time.monotonic()
    done = subprocess.run([*GRADE, str(submissions), "--out", str(tmp_path / "out"), "-q",
                           "--assignment", "activations", "--jobs", "2"],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        scores = {row["student"]: row["score"] for row in csv.DictReader(handle)}
    assert {s: scores[s] for s in ("honest1", "honest2", "honest3")} == \
        {"honest1": "100", "honest2": "100", "honest3": "100"}, (scores, done.stdout)
    assert "aspinner" in scores and time.monotonic() - started < 900

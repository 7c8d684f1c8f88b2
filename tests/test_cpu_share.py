"""Fair CPU (issue 22): every worker's cgroup has the same CPU share, so one submission that
spins many processes (each in its own session) competes as one worker, and its honest
neighbours, graded in parallel, lose nothing.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from helpers.resources import BWRAP_PROBLEM, needs, require

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.settings import Settings
from grader.run.local import close_sandboxes, grade_jobs
from grader.sandbox import cgroups
from grader.submission.grade import Job

ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice" / "activations.ipynb"
ACTIVATIONS = next(a for a in load_course(DEFAULT_ROOT).assignments if a.id == "activations")
GRADE = [sys.executable, "-m", "grader.cli"]
FACTORY = cgroups.factory()
NO_CPU_SHARE = FACTORY is None or "cpu" not in FACTORY.controllers
SPINNERS = 60
#: Every activation's first call in a worker forks a child that forks 59 more (all blocked on
#: a pipe until the last fork, so the forking is not slowed by the spinning); then all 60 spin,
#: each in its own session, and the call waits (30 s) while they do: the worker lives under
#: full load until its test's budget, counted in its cgroup's CPU time, runs out and it is
#: killed with everything it started. The next worker's first call does it again. The
#: functions return plain (not always right) values: only the honest students' scores matter.
SPIN = """
import os
import time
import numpy as np
SPUN = []


def spin():
    if SPUN:
        return
    SPUN.append(1)
    r, w = os.pipe()
    done_r, done_w = os.pipe()
    if os.fork() == 0:
        child = False
        for _ in range(59):
            try:
                if os.fork() == 0:
                    child = True
                    break
            except OSError:
                break
        os.close(w)
        if child:
            os.read(r, 1)
        else:
            os.write(done_w, b"x")
        os.setsid()
        while True:
            pass
    os.close(w)
    os.read(done_r, 1)
    time.sleep(30)


def relu(x):
    spin()
    return np.maximum(0, x)


def relu_grad(x):
    spin()
    return (x > 0).astype(float)


def sigmoid(x):
    spin()
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    spin()
    return sigmoid(x) * (1 - sigmoid(x))


def tanh(x):
    spin()
    return np.tanh(x)


def tanh_grad(x):
    spin()
    return 1 - np.tanh(x) ** 2


def softmax(x):
    spin()
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
"""


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


class MostMembers:
    """Watches every worker cgroup under the pids tree while grading runs: the most processes
    one of them held at once (``cgroup.procs``: processes, not threads)."""

    def __init__(self) -> None:
        assert FACTORY is not None
        self.base = FACTORY.bases["pids" if FACTORY.version == 1 else ""]
        self.most = 0
        self.most_spinning = 0  # members running or runnable (state R) that lead a session
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self) -> None:
        ours: dict[str, bool] = {}  # cgroup name -> made by this test's grading (a machine
        while not self.stop.is_set():  # may run other graders beside it)
            for folder in self.base.glob(cgroups.PREFIX + "*"):
                if folder.name not in ours:
                    ours[folder.name] = _descends(int(folder.name.split("-")[2]))
                if not ours[folder.name]:
                    continue
                try:
                    members = (folder / "cgroup.procs").read_text().split()
                except OSError:
                    continue
                self.most = max(self.most, len(members))
                if len(members) >= SPINNERS:
                    self.most_spinning = max(self.most_spinning, _spinning(members))
            time.sleep(0.02)

    def __enter__(self) -> MostMembers:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _spinning(members: list[str]) -> int:
    """How many of ``members`` are running or waiting for a CPU (state R) and lead a session
    of their own (the spinners; the worker and the zygote sleep, the spinners' blocked
    siblings wait on a pipe)."""
    count = 0
    for pid in members:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] == "R" and fields[3] == pid:  # state, then ppid, pgrp, session
            count += 1
    return count


def _descends(pid: int) -> bool:
    """Whether ``pid`` is this process or one of its descendants (the grading pool's)."""
    while pid > 1:
        if pid == os.getpid():
            return True
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        pid = int(status.split("PPid:")[1].split()[0])
    return False


def _class(tmp_path: Path) -> list[Job]:
    """aspinner (graded first) and three honest copies of alice's notebook."""
    notebook = nbformat.read(ALICE, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(SPIN))
    jobs = []
    for name in ("aspinner", "honest1", "honest2", "honest3"):
        path = tmp_path / name / "activations.ipynb"
        path.parent.mkdir(parents=True)
        if name == "aspinner":
            nbformat.write(notebook, path)
        else:
            shutil.copy(ALICE, path)
        jobs.append(Job(name, ACTIVATIONS, path))
    return jobs


@pytest.mark.slow
@needs("no cgroup cpu controller here" if NO_CPU_SHARE else None, "cgroups (cpu controller)")
@pytest.mark.parametrize(("level", "run"), [("bwrap", 0), ("bwrap", 1), ("bwrap", 2),
                                            ("process", 0), ("process", 1)])
def test_sixty_spinners_beside_three_honest_students_cost_them_nothing(
        tmp_path: Path, level: str, run: int) -> None:
    """The first pass of ``grade --jobs 2`` (no confirmation: a timeout here would count):
    the spinner's worker really runs 60 spinning processes at once (counted in its cgroup:
    not stopped by the pids cap, which is 64 processes and threads per worker), and every
    honest student scores full marks without one wait, run after run, at both levels."""
    if level == "bwrap":
        require(BWRAP_PROBLEM, "bubblewrap")
    settings = Settings(course_root=DEFAULT_ROOT, jobs=2, sandbox=level)
    try:
        with MostMembers() as watch:
            results = grade_jobs(_class(tmp_path), settings)
    finally:
        close_sandboxes()
    # 60 spinners + the worker (+ the warm zygote, which shares its slot's cgroup)
    print(f"{level} run {run}: most processes in one worker cgroup: {watch.most}, "
          f"{watch.most_spinning} of them spinning; "
          + ", ".join(f"{r.student} {r.score:g} ({r.waits} waits)" for r in results))
    assert watch.most_spinning >= SPINNERS, \
        f"only {watch.most_spinning} spinning processes ran at once ({watch.most} in all)"
    spinner, *honest = results
    assert spinner.student == "aspinner" and spinner.waits > 0  # it did hurt itself
    for result in honest:
        assert (result.score, result.waits, result.error) == (ACTIVATIONS.max_score, 0, None), \
            (result.student, [(t.name, t.message) for t in result.tests if t.score < t.max_score])


@pytest.mark.slow
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

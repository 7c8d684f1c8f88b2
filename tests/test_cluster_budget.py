"""On a Dask cluster too, one time budget per student and assignment (issue 22): a student's
files for one assignment travel as one task and are graded one after another on one worker
within one budget, as a local run grades them (grader.run.budget)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.resources import needs_bwrap

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.settings import Limits, Settings
from grader.run.budget import NOT_RUN
from grader.run.cluster.client import _submitter
from grader.run.cluster.course import CoursePlugin, grader_build, pack_course
from grader.run.cluster.task import grade_group_task, grade_task, make_task
from grader.run.local import close_sandboxes
from grader.submission.grade import Job

COURSE = load_course(DEFAULT_ROOT)
ACTIVATIONS = COURSE.get("activations")
ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice" / "activations.ipynb"


class Recorder:
    """A stand-in Dask client that records what is submitted."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, object]] = []

    def submit(self, function: object, task: object, **options: object) -> int:
        self.calls.append((function, task))
        return len(self.calls)


def test_a_students_files_for_one_assignment_are_one_task() -> None:
    jobs = [Job("mallory", ACTIVATIONS, Path(f"/x/activations_{n}.py")) for n in range(3)]
    jobs.append(Job("alice", ACTIVATIONS, ALICE))
    settings = Settings(course_root=DEFAULT_ROOT, secret="k")
    client = Recorder()
    submit = _submitter(client, jobs, [[0, 1, 2], [3]], lambda _: settings, "d" * 32)
    submit(0), submit(1)
    (group_function, tasks), (single_function, task) = client.calls
    assert group_function is grade_group_task and single_function is grade_task
    assert [t["file_name"] for t in tasks] == ["activations_0.py", "activations_1.py",
                                              "activations_2.py"]
    assert task["student"] == "alice"


class FakeWorker:
    def __init__(self) -> None:
        self.address = "tcp://fake:1"
        self.state = type("State", (), {"nthreads": 1})()


def _hanging(version: int) -> bytes:
    cells = json.loads(ALICE.read_text())["cells"]
    code = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return code.replace("def sigmoid(x):\n", f"def sigmoid(x):\n    while True:  # {version}\n"
                        "        pass\n").encode()


@pytest.mark.slow
@needs_bwrap
def test_a_students_hanging_files_share_one_budget_on_a_worker(tmp_path: Path) -> None:
    """Four files, each hanging in its own sigmoid (about 4 s of waits each, test budgets of
    1 s): with a student total of 6 s the worker grades the first ones and does not run the
    rest, as locally; each file alone would have had the whole 40 s submission budget."""
    pack = pack_course(COURSE)
    plugin = CoursePlugin(pack, grader_build())
    plugin.setup(FakeWorker())
    limits = Limits(test_timeout_s=1.0, submission_timeout_s=40.0, student_timeout_s=6.0)
    settings = Settings(course_root=DEFAULT_ROOT, sandbox="bwrap", limits=limits, secret="k")
    tasks = []
    for n in range(4):
        path = tmp_path / f"activations_{n}.py"
        path.write_bytes(_hanging(n))
        tasks.append(make_task(Job("mallory", ACTIVATIONS, path), settings, pack.digest))
    try:
        envelope = json.loads(grade_group_task(tasks))
    finally:
        close_sandboxes()
        plugin.teardown(FakeWorker())
    results = envelope["results"]
    assert [r["student"] for r in results] == ["mallory"] * 4
    not_run = [r for r in results if (r.get("error") or "").startswith(NOT_RUN)]
    ran = [r for r in results if r not in not_run]
    assert ran and not_run, [(r.get("error"), r.get("waits")) for r in results]
    assert ran[0]["waits"] >= 1
    assert "6 s the grader gives all the files you hand in for activations" in \
        not_run[0]["error"]

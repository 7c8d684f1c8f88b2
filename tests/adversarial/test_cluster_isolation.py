"""On a Dask cluster student code can neither run outside bubblewrap nor reach the scheduler.

A cluster run asked for the process level is refused by the client, and a worker refuses a
task at any level but bwrap (one line each). At the bwrap level a student that connects to
the scheduler's own address and port (``cluster/reach_scheduler.py``) cannot: the control run
at the process level, on this machine, shows that the same code reaches it there.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

import pytest
from distributed import LocalCluster
from distributed.security import Security
from helpers.resources import needs_bwrap

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ConfigError
from grader.core.results import RunResult
from grader.core.settings import ClusterSettings, Settings
from grader.run.cluster.client import ClusterExecutor
from grader.run.cluster.course import CoursePlugin, Refused, grader_build, pack_course
from grader.run.cluster.task import grade_task, make_task
from grader.run.grading import close_sandboxes, grade_folder
from grader.sandbox.bwrap import available as bwrap_problem
from grader.submission.grade import Job

ATTACK = Path(__file__).resolve().parent / "cluster" / "reach_scheduler.py"
COURSE = load_course(DEFAULT_ROOT)
BWRAP_PROBLEM = bwrap_problem()


class FakeWorker:
    """What CoursePlugin.setup reads of a Dask worker."""

    address = "tls://fake:1"
    state = type("State", (), {"nthreads": 1})()


def certificates(folder: Path) -> tuple[Security, dict[str, Path]]:
    security = Security.temporary()
    files = {}
    for name, pem in (("ca", security.tls_ca_file), ("cert", security.tls_client_cert),
                      ("key", security.tls_client_key)):
        files[name] = folder / f"{name}.pem"
        files[name].write_text(pem)
    return security, files


def test_a_process_level_cluster_run_is_refused() -> None:
    cluster = ClusterSettings("tls://head:8786", Path("ca"), Path("cert"), Path("key"))
    with pytest.raises(ConfigError, match=r"^--sandbox process: a Dask cluster grades only "
                                          r"at the bwrap level"):
        ClusterExecutor(cluster, COURSE, Settings(course_root=DEFAULT_ROOT, sandbox="process"))


def test_a_worker_refuses_a_task_at_the_process_level(tmp_path: Path) -> None:
    pack = pack_course(COURSE)
    plugin = CoursePlugin(pack, grader_build())
    plugin.setup(FakeWorker())
    try:
        notebook = tmp_path / "activations.py"
        notebook.write_text("def relu(x):\n    return x\n")
        job = Job("mallory", COURSE.get("activations"), notebook, "file name")
        task = make_task(job, Settings(course_root=DEFAULT_ROOT, sandbox="process"), pack.digest)
        with pytest.raises(Refused, match="grades only at the bwrap level .* not process"):
            grade_task(task)
    finally:
        plugin.teardown(FakeWorker())
        close_sandboxes()


def _attack(folder: Path, address: str) -> Path:
    where = urlparse(address)
    subs = folder / "submissions"
    (subs / "mallory").mkdir(parents=True)
    text = ATTACK.read_text().replace("@@HOST@@", str(where.hostname)).replace(
        "@@PORT@@", str(where.port))
    (subs / "mallory" / "activations.py").write_text(text)
    return subs


def _said(run: RunResult) -> str:
    result = next(r for r in run.results if r.student == "mallory")
    return next((line for line in result.output.splitlines()
                 if line.startswith(("REACHED", "UNREACHABLE"))), result.output[-300:])


@pytest.mark.slow  # a Dask cluster
@needs_bwrap
def test_student_code_on_a_cluster_cannot_reach_the_scheduler(tmp_path: Path) -> None:
    security, files = certificates(tmp_path)
    settings = Settings(course_root=DEFAULT_ROOT, secret="cluster", sandbox="bwrap", jobs=1)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, security=security,
                      dashboard_address=None, host="127.0.0.1") as cluster:
        address = cluster.scheduler_address
        subs = _attack(tmp_path / "cluster", address)
        on_cluster = replace(settings, cluster=ClusterSettings(address, files["ca"],
                                                               files["cert"], files["key"]))
        run = grade_folder(subs, COURSE, on_cluster, only=("activations",))
        assert _said(run).startswith("UNREACHABLE"), _said(run)
        assert json.dumps([r.sandbox for r in run.results]) == '["bwrap"]'
        # the control: the same code, graded here at the process level, reaches the port
        local = grade_folder(_attack(tmp_path / "local", address), COURSE,
                             replace(settings, sandbox="process"), only=("activations",))
        assert _said(local) == "REACHED"
    close_sandboxes()

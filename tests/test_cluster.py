"""Grading on a Dask cluster (grader.run.cluster): settings, what travels, and the demo class on a
LocalCluster of two worker processes graded exactly as a local run grades it.

tests/test_cluster_cli.py runs the real `dask scheduler` / `dask worker` commands and kills one.
"""

from __future__ import annotations

import csv
import json
import re
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from distributed import LocalCluster
from distributed.security import Security

from grader.commands.grade import RunRequest, run
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ClusterError, ConfigError, CourseError, Refused
from grader.core.results import RunResult, SubmissionResult, TestResult
from grader.core.settings import ClusterSettings, Settings, cluster_from, local_jobs
from grader.run.cache import ResultCache, result_to_dict
from grader.run.cluster.client import RETRIES, ClusterExecutor, _submitter
from grader.run.cluster.course import (
    CoursePlugin,
    files_digest,
    grader_build,
    installed,
    pack_course,
    unpack,
)
from grader.run.cluster.task import grade_task, make_task
from grader.submission.grade import Job

pytestmark = pytest.mark.slow  # a Dask cluster

DEMO = DEFAULT_ROOT / "demo" / "submissions"
GRADE = [sys.executable, "-m", "grader.cli"]
NO_TLS = {"tls_ca_file": None, "tls_cert": None, "tls_key": None}


# --------------------------------------------------------------------------- settings

def pem_files(folder: Path) -> dict[str, str]:
    files = {}
    for name in NO_TLS:
        files[name] = str(folder / f"{name}.pem")
        Path(files[name]).write_text("pem")
    return files


def test_scheduler_address_from_flag_or_environment(tmp_path: Path) -> None:
    files = pem_files(tmp_path)
    paths = {name: Path(path) for name, path in files.items()}
    from_env = cluster_from(None, files, env={"DASK_SCHEDULER_ADDRESS": "tls://head:8786"})
    assert from_env == ClusterSettings("tls://head:8786", **paths)
    # the flag wins; an empty flag grades locally even with the variable set
    assert cluster_from("tls://a:1", files, env={"DASK_SCHEDULER_ADDRESS": "tls://b:2"}) \
        == ClusterSettings("tls://a:1", **paths)
    assert cluster_from("", NO_TLS, env={"DASK_SCHEDULER_ADDRESS": "tls://b:2"}) is None
    assert cluster_from(None, NO_TLS, env={}) is None


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "tcp://head:1"])
def test_an_unauthenticated_scheduler_is_refused_even_on_loopback(address: str) -> None:
    with pytest.raises(ConfigError, match=r"^--scheduler: tcp://.* is not authenticated: .*"
                                          r"use tls://HOST:PORT .* even on the loopback"):
        cluster_from(address, NO_TLS, env={})
    with pytest.raises(ConfigError, match="not authenticated"):
        ClusterExecutor(ClusterSettings("tcp://127.0.0.1:8786"), load_course(DEFAULT_ROOT),
                        Settings(course_root=DEFAULT_ROOT))


@pytest.mark.parametrize(("flag", "env", "source"), [
    ("http://head:8786", {}, "--scheduler"),
    ("head", {}, "--scheduler"),
    ("tcp://head:99999", {}, "--scheduler"),
    (None, {"DASK_SCHEDULER_ADDRESS": "head:port"}, "DASK_SCHEDULER_ADDRESS (environment)"),
])
def test_a_bad_address_names_its_source(flag, env, source) -> None:
    with pytest.raises(ConfigError, match=rf"^{re.escape(source)}: expected tls://HOST:PORT"):
        cluster_from(flag, NO_TLS, env=env)


def test_tls_needs_its_three_files(tmp_path: Path) -> None:
    files = pem_files(tmp_path)
    with pytest.raises(ConfigError, match="needs --tls-ca-file, --tls-cert, --tls-key"):
        cluster_from("tls://head:8786", NO_TLS, env={})
    tls = cluster_from("tls://head:8786", files, env={})
    assert tls is not None and tls.tls and tls.tls_key == Path(files["tls_key"])
    from_env = cluster_from("tls://head:8786", NO_TLS, env={
        "GRADER_TLS_CA_FILE": files["tls_ca_file"], "GRADER_TLS_CERT": files["tls_cert"],
        "GRADER_TLS_KEY": files["tls_key"]})
    assert from_env == tls
    with pytest.raises(ConfigError, match="^--tls-key: .*missing.pem: cannot read it"):
        cluster_from("tls://head:8786", {**files, "tls_key": str(tmp_path / "missing.pem")},
                     env={})
    with pytest.raises(ConfigError, match="^--tls-ca-file: only used with --scheduler"):
        cluster_from(None, {**NO_TLS, "tls_ca_file": files["tls_ca_file"]}, env={})


TLS_CLUSTER = ClusterSettings("tls://head:8786", Path("ca.pem"), Path("cert.pem"),
                              Path("key.pem"))


def test_jobs_and_auto_device_are_local_settings() -> None:
    cluster = TLS_CLUSTER
    assert local_jobs(None, cluster) == 1 and local_jobs(3, None) == 3
    with pytest.raises(ConfigError, match="^--jobs: not used with --scheduler"):
        local_jobs(2, cluster)
    with pytest.raises(ConfigError, match="^--device auto: with --scheduler"):
        Settings(course_root=DEFAULT_ROOT, device="auto", cluster=cluster)


def test_cli_reports_a_bad_scheduler_as_a_usage_error(tmp_path: Path) -> None:
    files = pem_files(tmp_path)
    run_ = subprocess.run([*GRADE, str(DEMO), "--out", str(tmp_path), "--scheduler",
                           "tls://127.0.0.1:1", "--tls-ca-file", files["tls_ca_file"],
                           "--tls-cert", files["tls_cert"], "--tls-key", files["tls_key"],
                           "--jobs", "2"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert run_.returncode == 2
    assert run_.stderr.strip() == ("grade: error: --jobs: not used with --scheduler (each Dask "
                                   "worker process grades one submission at a time: start "
                                   "more workers)")


# --------------------------------------------------------------------------- what travels

def test_the_course_travels_without_references_or_secret_into_a_private_folder() -> None:
    course = load_course(DEFAULT_ROOT)
    pack = pack_course(course)
    assert "solutions/hidden/test_activations.py" in pack.files
    assert "assignments/training/assignment.toml" in pack.files
    assert not [n for n in pack.files if n.endswith(".ipynb") or "secret" in n], pack.files
    root = unpack(pack.files, pack.digest)
    try:
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        for name, data in pack.files.items():
            assert (root / name).read_bytes() == data
        assert [a.id for a in load_course(root).assignments] == \
            [a.id for a in course.assignments]
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=True)
    with pytest.raises(Refused, match="do not match their digest"):
        unpack({**pack.files, "solutions/hidden/test_activations.py": b"# edited"}, pack.digest)
    bad = {"../escape.py": b"x"}
    with pytest.raises(Refused, match="bad path"):
        unpack(bad, files_digest(bad))


class FakeWorker:
    """What CoursePlugin.setup reads of a Dask worker."""

    def __init__(self, nthreads: int) -> None:
        self.address = "tcp://fake:1"
        self.state = type("State", (), {"nthreads": nthreads})()


def test_a_worker_refuses_a_stale_course_another_grader_or_several_threads(
        tmp_path: Path) -> None:
    course = load_course(DEFAULT_ROOT)
    pack = pack_course(course)
    with pytest.raises(Refused, match="runs nn-grader .* the client 0.0.0"):
        CoursePlugin(pack, "0.0.0+other").setup(FakeWorker(1))
    with pytest.raises(Refused, match="has 4 threads: start workers with --nthreads 1"):
        CoursePlugin(pack, grader_build()).setup(FakeWorker(4))
    plugin = CoursePlugin(pack, grader_build())
    plugin.setup(FakeWorker(1))
    try:
        notebook = tmp_path / "activations.ipynb"
        notebook.write_bytes((DEMO / "alice" / "activations.ipynb").read_bytes())
        job = Job("alice", course.get("activations"), notebook, "file name")
        secret = "the-course-secret-7f3a"
        task = make_task(job, Settings(course_root=DEFAULT_ROOT, secret=secret), pack.digest)
        assert task["data"] == notebook.read_bytes()
        assert secret not in json.dumps({k: v for k, v in task.items() if k != "data"})
        with pytest.raises(Refused, match="does not hold the course"):
            grade_task({**task, "course": "0" * 32})
        with pytest.raises(Refused, match="the client 0.0.0"):
            grade_task({**task, "build": "0.0.0+other"})
        suite = installed(pack.digest) / "solutions" / "hidden" / "test_activations.py"
        suite.write_text(suite.read_text() + "\n# changed on the worker\n")
        with pytest.raises(Refused, match="refuses to grade with a stale course"):
            grade_task(task)
    finally:
        plugin.teardown(FakeWorker(1))


# --------------------------------------------------------------------------- a LocalCluster

def grade_into(out: Path, settings: Settings) -> RunResult:
    request = RunRequest(submissions_dir=DEMO, out_dir=out, quiet=True)
    return run(request, load_course(DEFAULT_ROOT), settings, echo=lambda _: None)


def comparable(out: Path) -> dict[str, object]:
    """Every CSV at the top of ``out`` and every results.json, timings left out."""
    seen: dict[str, object] = {p.name: p.read_text() for p in sorted(out.glob("*.csv"))}
    for path in sorted(out.glob("*/*/results.json")):
        data = json.loads(path.read_text())
        data.pop("execution_time")
        for test in data["tests"]:
            test["extra_data"].pop("duration_s")
        seen[str(path.relative_to(out))] = data
    return seen


def test_demo_class_on_a_two_worker_local_cluster_grades_as_a_local_run(tmp_path: Path) -> None:
    settings = Settings(course_root=DEFAULT_ROOT, secret="cluster-test", jobs=2)
    local = grade_into(tmp_path / "local", settings)
    security, files = course_certificates(tmp_path)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, security=security,
                      dashboard_address=None) as cluster:
        on_cluster = replace(settings, jobs=1, cluster=ClusterSettings(
            cluster.scheduler_address, files["ca"], files["cert"], files["key"]))
        remote = grade_into(tmp_path / "cluster", on_cluster)
        again = grade_into(tmp_path / "cluster", on_cluster)
    assert "grades.csv" in comparable(tmp_path / "cluster")
    assert comparable(tmp_path / "cluster") == comparable(tmp_path / "local")
    graded = sum(1 for r in local.results if not r.missing)
    assert (remote.graded, remote.reused) == (graded, 0)
    assert "graded on 2 worker(s)" in remote.sandbox, remote.sandbox
    assert {r.sandbox for r in remote.results if not r.missing} == \
        {r.sandbox for r in local.results if not r.missing}
    assert len(ResultCache(tmp_path / "cluster").entries()) == graded
    assert (again.graded, again.reused) == (0, graded)  # resumes from the cluster's cache


def course_certificates(folder: Path) -> tuple[Security, dict[str, Path]]:
    security = Security.temporary()  # a CA and certificate, made with cryptography
    files = {}
    for name, pem in (("ca", security.tls_ca_file), ("cert", security.tls_client_cert),
                      ("key", security.tls_client_key)):
        files[name] = folder / f"{name}.pem"
        files[name].write_text(pem)
    return security, files


def test_grading_over_tls_with_the_course_certificates(tmp_path: Path) -> None:
    security, files = course_certificates(tmp_path)
    submissions = tmp_path / "class"
    (submissions / "alice").mkdir(parents=True)
    (submissions / "alice" / "activations.ipynb").write_bytes(
        (DEMO / "alice" / "activations.ipynb").read_bytes())
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, security=security,
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        result = subprocess.run(
            [*GRADE, str(submissions), "--out", str(tmp_path / "out"), "--assignment",
             "activations", "--quiet", "--scheduler", address, "--tls-ca-file",
             str(files["ca"]), "--tls-cert", str(files["cert"]), "--tls-key", str(files["key"])],
            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        rows = [(r["student"], r["assignment"], r["score"]) for r in csv.DictReader(handle)]
    assert rows == [("alice", "activations", "100")]


class Recorder:
    """A stand-in Dask client that records what is submitted."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, dict, dict]] = []

    def submit(self, function: object, task: dict, **options: object) -> int:
        self.calls.append((function, task, options))
        return len(self.calls)


@pytest.mark.parametrize(("device", "resources"), [("cuda", {"GPU": 1}), ("cpu", None)])
def test_cuda_tasks_ask_for_a_gpu_and_are_retried(device: str, resources) -> None:
    course = load_course(DEFAULT_ROOT)
    job = Job("alice", course.get("training"), DEMO / "alice" / "training.ipynb", "metadata")
    settings = Settings(course_root=DEFAULT_ROOT, secret="k", device=device)
    client = Recorder()
    submit = _submitter(client, [job, replace(job, student="bob")], [[0], [1]],
                        lambda _: settings, "d" * 32)
    submit(0), submit(1)
    (function, task, options), (_, _, other) = client.calls
    assert function is grade_task and task["device"] == device and task["student"] == "alice"
    assert options["resources"] == resources and options["retries"] == RETRIES >= 1
    assert options["pure"] is False and options["key"] != other["key"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: it would grade")
def test_a_worker_without_cuda_refuses_a_cuda_task(tmp_path: Path) -> None:
    course = load_course(DEFAULT_ROOT)
    pack = pack_course(course)
    plugin = CoursePlugin(pack, grader_build())
    plugin.setup(FakeWorker(1))
    try:
        job = Job("alice", course.get("training"), DEMO / "alice" / "training.ipynb")
        settings = Settings(course_root=DEFAULT_ROOT, secret="k", device="cuda")
        with pytest.raises(Refused, match="torch sees no CUDA device"):
            grade_task(make_task(job, settings, pack.digest))
    finally:
        plugin.teardown(FakeWorker(1))


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from grader.run.cluster import client as cluster_client

    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(cluster_client, "CONNECT_TIMEOUT_S", 2.0)
    with pytest.raises(ClusterError, match=rf"^tcp://127.0.0.1:{port}: cannot reach the Dask "
                                           "scheduler"), \
            cluster_client._connected(ClusterSettings(f"tcp://127.0.0.1:{port}")):
        pass


class Finished:
    """A stand-in for a finished Dask future."""

    def __init__(self, value: object) -> None:
        self.value = value

    def result(self) -> object:
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value


def test_what_comes_back_is_checked_and_a_cluster_failure_is_never_a_students_zero() -> None:
    course = load_course(DEFAULT_ROOT)
    job = Job("alice", course.get("activations"), DEMO / "alice" / "activations.ipynb")
    executor = ClusterExecutor(TLS_CLUSTER, course, Settings(course_root=DEFAULT_ROOT))
    good = SubmissionResult("alice", "activations", "/worker/tmp/activations.ipynb",
                            tests=(TestResult("t", "T", "passed", 100.0, 100.0),),
                            sandbox="bwrap")
    envelope = {"result": result_to_dict(good), "worker": "tcp://w:1", "sandbox": "bwrap (...)"}
    decoded = executor.decode(job, Finished(json.dumps(envelope)))
    assert decoded == replace(good, path=str(job.path))
    assert "1 graded on 1 worker(s), sandbox per result: bwrap x 1" in executor.description
    someone_else = {**envelope, "result": result_to_dict(replace(good, student="bob"))}
    for failure in (Finished(json.dumps(someone_else)), Finished("{not json"),
                    Finished(json.dumps({"result": {"student": "alice"}})),
                    Finished(RuntimeError("KilledWorker: the task killed 4 workers"))):
        result = executor.decode(job, failure)
        assert result.grader_error and "on the cluster" in result.error
        assert (result.student, result.assignment, result.tests) == ("alice", "activations", ())
    with pytest.raises(ClusterError, match="worker w refuses"):
        executor.decode(job, Finished(Refused("worker w refuses")))
    with pytest.raises(CourseError, match="does not collect"):
        executor.decode(job, Finished(json.dumps({"course_error": "suite does not collect"})))

"""`grade --scheduler` against the real `dask scheduler` and `dask worker` commands on 127.0.0.1,
over TLS with certificates made for the test (a scheduler is always authenticated).

A worker killed with SIGKILL while it grades loses no result and duplicates none (the
scheduler runs its task again on the other worker); a client interrupted mid-run keeps what
it finished and resumes. Every process started here (and whatever those started) is ended
when the test module is done. No timing is asserted; waits are generous for a loaded machine.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from distributed import Client
from distributed.security import Security

from grader.core.course import DEFAULT_ROOT, load_course
from grader.run.cache import ResultCache

pytestmark = pytest.mark.slow  # a Dask cluster

DEMO = DEFAULT_ROOT / "demo" / "submissions"
GRADE = [sys.executable, "-m", "grader.cli"]
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
START_S = 300.0  # starting a Dask process or the whole class, on a loaded 2-core machine
#: every demo student hands in one file per assignment (tests/test_demo.py checks it)
EXPECTED = sorted((student.name, assignment.id) for student in DEMO.iterdir()
                  for assignment in load_course(DEFAULT_ROOT).assignments)
HANDED_IN = len([p for p in DEMO.glob("*/*") if p.suffix in (".ipynb", ".py")])


class Processes:
    """The processes a test module starts, each in its own session, and their descendants."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []
        self.seen: dict[int, psutil.Process] = {}
        self.env = {**os.environ, "TMPDIR": str(folder)}  # course copies land in tmp_path

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(list(args), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env=self.env)
        self.started.append(process)
        return process

    def descendants(self, process: subprocess.Popen[bytes]) -> list[psutil.Process]:
        try:
            found = psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            return []
        self.seen.update((p.pid, p) for p in found)
        return found

    def stop_all(self) -> None:
        # newest first, one at a time: a worker stopped after its scheduler waits out its
        # reconnect attempts (30 s) before it closes
        for process in reversed(self.started):
            self.descendants(process)
            if process.poll() is None:
                process.terminate()  # workers tear the course folder and their zygote down
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        for child in self.seen.values():
            if child.is_running():  # psutil checks it is still the same process
                child.kill()

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]


def wait_for(condition, what: str, timeout: float = START_S) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def certificates(folder: Path) -> dict[str, str]:
    """A CA and a certificate signed by it (one for every role), as PEM files."""
    made = Security.temporary()
    files = {}
    for flag, pem in (("--tls-ca-file", made.tls_ca_file), ("--tls-cert", made.tls_client_cert),
                      ("--tls-key", made.tls_client_key)):
        files[flag] = str(folder / f"{flag.strip('-')}.pem")
        Path(files[flag]).write_text(pem)
    return files


def tls_flags(folder: Path) -> list[str]:
    files = json.loads((folder / "tls.json").read_text())
    return [item for pair in files.items() for item in pair]


def start_worker(processes: Processes, scheduler_file: Path, name: str):  # noqa: ANN201
    return processes.start(name, DASK, "worker", "--scheduler-file", str(scheduler_file),
                           *tls_flags(processes.folder),
                           "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                           "--no-dashboard", "--name", name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Processes]]:
    """A `dask scheduler` on a random free port and one steady `dask worker`."""
    folder = tmp_path_factory.mktemp("dask")
    processes = Processes(folder)
    scheduler_file = folder / "scheduler.json"
    (folder / "tls.json").write_text(json.dumps(certificates(folder)))
    try:
        scheduler = processes.start("scheduler", DASK, "scheduler", *tls_flags(folder),
                                    "--host", "127.0.0.1",
                                    "--port", "0", "--no-dashboard",
                                    "--scheduler-file", str(scheduler_file))

        def ready() -> bool:
            assert scheduler.poll() is None, processes.log("scheduler")
            return scheduler_file.exists() and scheduler_file.stat().st_size > 0

        wait_for(ready, "the scheduler")
        address = json.loads(scheduler_file.read_text())["address"]
        assert re.fullmatch(r"tls://127\.0\.0\.1:\d+", address), address
        start_worker(processes, scheduler_file, "steady")
        yield address, processes
    finally:
        processes.stop_all()


@pytest.fixture()
def client(cluster: tuple[str, Processes]) -> Iterator[Client]:
    address, processes = cluster
    files = json.loads((processes.folder / "tls.json").read_text())
    security = Security(tls_ca_file=files["--tls-ca-file"], tls_client_cert=files["--tls-cert"],
                        tls_client_key=files["--tls-key"], require_encryption=True)
    with Client(address, timeout=START_S, set_as_default=False, security=security) as watcher:
        watcher.wait_for_workers(1, timeout=START_S)
        yield watcher


def grade(processes: Processes, name: str, address: str, out: Path,
          submissions: Path = DEMO) -> subprocess.Popen[bytes]:
    return processes.start(name, *GRADE, str(submissions), "--out", str(out), "--quiet",
                           "--scheduler", address, *tls_flags(processes.folder))


def finish(processes: Processes, name: str, process: subprocess.Popen[bytes]) -> str:
    process.wait(timeout=900)
    log = processes.log(name)
    assert process.returncode == 0, log
    return log


def rows(out: Path) -> list[dict[str, str]]:
    with open(out / "grades.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def check_every_result_once(out: Path, extra: tuple[tuple[str, str], ...] = (),
                            missing: tuple[tuple[str, str], ...] = ()) -> None:
    """Every handed-in file graded exactly once, cached once; ``missing``: the rows of
    assignments a student handed nothing in for (a row, no result)."""
    graded = [r for r in rows(out) if r["status"] != "missing"]
    assert sorted((r["student"], r["assignment"]) for r in rows(out)
                  if r["status"] == "missing") == sorted(missing)
    keys = Counter((r["student"], r["assignment"]) for r in graded)
    assert sorted(keys) == sorted([*EXPECTED, *extra]) and len(EXPECTED) == HANDED_IN
    assert set(keys.values()) == {1}
    assert all(r["status"] == "graded" and not r["error"] for r in graded), graded
    scores = {(r["student"], r["assignment"]): r["score"] for r in graded}
    assert {scores[k] for k in scores if k[0] in ("alice", "erin", "frank")} == {"100"}
    assert {scores[k] for k in scores if k[0] == "carol"} == {"0"}
    entries = Counter(p.parent.relative_to(ResultCache(out).root).as_posix()
                      for p in ResultCache(out).entries())
    assert sorted(entries) == sorted(f"{s}/{a}" for s, a in keys)
    assert set(entries.values()) == {1}


def running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def counts(log: str) -> tuple[int, int]:
    match = re.search(r"graded (\d+), reused (\d+) from cache", log)
    assert match, log
    return int(match.group(1)), int(match.group(2))


#: a student sorted after the demo class whose one file sleeps while it loads: the client
#: submits tasks in order, a few at a time (grader/run/cluster/client.py), so this task starts
#: only after most of the class is done, and the run cannot finish for PAUSE_S after that
PAUSED = ("zz_paused", "activations")
PAUSE_S = 30


def class_with_a_paused_student(folder: Path) -> Path:
    submissions = folder / "submissions"
    shutil.copytree(DEMO, submissions)
    (submissions / PAUSED[0]).mkdir()
    honest = (DEMO / "frank" / "activations.py").read_text()
    relu = "    return np.maximum(0, x)\n"
    assert relu in honest
    # relu reads _pause, so loading the file keeps (and runs) the sleep; it costs no CPU time
    paused = honest.replace(relu, "    assert _pause is None\n" + relu)
    (submissions / PAUSED[0] / "activations.py").write_text(
        f"import time\n_pause = time.sleep({PAUSE_S})\n\n{paused}")
    return submissions


def test_interrupted_client_resumes_with_every_result_once(
        tmp_path: Path, cluster: tuple[str, Processes]) -> None:
    address, processes = cluster
    out = tmp_path / "out"
    submissions = class_with_a_paused_student(tmp_path)
    first = grade(processes, "grade-interrupted", address, out, submissions)

    def some_cached() -> bool:
        assert first.poll() is None, processes.log("grade-interrupted")
        return len(ResultCache(out).entries()) >= 3

    wait_for(some_cached, "three cached results", timeout=900)
    # the paused student's task has not even been submitted yet: the run is still going
    assert first.poll() is None, processes.log("grade-interrupted")
    first.send_signal(signal.SIGINT)
    first.wait(timeout=300)
    assert first.returncode == 130, processes.log("grade-interrupted")
    assert "rerun the same command to resume" in processes.log("grade-interrupted")
    kept = len(ResultCache(out).entries())
    assert 3 <= kept <= HANDED_IN
    resumed = grade(processes, "grade-resumed", address, out, submissions)
    graded, reused = counts(finish(processes, "grade-resumed", resumed))
    assert reused >= kept and graded + reused == HANDED_IN + 1
    others = tuple((PAUSED[0], a) for s, a in EXPECTED if s == "alice" and a != PAUSED[1])
    check_every_result_once(out, extra=(PAUSED,), missing=others)
    assert [r["score"] for r in rows(out) if (r["student"], r["assignment"]) == PAUSED] == ["100"]


def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(
        tmp_path: Path, cluster: tuple[str, Processes], client: Client) -> None:
    address, processes = cluster
    scheduler_file = processes.folder / "scheduler.json"
    victim = start_worker(processes, scheduler_file, "victim")
    client.wait_for_workers(2, timeout=START_S)
    workers = client.scheduler_info()["workers"]
    victim_address = next(a for a, w in workers.items() if w["name"] == "victim")
    out = tmp_path / "out"
    run = grade(processes, "grade-killed", address, out)

    def victim_is_grading() -> bool:
        assert run.poll() is None, "the run ended before the victim graded anything"
        assert victim.poll() is None, processes.log("victim")
        if len(ResultCache(out).entries()) < 1 or not processes.descendants(victim):
            return False  # mid-run, and the victim's sandbox (zygote) has started
        busy = client.run(lambda dask_worker: len(dask_worker.state.executing),
                          workers=[victim_address])
        return busy.get(victim_address, 0) > 0

    wait_for(victim_is_grading, "the victim to grade a submission", timeout=900)
    orphans = processes.descendants(victim)  # its zygote and sandboxed worker
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    log = finish(processes, "grade-killed", run)
    assert counts(log) == (HANDED_IN, 0)
    check_every_result_once(out)
    assert victim_address not in client.scheduler_info()["workers"]
    wait_for(lambda: not any(map(running, orphans)), "the killed worker's sandbox to end", 120)
    rerun = finish(processes, "grade-rerun", grade(processes, "grade-rerun", address, out))
    assert counts(rerun) == (0, HANDED_IN)

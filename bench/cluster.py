"""Benchmark: grading on a 2-worker Dask cluster against ``grade --jobs 2``, at equal cores.

    python bench/cluster.py [--students 100] [--rounds 2] [--work DIR]

Builds bench/run.py's synthetic class (N students, one notebook per assignment with a hidden
suite, each file unique), then per round, in alternating order:

  local    ``grade CLASS --out OUT --force --jobs 2``
  cluster  ``grade CLASS --out OUT --force --scheduler ADDRESS`` against a fresh
           ``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` on this machine

The cluster's processes start before the clock, as a cluster is long-lived; their sandboxes
and warm zygotes start inside the run, as the local pool's do. Prints each run's wall time
and throughput (best of the rounds), whether both scored every submission alike, and the
target: the cluster at most 10% slower. Exits 0 whatever the figures; 1 when a run failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT), str(ROOT / "demo")]

import psutil  # noqa: E402
from common import work_folder  # noqa: E402
from run import build_class, templates  # noqa: E402  (bench/run.py's class builder)

from grader.core.course import Assignment, Course, load_course  # noqa: E402

TARGET_SLOWER = 1.10
WORKERS = 2
START_S = 300.0
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
GRADE = [sys.executable, "-m", "grader.cli"]


def _certificates(folder: Path) -> list[str]:
    """A CA and a certificate signed by it (for every role) as PEM files, as the flags that
    the scheduler, the workers and ``grade --scheduler`` all take."""
    from distributed.security import Security

    made = Security.temporary()
    flags: list[str] = []
    for flag, pem in (("--tls-ca-file", made.tls_ca_file), ("--tls-cert", made.tls_client_cert),
                      ("--tls-key", made.tls_client_key)):
        path = folder / f"{flag.strip('-')}.pem"
        path.write_text(pem)
        path.chmod(0o600)
        flags += [flag, str(path)]
    return flags


class Cluster:
    """``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` on 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        scheduler_file = folder / "scheduler.json"
        scheduler_file.unlink(missing_ok=True)
        # grade refuses an unauthenticated scheduler, even on loopback: TLS with a fresh CA
        self.tls = _certificates(folder)
        self._start("scheduler", DASK, "scheduler", *self.tls, "--host", "127.0.0.1",
                    "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file))
        self._wait(lambda: scheduler_file.exists() and scheduler_file.stat().st_size > 0)
        self.address = json.loads(scheduler_file.read_text())["address"]
        self._start("workers", DASK, "worker", self.address, *self.tls, "--host", "127.0.0.1",
                    "--nworkers", str(WORKERS), "--nthreads", "1", "--no-dashboard")
        self._wait(self._workers_ready)

    def _start(self, name: str, *args: str) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes.append(subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, "TMPDIR": str(self.folder)}))

    def _wait(self, ready) -> None:  # noqa: ANN001
        deadline = time.monotonic() + START_S
        while not ready():
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a Dask process stopped; see {self.folder}/*.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Dask cluster did not start; see {self.folder}/*.log")
            time.sleep(0.2)

    def _workers_ready(self) -> bool:
        log = (self.folder / "workers.log").read_text(errors="replace")
        return log.count("Registered to:") >= WORKERS

    def stop(self) -> None:
        found = []
        for process in self.processes:
            try:
                found += psutil.Process(process.pid).children(recursive=True)
            except psutil.Error:
                pass
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for child in found:
            if child.is_running():
                child.kill()


def grade(folder: Path, out: Path, *how: str) -> tuple[float, dict[tuple[str, str], str]]:
    """Wall seconds of one run and its scores by (student, assignment)."""
    started = time.monotonic()
    run = subprocess.run([*GRADE, str(folder), "--out", str(out), "--force", "--quiet", *how],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if run.returncode != 0:
        raise RuntimeError(f"grade {' '.join(how)} failed ({run.returncode}):\n"
                           f"{run.stdout[-2000:]}{run.stderr[-2000:]}")
    with open(out / "grades.csv", newline="") as handle:
        scores = {(r["student"], r["assignment"]): r["score"] for r in csv.DictReader(handle)}
    return wall, scores


def measure(folder: Path, work: Path, rounds: int) -> dict[str, list]:
    walls: dict[str, list] = {"local": [], "cluster": [], "scores": []}
    for number in range(rounds):
        order = ("local", "cluster") if number % 2 == 0 else ("cluster", "local")
        for kind in order:
            print(f"bench: round {number + 1}, {kind} ...", file=sys.stderr, flush=True)
            out = work / f"out-{kind}"
            if kind == "local":
                wall, scores = grade(folder, out, "--jobs", str(WORKERS))
            else:
                cluster = Cluster(work / f"dask-{number}")
                try:
                    wall, scores = grade(folder, out, "--scheduler", cluster.address,
                                         *cluster.tls)
                finally:
                    cluster.stop()
            walls[kind].append(wall)
            walls["scores"].append((kind, scores))
    return walls


def report(submissions: int, students: int, rounds: int, walls: dict[str, list],
           load: tuple[float, ...]) -> str:
    local, remote = min(walls["local"]), min(walls["cluster"])
    runs = [scores for _, scores in walls["scores"]]
    differ = [key for key, score in runs[0].items() if any(r.get(key) != score for r in runs)]
    same = len(runs[0]) - len(differ)
    ratio = remote / local
    ok = ratio <= TARGET_SLOWER
    return "\n".join([
        f"nn-grader cluster benchmark: {students} students = {submissions} submissions, "
        f"{os.cpu_count()} cores, best of {rounds} round(s); load average "
        f"{load[0]:.1f} before, {os.getloadavg()[0]:.1f} after",
        f"  {'grade --jobs 2':44} {local:7.1f} s {submissions / local:7.2f} /s",
        f"  {'grade --scheduler (2 Dask workers x 1 thread)':44} {remote:7.1f} s "
        f"{submissions / remote:7.2f} /s",
        f"  scores equal in every run on {same}/{len(runs[0])}",
        *(f"    differ: {student} {assignment}: "
          + ", ".join(f"{kind} {scores.get((student, assignment))}"
                      for kind, scores in walls["scores"]) for student, assignment in differ[:5]),
        "targets",
        f"  [{'PASS' if ok else 'FAIL'}] 2-worker local cluster at most "
        f"{(TARGET_SLOWER - 1) * 100:.0f}% slower than --jobs 2: {ratio:.2f}x its wall time",
    ])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the class, outputs and Dask logs [default: temporary]")
    args = parser.parse_args(argv)
    course = load_course(ROOT)
    assignments = [a for a in course.assignments if a.hidden_suite.exists()]
    try:
        with work_folder(args.work, "nn-grader-bench-cluster-") as work:
            return measure_class(course, assignments, work, args.students, args.rounds)
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1


def measure_class(course: Course, assignments: list[Assignment], work: Path, students: int,
                  rounds: int) -> int:
    """Build the class in ``work``, grade it both ways, print the report."""
    import make_demo

    make_demo.build(course, work / "demo")
    entries = build_class(work / "class", students, assignments,
                          templates(assignments, work / "demo"))
    load = os.getloadavg()
    walls = measure(work / "class", work, rounds)
    print(report(len(entries), students, rounds, walls, load))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

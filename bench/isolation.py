"""What isolating each submission costs in CPU: the warm sandbox against the in-process floor.

    python bench/isolation.py [--repeat 5] [--students alice,carol]

Grades the demo class's notebooks of ``--students`` (default alice, every check passes, and
carol, the untouched stubs: the student's code does almost nothing, so what is left is the
cost of a worker's life) ``--repeat`` times one after another in this process, first in the
in-process floor's sandbox (bench/run.py's floor: the same protocol over pipes to a thread),
then on the default sandbox with its warm zygote, after one untimed round of each (imports,
the zygote's start, pytest's collection). For each it prints, per submission, the wall time
and the CPU time of this process (the suites and the protocol), of the zygote (a fork per
worker) and of the workers (their whole lives: isolation set up, the student's module loaded
and called, the exit), read from the zygote's own and reaped children's times, and of the
whole machine (/proc/stat, so run it on a quiet machine).

The difference between the two is what a fresh process per submission costs; bench/run.py's
whole-run ratio to the floor can go no lower than it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "demo")]

import psutil  # noqa: E402
from common import machine_cpu  # noqa: E402

from grader.core.course import Course, load_course  # noqa: E402
from grader.core.settings import Settings, read_secret  # noqa: E402
from grader.run.local import close_sandboxes, kept_sandbox  # noqa: E402
from grader.sandbox.base import Sandbox  # noqa: E402
from grader.sandbox.inprocess import InProcessSandbox  # noqa: E402
from grader.submission.grade import Job, grade_job  # noqa: E402


@dataclass
class Cost:
    """Milliseconds per submission."""

    wall: float
    grader: float
    zygote: float
    workers: float
    machine: float


def descendants_cpu() -> tuple[float, float]:
    """(own, reaped children's) CPU seconds of this process's descendants: the zygote's own,
    and its workers' once it reaped them (bwrap's own processes sleep)."""
    own = reaped = 0.0
    for process in psutil.Process().children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        own += times.user + times.system
        reaped += times.children_user + times.children_system
    return own, reaped


def measure(jobs: list[Job], settings: Settings, sandbox: Sandbox, repeat: int) -> Cost:
    for job in jobs:  # untimed: imports, the zygote's start, pytest's collection
        grade_job(job, settings, sandbox)
    zygote, workers = descendants_cpu()
    machine, mine, started = machine_cpu(), time.process_time(), time.perf_counter()
    for _ in range(repeat):
        for job in jobs:
            grade_job(job, settings, sandbox)
    count = repeat * len(jobs)
    wall, mine = time.perf_counter() - started, time.process_time() - mine
    machine = machine_cpu() - machine
    zygote_after, workers_after = descendants_cpu()
    return Cost(*(1000 * value / count for value in (wall, mine, zygote_after - zygote,
                                                     workers_after - workers, machine)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--students", default="alice,carol")
    args = parser.parse_args(argv)
    import make_demo

    course = load_course(ROOT)
    secret = read_secret(course.secret_file)
    with tempfile.TemporaryDirectory(prefix="nn-grader-isolation-") as folder:
        make_demo.build(course, Path(folder))
        report(course, Path(folder), secret, args.students.split(","), args.repeat)
    return 0


def report(course: Course, demo: Path, secret: str, students: list[str], repeat: int) -> None:
    print(f"per submission, ms ({repeat} rounds; load average {os.getloadavg()[0]:.1f})")
    print(f"{'':26} {'wall':>7} {'grader':>7} {'zygote':>7} {'workers':>8} {'machine':>8}")
    for student in students:
        jobs = [Job(student, a, path, "file name") for a in course.assignments
                if a.hidden_suite.exists()
                for path in sorted((demo / student).glob(f"{a.id}*"))[:1]]
        costs = {}
        for level in ("inprocess", None):
            settings = Settings(course_root=course.root, secret=secret,
                                **({"sandbox": level} if level else {}))
            sandbox = InProcessSandbox() if level else kept_sandbox(settings.sandbox,
                                                                    settings.warm)
            costs[sandbox.level] = cost = measure(jobs, settings, sandbox, repeat)
            print(f"{student + ', ' + sandbox.level:26} {cost.wall:7.1f} "
                  f"{cost.grader:7.1f} {cost.zygote:7.1f} {cost.workers:8.1f} "
                  f"{cost.machine:8.1f}")
            close_sandboxes()
        floor, warm = costs["inprocess"], costs[next(k for k in costs if k != "inprocess")]
        print(f"{'  isolation, machine CPU':26} {'':7} {'':7} {'':7} {'':8} "
              f"{warm.machine - floor.machine:8.1f}  "
              f"({warm.machine / floor.machine:.2f}x the floor's)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Running :func:`grader.similarity.analyse.analyse` per assignment, in parallel, repeatably.

copydetect hashes k-grams with Python's ``hash``, salted per process unless
``PYTHONHASHSEED`` is fixed; winnowing keeps the smallest hash of each window, so another salt
picks other fingerprints and scores move by a few percent between runs. Each assignment is
therefore analysed by ``python -m grader.similarity.pool`` started with ``PYTHONHASHSEED=0``
(one assignment never compares hashes with another), up to ``processes`` at a time, which also
spreads assignments over the cores. A plain subprocess rather than multiprocessing: it needs no
``if __name__ == "__main__"`` guard in the caller's script, and a worker that dies is an error
rather than a hang. Only JSON crosses: paths in, scores and code out. Nothing here runs
student code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.core.course import load_course
from grader.core.errors import GraderError
from grader.similarity.analyse import AssignmentJob, AssignmentSimilarity, analyse
from grader.similarity.wire import result_from_json, result_to_json

_SEED = "0"


def analyse_all(jobs: Sequence[AssignmentJob], processes: int) -> list[AssignmentSimilarity]:
    """``analyse`` each job, in up to ``processes`` worker processes; results in job order."""
    if not jobs:
        return []
    if not sys.flags.hash_randomization and processes <= 1:
        return [analyse(job) for job in jobs]  # this process already hashes as workers do
    with ThreadPoolExecutor(max_workers=max(1, min(processes, len(jobs)))) as threads:
        return list(threads.map(_in_worker, jobs))


def _in_worker(job: AssignmentJob) -> AssignmentSimilarity:
    request = {"course_root": str(job.assignment.root), "assignment": job.assignment.id,
               "files": [[s, str(p), label] for s, p, label in job.files], "top": job.top,
               "common_percent": job.common_percent, "discount": job.discount}
    env = {**os.environ, "PYTHONHASHSEED": _SEED}
    done = subprocess.run([sys.executable, "-m", "grader.similarity.pool"],
                          input=json.dumps(request), capture_output=True, text=True, env=env,
                          check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise GraderError(f"similarity of {job.assignment.id}: the worker failed "
                          f"(exit {done.returncode}): {last}")
    return result_from_json(json.loads(done.stdout))


def _worker_main() -> None:
    """The worker: a job as JSON on stdin, its result as JSON on stdout."""
    if sys.flags.hash_randomization:
        raise SystemExit("similarity worker needs PYTHONHASHSEED=0 to hash repeatably")
    request = json.load(sys.stdin)
    course = load_course(Path(request["course_root"]))
    job = AssignmentJob(course.get(request["assignment"]),
                        tuple((s, Path(p), label) for s, p, label in request["files"]),
                        int(request["top"]), request["common_percent"],
                        bool(request.get("discount", True)))
    json.dump(result_to_json(analyse(job)), sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    _worker_main()

"""One submission as a Dask task: plain data in, JSON text out.

A task carries the submission's bytes and identity (student, assignment, file name, how it was
matched, the client's path for the report), its seed, and the settings that decide its result;
never a path on the client's disk or a grader object. On the worker it is graded exactly as a
local ``--jobs`` process grades: in the worker process's one grading thread, with the process's
own sandbox slot and warm zygote (``grader.run.local.kept_sandbox``), the hidden suite run by
pytest
there and the student's code in the sandbox below. The result goes back as the cache's JSON form
(``grader.run.cache.result_to_dict``), recording the sandbox level in force on that worker.
"""

from __future__ import annotations

import concurrent.futures
import json
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from grader.core.course import load_course
from grader.core.errors import ConfigError, CourseError, ExtractionError, Refused
from grader.core.files import read_regular
from grader.core.paths import safe_component
from grader.core.settings import Limits, Settings
from grader.run.cache import result_to_dict
from grader.run.cluster.course import grader_build, installed
from grader.run.local import grade_group_in_process, kept_sandbox  # a local process's own
from grader.submission.grade import Job, job_suite_hash, submission_seed, suite_hash

#: One long-lived grading thread per worker process: one submission at a time, and the
#: sandbox's zygote keeps a parent thread for the process's whole life.
_GRADING = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nn-grader")


def make_task(job: Job, settings: Settings, course_digest: str) -> dict[str, Any]:
    """The task for ``job`` (a file handed in), as plain data. A file that cannot be read
    now (or that is not a regular file, or over the size cap: it is never read whole) travels
    as None, and is graded as the unreadable file it is."""
    assert job.path is not None
    try:
        assert job.read_from is not None
        data: bytes | None = read_regular(job.read_from, settings.limits.reader().max_bytes)
    except ExtractionError:
        data = None
    return {
        "course": course_digest,
        "build": grader_build(),
        "student": job.student,
        "assignment": job.assignment.id,
        "suite_hash": job_suite_hash(job),
        "file_name": job.path.name,
        "data": data,
        "matched_by": job.matched_by,
        "path": str(job.path),
        "seed": submission_seed(settings, job),
        "device": settings.device,
        "sandbox": settings.sandbox,
        "warm": settings.warm,
        "limits": asdict(settings.limits),
    }


def grade_task(task: dict[str, Any]) -> str:
    """Run on a Dask worker: grade one task; JSON ``{"result": ...}`` or ``{"course_error"}``.

    Raises :class:`Refused` when this worker cannot grade it as asked (Dask then retries it).
    """
    return _GRADING.submit(_grade_here, task, _worker_address()).result()


def grade_group_task(tasks: list[dict[str, Any]]) -> str:
    """Run on a Dask worker: grade one student's files for one assignment (each a task of
    :func:`make_task`) one after another within one time budget, as a local run does
    (grader.run.budget); JSON ``{"results": [...]}`` in their order, or ``{"course_error"}``."""
    return _GRADING.submit(_grade_group_here, tasks, _worker_address()).result()


def _grade_here(task: dict[str, Any], where: str) -> str:
    envelope = json.loads(_grade_group_here([task], where))
    if "course_error" in envelope:
        return json.dumps(envelope)
    (result,) = envelope.pop("results")
    return json.dumps({"result": result, **envelope}, ensure_ascii=False)


def _grade_group_here(tasks: list[dict[str, Any]], where: str) -> str:
    with tempfile.TemporaryDirectory(prefix="nn-grader-submission-") as folder:
        jobs, settings = [], []
        for n, task in enumerate(tasks):
            own, job = _job(task, where, Path(folder) / str(n))
            jobs.append(job)
            settings.append(own)
        sandbox = _worker_sandbox(settings[0], where)
        try:
            results = grade_group_in_process(jobs, settings)
        except CourseError as exc:
            return json.dumps({"course_error": f"on Dask worker {where}: {exc}"})
    dicts = [result_to_dict(replace(result, path=task["path"]))
             for result, task in zip(results, tasks, strict=True)]
    return json.dumps({"results": dicts, "worker": where, "sandbox": sandbox.description},
                      ensure_ascii=False)


def _job(task: dict[str, Any], where: str, folder: Path) -> tuple[Settings, Job]:
    """The settings and job of one task, its file written into ``folder``; Refused when this
    worker cannot grade it as asked."""
    root = installed(task["course"])
    if root is None:
        raise Refused(f"Dask worker {where} does not hold the course {task['course'][:16]} "
                      "(its setup failed: see the worker's log)")
    if task["build"] != grader_build():
        raise Refused(f"Dask worker {where} runs nn-grader {grader_build()}, the client "
                      f"{task['build']}")
    assignment = load_course(root).get(task["assignment"])
    if suite_hash(assignment) != task["suite_hash"]:
        raise Refused(f"Dask worker {where} holds a different hidden suite for "
                      f"{assignment.id}: it refuses to grade with a stale course")
    settings = Settings(course_root=root, limits=Limits(**task["limits"]),
                        sandbox=task["sandbox"], device=task["device"], seed=task["seed"],
                        warm=task["warm"])
    folder.mkdir(mode=0o700)
    path = folder / _file_name(task["file_name"])
    if task["data"] is not None:
        path.write_bytes(task["data"])
    return settings, Job(task["student"], assignment, path, task["matched_by"],
                         task["suite_hash"])


def _worker_sandbox(settings: Settings, where: str) -> Any:
    if settings.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise Refused(f"Dask worker {where} has the GPU resource but torch sees no CUDA "
                          "device there")
    try:
        sandbox = kept_sandbox(settings.sandbox, settings.warm, settings.preload)
    except ConfigError as exc:
        raise Refused(f"Dask worker {where}: {exc}") from None
    if sandbox.level != "bwrap":
        raise Refused(f"Dask worker {where} grades only at the bwrap level (student code with "
                      f"no network, so it cannot reach the scheduler), not {sandbox.level}: "
                      "install bubblewrap on the worker")
    return sandbox


def _file_name(name: str) -> str:
    """The submitted file's own name (its suffix and name reach the feedback)."""
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        return safe_component(name)
    return name


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except ValueError:  # not inside a Dask worker (a test calling grade_task directly)
        return "(no worker)"


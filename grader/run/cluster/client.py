"""The client side of ``grade --scheduler``: submit tasks, stream results back, lose none.

Tasks go to the scheduler a window at a time (twice the workers' threads), so a class of large
notebooks never sits in memory all at once and workers that join mid-run get work. Each result
is decoded from JSON (``grader.run.cache.result_from_dict``), checked to be the job's own, and
handed to ``progress`` the moment it arrives, which is where ``grade_folder`` caches it: a
client interrupted mid-run resumes like a local run. A worker that dies mid-task loses nothing:
the scheduler runs its tasks again elsewhere, and each job's result is taken once.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import itertools
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from distributed import Client, Future, as_completed
from distributed.security import Security

from grader.core.course import Course
from grader.core.errors import ClusterError, ConfigError, CourseError, Refused
from grader.core.results import SubmissionResult
from grader.core.settings import ClusterSettings, Settings
from grader.core.text import display_path
from grader.run.budget import student_groups
from grader.run.cache import result_from_dict
from grader.run.cluster.course import CoursePlugin, grader_build, pack_course
from grader.run.cluster.task import grade_group_task, grade_task, make_task
from grader.run.local import grader_error
from grader.submission.grade import Job

Progress = Callable[[Job, SubmissionResult], None]
CONNECT_TIMEOUT_S = 60.0
#: the levels a cluster run may ask for: each worker then refuses anything but bwrap
CLUSTER_LEVELS = ("bwrap", "auto")
WORKER_WAIT_S = 300.0
#: a task that raised (a worker refused it) runs again up to this many times, anywhere
RETRIES = 3


class ClusterExecutor:
    """Grades a run's jobs on the Dask cluster ``cluster.scheduler`` (a grading.Executor)."""

    def __init__(self, cluster: ClusterSettings, course: Course, settings: Settings) -> None:
        if not cluster.tls:
            raise ConfigError(f"{cluster.scheduler}: not authenticated: a Dask cluster is used "
                              "only over tls:// with the course's certificates")
        if settings.sandbox not in CLUSTER_LEVELS:
            raise ConfigError(f"--sandbox {settings.sandbox}: a Dask cluster grades only at the "
                              "bwrap level (student code with no network, so it cannot reach "
                              "the scheduler): use --sandbox bwrap or auto, with bubblewrap on "
                              "every worker")
        self.cluster = cluster
        self.course = course
        self.level = settings.sandbox  # the level asked for; each result records its own
        self._workers: Counter[str] = Counter()
        self._levels: Counter[str] = Counter()
        self._sandboxes: set[str] = set()

    @property
    def description(self) -> str:
        head = f"Dask scheduler {self.cluster.scheduler}"
        if not self._workers:
            return f"{head} (sandbox {self.level} asked of each worker)"
        levels = ", ".join(f"{level} x {n}" for level, n in sorted(self._levels.items()))
        return (f"{head}: {sum(self._workers.values())} graded on {len(self._workers)} "
                f"worker(s), sandbox per result: {levels}; a worker's sandbox: "
                f"{sorted(self._sandboxes)[0]}")

    def grade(self, jobs: Sequence[Job], settings: Settings, progress: Progress | None,
              settings_for: Callable[[Job], Settings] | None) -> list[SubmissionResult]:
        if not jobs:
            return []
        own = settings_for or (lambda job: settings)
        results: dict[int, SubmissionResult] = {}
        # the files of one student and assignment are one task: one budget (grader.run.budget)
        groups = student_groups(jobs)
        with _connected(self.cluster) as client:
            digest = _install_course(client, self.course)
            submit = _submitter(client, jobs, groups, own, digest)
            for number, future in _as_completed(client, len(groups), submit):
                group = groups[number]
                if group[0] in results:  # a job's result is taken once, whatever happens
                    continue
                for index, result in zip(group, self.decode_group(
                        [jobs[i] for i in group], future), strict=True):
                    results[index] = result
                    if progress is not None:
                        progress(jobs[index], result)
        lost = [str(jobs[i].path) for i in range(len(jobs)) if i not in results]
        if lost:
            raise ClusterError(f"the cluster returned no result for {', '.join(lost)}")
        return [results[i] for i in range(len(jobs))]

    def decode_group(self, jobs: list[Job], future: Future) -> list[SubmissionResult]:
        """The results of one student's files (one task) from its finished future."""
        if len(jobs) == 1:
            return [self.decode(jobs[0], future)]
        try:
            envelope = json.loads(future.result())
            if "course_error" in envelope:
                raise CourseError(str(envelope["course_error"]))
            dicts = envelope["results"]
            if not isinstance(dicts, list) or len(dicts) != len(jobs):
                raise ValueError("not one result per file")
        except (Refused, concurrent.futures.CancelledError, CourseError):
            raise
        except Exception as exc:  # noqa: BLE001 - the grader's failure, never a student's zero
            return [self.decode(job, _Done(exc)) for job in jobs]
        return [self.decode(job, _Done(json.dumps({**envelope, "result": one})))
                for job, one in zip(jobs, dicts, strict=True)]

    def decode(self, job: Job, future: Future | _Done) -> SubmissionResult:
        """The job's result from its finished future; a failure on the cluster is the grader's,
        never the student's."""
        try:
            text = future.result()
        except Refused as exc:
            raise ClusterError(f"{exc} (the task was tried {RETRIES + 1} times)") from None
        except concurrent.futures.CancelledError as exc:  # the scheduler dropped the client
            raise ClusterError(f"{self.cluster.scheduler}: lost the Dask scheduler "
                               f"({type(exc).__name__}: {exc})") from None
        except Exception as exc:  # noqa: BLE001 - KilledWorker and the like: this job only
            return _grader_failed(job, f"{type(exc).__name__}: {exc}")
        try:
            envelope = json.loads(text)
            if "course_error" in envelope:
                raise CourseError(str(envelope["course_error"]))
            result = result_from_dict(envelope["result"])
        except (ValueError, TypeError, KeyError) as exc:
            return _grader_failed(job, f"the worker's result cannot be read: {exc}")
        if (result.student, result.assignment) != (job.student, job.assignment.id):
            return _grader_failed(job, "the worker sent another submission's result")
        self._workers[str(envelope.get("worker"))] += 1
        self._levels[result.sandbox] += 1
        self._sandboxes.add(str(envelope.get("sandbox")))
        return replace(result, path=display_path(job.path) if job.path else None)


@contextlib.contextmanager
def _connected(cluster: ClusterSettings) -> Iterator[Client]:
    """A client of the scheduler with at least one worker; closed on the way out."""
    security = None
    if cluster.tls:
        security = Security(tls_ca_file=str(cluster.tls_ca_file),
                            tls_client_cert=str(cluster.tls_cert),
                            tls_client_key=str(cluster.tls_key), require_encryption=True)
    try:
        client = Client(cluster.scheduler, security=security, timeout=CONNECT_TIMEOUT_S,
                        set_as_default=False)
    except (OSError, ValueError) as exc:  # TimeoutError and ssl.SSLError are OSErrors
        raise ClusterError(f"{cluster.scheduler}: cannot reach the Dask scheduler "
                           f"({type(exc).__name__}: {exc})") from None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except TimeoutError:
            raise ClusterError(f"{cluster.scheduler}: no Dask worker joined in "
                               f"{WORKER_WAIT_S:.0f} s (start one: dask worker "
                               f"{cluster.scheduler} --nthreads 1)") from None
        yield client
    finally:
        client.close()


def _install_course(client: Client, course: Course) -> str:
    """Hand the course to every worker (once per course and grader build); its digest."""
    try:
        pack = pack_course(course)
    except OSError as exc:
        raise CourseError(f"{course.root}: cannot read the course to send it: {exc}") from None
    plugin = CoursePlugin(pack, grader_build())
    try:
        client.register_plugin(plugin, name=plugin.name)
    except Refused as exc:
        raise ClusterError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise ClusterError(f"a Dask worker could not install the course "
                           f"({type(exc).__name__}: {exc})") from None
    return pack.digest


def _submitter(client: Client, jobs: Sequence[Job], groups: Sequence[list[int]],
               own: Callable[[Job], Settings], digest: str) -> Callable[[int], Future]:
    """``submit(number)``: the future of group ``number``'s task (one file: grade_task; a
    student's several files for one assignment: grade_group_task, one budget)."""
    run = uuid.uuid4().hex[:12]

    def submit(number: int) -> Future:
        group = [jobs[i] for i in groups[number]]
        job, settings = group[0], own(group[0])
        identity = "\0".join((job.student, job.assignment.id, str(job.path)))
        key = f"nn-grade-{hashlib.sha256(identity.encode()).hexdigest()[:16]}-{run}"
        resources = {"GPU": 1} if settings.device == "cuda" else None
        if len(group) == 1:
            return client.submit(grade_task, make_task(job, settings, digest), key=key,
                                 pure=False, retries=RETRIES, resources=resources)
        tasks = [make_task(one, own(one), digest) for one in group]
        return client.submit(grade_group_task, tasks, key=key, pure=False, retries=RETRIES,
                             resources=resources)

    return submit


class _Done:
    """A finished future's outcome, for :meth:`ClusterExecutor.decode`: a text or an error."""

    def __init__(self, outcome: str | BaseException) -> None:
        self.outcome = outcome

    def result(self) -> str:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def _as_completed(client: Client, count: int,
                  submit: Callable[[int], Future]) -> Iterator[tuple[int, Future]]:
    """(index, future) of jobs ``0..count-1`` as each finishes, a window of them in flight;
    on the way out (an error, Ctrl-C) whatever is still in flight is cancelled."""
    upcoming = iter(range(count))
    in_flight: dict[Future, int] = {}
    finished = as_completed(loop=client.loop)

    def top_up() -> None:
        room = max(4, 2 * sum(client.nthreads().values())) - len(in_flight)
        for index in itertools.islice(upcoming, max(room, 0)):
            future = submit(index)
            in_flight[future] = index
            finished.add(future)

    try:
        top_up()
        for future in finished:
            yield in_flight.pop(future), future
            future.release()
            top_up()
    finally:
        if in_flight:
            with contextlib.suppress(Exception):
                client.cancel(list(in_flight))


def _grader_failed(job: Job, cause: str) -> SubmissionResult:
    return grader_error(job, f"on the cluster: {cause}")

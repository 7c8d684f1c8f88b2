"""Grading on a Dask cluster: ``grade SUBMISSIONS_DIR --scheduler ADDRESS``.

Discovery, the result cache, reports and exit status stay on the client (grader.run.grading);
only the grading of each handed-in file moves, through the ``Executor`` seam:

    client (grade)                          Dask scheduler          each Dask worker process
    course.pack_course -> CoursePlugin ------ registered once -----> checks its grader build,
                                                                    unpacks into a 0700 folder
    task.make_task(job): bytes + identity --- a window of tasks --> task.grade_task: as a local
                                              (retries; GPU=1 for    --jobs process does, with
                                               --device cuda)        its own slot and zygote
    client.ClusterExecutor.decode <---------- JSON text ----------- result + the worker's sandbox

A student's several files for one assignment travel as one task (``task.grade_group_task``):
graded one after another on one worker within one time budget, as locally (grader.run.budget).

Modules: ``course`` (what travels once, the worker plugin), ``task`` (one submission, or one
student's files for an assignment, both ends), ``client`` (connecting, streaming, the
executor). ``distributed`` is an optional dependency (the ``cluster`` extra), imported only
here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grader.core.errors import ConfigError

if TYPE_CHECKING:
    from grader.core.course import Course
    from grader.core.settings import Settings
    from grader.run.cluster.client import ClusterExecutor


def cluster_executor(settings: Settings, course: Course) -> ClusterExecutor:
    """The executor for ``settings.cluster``; ConfigError when Dask is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("--scheduler: the Dask client is not installed here: "
                          "pip install 'nn-grader[cluster]'") from None
    from grader.run.cluster.client import ClusterExecutor

    assert settings.cluster is not None
    return ClusterExecutor(settings.cluster, course, settings)

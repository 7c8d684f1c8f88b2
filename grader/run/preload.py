"""What a run's warm zygote imports before forking workers, decided from the course.

A zygote imports once what every worker would otherwise import itself; importing what no
worker uses only delays the first grade (matplotlib.pyplot alone is about a second on a cold
machine). So a run preloads a module of :data:`CANDIDATES` only when the run's hidden suites
(values they send cross as tensors and arrays: the worker decodes them with torch and numpy)
or its submissions mention it. The test is a byte search of each file (its first
``max_bytes``), never a parse of student code in this process: a module named only in a
notebook's prose is preloaded needlessly (only speed differs); one imported in a way the
search misses is imported by the worker that needs it, inside its test budgets. For
matplotlib that costs a fraction of a second and the same score (tests/test_preload.py); a
worker importing torch itself under load can exhaust budgets (measured: 46 instead of 100 on
the demo's training notebook), which is why any mention of torch anywhere preloads it. The
optimizer's first step (:data:`OPTIMIZER`) is warmed only where "optim" is mentioned, and
without the compiler: torch._dynamo, which every eager step imports for two calls that do
nothing outside a trace, is imported only where something asks for more
(grader.worker.ondemand).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from grader.core.settings import Settings
from grader.submission.grade import Job
from grader.worker import ondemand

#: "Module" that stands for an optimizer's first step: torch.optim's step imports
#: torch._dynamo (1.0-1.5 s here) unless its placeholder stands in (grader.worker.ondemand).
#: Preloading it puts the placeholder in place and takes one SGD step
#: (:func:`warm_optimizer`; the zygote's preload does the same).
OPTIMIZER = "torch.optim"
#: (module to preload, the pattern whose presence in a file asks for it), in import order
CANDIDATES = (("numpy", re.compile(rb"\bnumpy\b")), ("torch", re.compile(rb"\btorch\b")),
              (OPTIMIZER, re.compile(rb"\boptim\b")),
              ("matplotlib.pyplot", re.compile(rb"\bmatplotlib\b")))
MAX_BYTES = 4 * 1024 * 1024


def _head(path: Path, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(max_bytes)
    except OSError:
        return b""


def files_of(jobs: Iterable[Job]) -> list[Path]:
    """Each job's hidden suite (and its folder's conftest.py) and submitted file, once."""
    files: dict[Path, None] = {}
    for job in jobs:
        files.update(dict.fromkeys(suite_files(job.assignment.hidden_suite)))
        if job.path is not None:
            files[job.path] = None
    return list(files)


def suite_files(suite: Path) -> tuple[Path, Path]:
    """A hidden suite and its folder's conftest.py: what the suite's imports are read from."""
    return suite, suite.parent / "conftest.py"


def preload_for(jobs: Iterable[Job], max_bytes: int = MAX_BYTES) -> tuple[str, ...]:
    """The modules of CANDIDATES that the jobs' suites or submissions mention."""
    return mentioned(files_of(jobs), max_bytes)


def mentioned(files: Iterable[Path], max_bytes: int = MAX_BYTES) -> tuple[str, ...]:
    """The modules of CANDIDATES that ``files`` mention (each file's first ``max_bytes``)."""
    wanted: set[str] = set()
    for path in files:
        text = _head(path, max_bytes)
        wanted.update(name for name, pattern in CANDIDATES
                      if name not in wanted and pattern.search(text))
        if len(wanted) == len(CANDIDATES):
            break
    return tuple(name for name, _ in CANDIDATES if name in wanted)


def with_preload(settings: Settings, jobs: Sequence[Job]) -> Settings:
    """``settings`` with the preload of ``jobs`` decided, unless it already names one."""
    if settings.preload is not None or not jobs:
        return settings
    return replace(settings, preload=preload_for(jobs))


def warm_optimizer() -> None:
    """torch._dynamo's placeholder in place, then one SGD step on a throwaway parameter:
    what an optimizer's first step imports but the compiler, imported now. The suites'
    reference training runs in the grader."""
    import torch  # noqa: F401 - imported here: ondemand.warm_step takes it from sys.modules

    ondemand.warm_step()

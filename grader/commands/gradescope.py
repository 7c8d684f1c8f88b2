"""``grade gradescope OUT.zip``: the Gradescope autograder; ``grade gradescope-run``: its run.

The zip (grader.integrations.gradescope.bundle) holds ``setup.sh`` (Gradescope runs it once, as
root, to
build the image: Python 3.11+, bubblewrap, a virtual environment with a pinned CPU torch, the
grader's pinned dependencies and the grader from its source in the zip), ``run_autograder``
(per submission: ``grade gradescope-run``), ``autograder.json`` (this build's choices) and the
course files grading reads. ``grade gradescope-run`` (grader.integrations.gradescope.autograde)
grades the
upload exactly as ``grade`` grades that student and writes Gradescope's results.json, also
when the grader fails.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import grader
from grader.core.course import Course
from grader.core.errors import ConfigError
from grader.core.settings import Limits
from grader.integrations.gradescope.autograde import AutogradeOutcome, autograde
from grader.integrations.gradescope.bundle import Install, bundle_entries, local_torch, write_zip
from grader.integrations.gradescope.config import AutograderConfig

#: PyTorch's own index of CPU-only wheels (a CUDA torch would be gigabytes).
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass(frozen=True)
class GradescopeRequest:
    out_zip: Path
    only: tuple[str, ...] = ()
    test_visibility: str = "after_due_date"
    stdout_visibility: str = "hidden"
    torch: str | None = None  # default: the torch installed here, pinned
    torch_index: str = CPU_INDEX
    sandbox: str = "auto"
    limits: Limits = Limits()


@dataclass(frozen=True)
class GradescopeBuild:
    out_zip: Path
    config: AutograderConfig
    names: tuple[str, ...]


def build(request: GradescopeRequest, course: Course, secret: str,
          echo: Callable[[str], None] = print) -> GradescopeBuild:
    """Write the autograder zip for the chosen assignments (default: all)."""
    chosen = tuple(a.id for a in course.select(request.only))
    if not request.out_zip.name.lower().endswith(".zip"):
        raise ConfigError(f"{request.out_zip}: the autograder must be a .zip file")
    config = AutograderConfig(assignments=chosen, grader_version=grader.__version__,
                              test_visibility=request.test_visibility,
                              stdout_visibility=request.stdout_visibility,
                              sandbox=request.sandbox, limits=request.limits)
    install = Install(torch=request.torch or local_torch(), torch_index=request.torch_index)
    entries = bundle_entries(course, config, install, secret)
    path = write_zip(request.out_zip, entries)
    with zipfile.ZipFile(path) as archive:
        names = tuple(archive.namelist())
    titles = ", ".join(course.get(a).title for a in chosen)
    echo(f"Wrote the Gradescope autograder for {titles} ({len(names)} files, "
         f"{path.stat().st_size // 1024} KiB) to {path}")
    echo(f"setup.sh installs {install.torch} from {install.torch_index or 'the default index'};"
         f" test details are shown to students: {config.test_visibility}")
    return GradescopeBuild(out_zip=path, config=config, names=names)


@dataclass(frozen=True)
class GradescopeRunRequest:
    root: Path


def run(request: GradescopeRunRequest, env: Mapping[str, str] | None = None,
        echo: Callable[[str], None] = print) -> AutogradeOutcome:
    """Grade the submission in ``request.root`` (Gradescope's /autograder) into results.json."""
    return autograde(request.root, env=env, echo=echo)

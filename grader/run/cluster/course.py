"""The course on a Dask worker: sent once by the client, unpacked into a private folder.

What travels is what grading reads besides the student's file: every assignment's
``assignment.toml`` and the hidden suites' folder (``solutions/hidden/``: suites, pytest.ini,
helper files). Never the reference notebooks, and never the course secret: each task carries
its submission's seed, derived on the client.

The client wraps the files in a :class:`CoursePlugin` (a Dask WorkerPlugin) named after their
digest and the grader's own build, and registers it once; the scheduler hands it to every
worker, those that join later or are restarted included. Each worker process checks that its
nn-grader is the client's, writes the files into a fresh 0700 folder and records it under the
digest. A task names the digest it needs and checks its suite's hash against the folder, so a
worker without this exact course refuses rather than grades.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

import grader
from grader.core.course import Course
from grader.core.errors import Refused

#: digest -> folder of each course this worker process holds
_INSTALLED: dict[str, Path] = {}
_LOCK = threading.Lock()


@functools.cache
def grader_build() -> str:
    """A hash of the installed grader's source: client and workers must run the same code."""
    package = Path(grader.__file__).resolve().parent
    digest = hashlib.sha256(grader.__version__.encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return f"{grader.__version__}+{digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class CoursePack:
    """The course files a worker needs, by path relative to the course root."""

    files: dict[str, bytes]
    digest: str


def pack_course(course: Course) -> CoursePack:
    """Read the course's grading material (a missing hidden suite just is not there)."""
    root = course.root
    paths = [a.folder / "assignment.toml" for a in course.assignments]
    hidden = root / "solutions" / "hidden"
    if hidden.is_dir():
        paths += [p for p in hidden.rglob("*") if p.is_file() and not p.is_symlink()
                  and "__pycache__" not in p.parts]
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(paths)}
    return CoursePack(files, files_digest(files))


def files_digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()[:32]


def unpack(files: dict[str, bytes], digest: str) -> Path:
    """Write ``files`` into a new private folder, after checking them against ``digest``."""
    if files_digest(files) != digest:
        raise Refused("the course files do not match their digest")
    root = Path(tempfile.mkdtemp(prefix="nn-grader-course-"))  # mode 0700
    try:
        for name, data in files.items():
            relative = PurePosixPath(name)
            if relative.is_absolute() or any(part in ("", ".", "..") for part in relative.parts):
                raise Refused(f"the course holds a bad path {name!r}")
            target = root.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root


def installed(digest: str) -> Path | None:
    """The folder of the course ``digest`` in this worker process, if it holds it."""
    with _LOCK:
        return _INSTALLED.get(digest)


class CoursePlugin(WorkerPlugin):
    """Carries the course to every worker (registered once per course and grader build)."""

    idempotent = True  # the name is the content: registering it again changes nothing

    def __init__(self, pack: CoursePack, build: str) -> None:
        self.files = pack.files
        self.digest = pack.digest
        self.build = build
        self.name = f"nn-grader-course-{self.digest[:16]}-{build}"

    def setup(self, worker: Any) -> None:
        where = f"Dask worker {worker.address}"
        if grader_build() != self.build:
            raise Refused(f"{where} runs nn-grader {grader_build()}, the client "
                          f"{self.build}: install the same grader on every machine")
        threads = worker.state.nthreads
        if threads != 1:
            raise Refused(f"{where} has {threads} threads: start workers with --nthreads 1 "
                          "(each process grades one submission at a time in its own sandbox "
                          "slot; --nworkers N for N at once)")
        root = unpack(self.files, self.digest)
        with _LOCK:
            previous = _INSTALLED.pop(self.digest, None)
            _INSTALLED[self.digest] = root
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)

    def teardown(self, worker: Any) -> None:
        with _LOCK:
            root = _INSTALLED.pop(self.digest, None)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

"""The process level's private view, as root: what the worker must not read is hidden from it.

At the process level (no bubblewrap) the worker runs as the slot's uid on the host's own
filesystem. Run by root where mount and pid namespaces can be made (util-linux ``unshare``),
every worker, and the warm zygote its workers are forked from, starts in namespaces of its own:

- the folders the run names private (``Settings.private_paths``: the course's ``solutions/``
  with the hidden suites, the references and the course secret; the submissions folder; the
  output folder) are covered by an empty read-only tmpfs, so nothing under them can be read;
- a fresh ``/proc`` for its own pid namespace: the grader's processes, and so its argv, are
  not there to read;
- its home, its working folder, is a tmpfs capped at ``tmp_bytes`` (min(memory, 4 x file
  size): 64 MiB with the defaults) for all its files together, not only per file.

Where the home cannot be a tmpfs (no namespaces, or an ordinary user), a controller-side
watchdog (:class:`HomeWatch`) kills a worker whose home grows past that cap.

Where root cannot make them (a container without CAP_SYS_ADMIN, no ``unshare``), the run is
refused when a private folder is readable by the worker's uid (:func:`refuse_readable`), with
the ``chmod`` that fixes it (or ``GRADER_ACCEPT_READABLE=1`` to accept the risk). As an
ordinary user the worker is the grader's own uid and can
read what the grader reads: the process level's documented weakness (use bubblewrap).
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from grader.core.errors import ConfigError

#: Mounts every private folder that exists over with an empty read-only tmpfs and, given a
#: home, a size-capped tmpfs owned by the worker's uid there; then runs the rest.
PRELUDE = ('home=$1; size=$2; uid=$3; shift 3; '
           'while [ "$1" != "--" ]; do if [ -d "$1" ]; then '
           'mount -t tmpfs -o ro,nosuid,nodev,noexec,mode=000,size=4k tmpfs "$1" || exit 125; '
           'fi; shift; done; shift; '
           'if [ -n "$home" ]; then '
           'mount -t tmpfs -o "nosuid,nodev,mode=0700,size=$size,uid=$uid,gid=$uid" tmpfs "$home" '
           '|| exit 125; cd "$home" || exit 125; fi; exec "$@"')
#: ``GRADER_ACCEPT_READABLE=1``: grade anyway where a private folder is readable and cannot be
#: hidden (the instructor accepts that students can read it: trusted code, a demo)
ACCEPT_ENV = "GRADER_ACCEPT_READABLE"
NAMESPACES = ("unshare", "--ipc", "--mount", "--pid", "--fork", "--mount-proc", "--")


@functools.cache
def namespace_problem() -> str | None:
    """None where this process can start workers in mount and pid namespaces of their own
    (root, util-linux ``unshare`` and ``mount``), else why not."""
    if os.geteuid() != 0:
        return "the grader is not root"
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "util-linux unshare or mount is missing"
    with tempfile.TemporaryDirectory(prefix="grader-ns-probe-") as probe:
        try:
            done = subprocess.run([*prefix([probe], probe, 4096, 0), "/bin/true"],
                                  capture_output=True, timeout=30, check=False,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unshare did not run: {exc}"
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        return said[-1] if said else f"unshare failed (exit status {done.returncode})"
    return None


def prefix(hidden: Sequence[str], home: str | None, home_bytes: int, uid: int) -> list[str]:
    """The command prefix that starts the rest in its own IPC, mount and pid namespaces with
    ``hidden`` covered and (given) ``home`` a tmpfs of ``home_bytes`` owned by ``uid``."""
    return [*NAMESPACES, "/bin/sh", "-c", PRELUDE, "sh", home or "", str(home_bytes), str(uid),
            *hidden, "--"]


def readable_by_others(path: Path) -> bool:
    """Whether a uid that owns nothing and is in no group can reach and read ``path``: every
    folder above it searchable by others, and it readable or searchable by others."""
    try:
        resolved = path.resolve()
        if not resolved.exists():
            return False
        for folder in reversed(resolved.parents):
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return False
        return bool(os.stat(resolved).st_mode & (stat.S_IROTH | stat.S_IXOTH))
    except OSError:
        return False


def refuse_readable(paths: Sequence[Path]) -> None:
    """At the process level run by root where no namespace can hide them: refuse a run whose
    private folders the workers' uid could read, naming the first and the fix. (As an
    ordinary user the worker is the grader's own uid: nothing to refuse, nothing to fix.)"""
    if os.geteuid() != 0 or namespace_problem() is None or os.environ.get(ACCEPT_ENV) == "1":
        return
    for path in paths:
        if readable_by_others(path):
            raise ConfigError(
                f"{path}: readable by the workers' unprivileged uid at --sandbox process, and "
                f"this machine cannot hide it ({namespace_problem()}); run chmod 700 {path} "
                f"(or install bubblewrap, or set {ACCEPT_ENV}=1 to grade anyway)")


#: How often the home watchdog measures a home on the host disk, and the most entries it
#: walks (more files than that is over the cap too: a walk must stay cheap).
HOME_POLL_S = 0.1
HOME_MAX_ENTRIES = 50_000


class HomeWatch:
    """Where a worker's home is on the host disk (no tmpfs: an ordinary user, or no
    namespaces), a controller-side watchdog on its total size: every ``HOME_POLL_S`` it adds up
    the blocks of everything in it and, past ``cap`` bytes (or ``HOME_MAX_ENTRIES`` entries),
    calls ``stop`` (which kills the worker) once. What the worker wrote between two looks is
    over the cap by at most what it can write in ``HOME_POLL_S``; each file is also capped by
    RLIMIT_FSIZE."""

    def __init__(self, home: str, cap: int, stop: Callable[[], None]) -> None:
        self.home, self.cap, self.stop = home, cap, stop
        self.tripped = False
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="home-watch")
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(HOME_POLL_S):
            if home_bytes(self.home) > self.cap:
                self.tripped = True
                self.stop()
                return

    def close(self) -> None:
        self.done.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout=1.0)


def home_bytes(folder: str) -> int:
    """Bytes the files under ``folder`` occupy (blocks, so a sparse file counts what it
    uses); past HOME_MAX_ENTRIES entries, more than any cap."""
    total, seen, stack = 0, 0, [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    seen += 1
                    if seen > HOME_MAX_ENTRIES:
                        return 1 << 62
                    info = entry.stat(follow_symlinks=False)
                    total += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
        except OSError:
            continue
    return total

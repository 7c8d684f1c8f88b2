"""Strong Linux level: bubblewrap namespaces, an unprivileged uid, rlimits, whole-tree kill.

The worker sees a read-only system (/usr, /lib*, /etc), the Python installation and its
site-packages, the worker's two files at /worker, a private tmpfs /tmp, and nothing else: not
the hidden suites, the solutions, the grader's output folder or other students' files. It has
no network (a fresh network namespace holds only its own loopback), its own pid namespace (so
killing bubblewrap ends every process it started, detached grandchildren included), and runs as
a dedicated unprivileged uid without capabilities, so RLIMIT_NPROC caps its processes and
threads without touching the instructor's own.

Started as root, bubblewrap sets up the namespaces and ``setpriv`` drops to the worker uid
before Python starts. Started as an ordinary user, bubblewrap makes a user namespace itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.sandbox.base import WORKER_DIR
from grader.sandbox.process import ProcessWorker
from grader.settings import Limits

SANDBOX_WORKER_DIR = "/worker"
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
GPU_DEVICE_GLOBS = ("nvidia*", "dri")
BASE_UID = 61000


def python_paths() -> list[str]:
    """Folders the worker's Python needs: its installation and the environment's packages."""
    paths = {sys.base_prefix, sys.prefix, str(Path(sys.executable).resolve().parent.parent)}
    paths.update(p for p in sys.path if p and Path(p).is_dir() and "site-packages" in p)
    return sorted(p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths))


def gpu_binds() -> list[str]:
    """``--dev-bind`` arguments for NVIDIA device nodes, when present."""
    args: list[str] = []
    for pattern in GPU_DEVICE_GLOBS:
        for node in sorted(Path("/dev").glob(pattern)):
            args += ["--dev-bind", str(node), str(node)]
    return args


def _parent_dirs(path: str) -> list[str]:
    """Create the path's ancestors world-readable (bwrap as root would make them 0700)."""
    args: list[str] = []
    for parent in reversed(Path(path).parents[:-1]):
        if str(parent) not in SYSTEM_PATHS:
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def bwrap_command(uid: int) -> list[str]:
    """The command prefix that starts a worker inside the sandbox."""
    # As root, --unshare-all would add a user namespace mapping only uid 0, where setpriv
    # cannot switch to the worker uid; so root unshares every other namespace explicitly.
    unshare = (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try"] if os.geteuid() == 0 else ["--unshare-all"])
    args = ["bwrap", *unshare, "--die-with-parent", "--new-session",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/tmp"]
    for path in SYSTEM_PATHS:
        if os.path.lexists(path):
            args += ["--ro-bind", path, path] if not os.path.islink(path) else \
                ["--symlink", os.readlink(path), path]
    for path in python_paths():
        args += [*_parent_dirs(path), "--ro-bind", path, path]
    args += ["--ro-bind", str(WORKER_DIR), SANDBOX_WORKER_DIR, *gpu_binds()]
    if os.geteuid() == 0:
        args += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    else:
        args += ["--"]
    return args


def available() -> str | None:
    """None when this level works here, else why not."""
    if not sys.platform.startswith("linux"):
        return "bubblewrap needs Linux"
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (apt-get install bubblewrap)"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv is not installed (util-linux)"
    probe = subprocess.run([*bwrap_command(BASE_UID), "/bin/true"], capture_output=True,
                           timeout=20, check=False)
    if probe.returncode != 0:
        return "bwrap cannot create namespaces here: " + probe.stderr.decode(errors="replace")[:200]
    return None


class BwrapSandbox:
    level = "bwrap"
    description = ("bwrap (bubblewrap namespaces: no network, private /tmp, only the Python "
                   "installation visible; unprivileged uid; rlimits)")

    def __init__(self, slot: int = 0) -> None:
        self.uid = BASE_UID + slot

    def start(self, limits: Limits) -> ProcessWorker:
        inside = {"script": f"{SANDBOX_WORKER_DIR}/remote.py", "home": "/tmp"}
        return ProcessWorker(limits, prefix=bwrap_command(self.uid), inside=inside)

"""Strong Linux level: bubblewrap namespaces, an unprivileged uid, cgroups or rlimits, tree kill.

The worker sees a read-only system (/usr, /lib*, /etc), the Python installation and its
site-packages, the worker's files at /worker, private tmpfs /tmp and /dev/shm (size-capped), a
minimal /dev, and nothing else: not the hidden suites, the solutions, the grader's output
folder, its home or working folder, or other students' files. It has no network (a fresh
network namespace holds only its own loopback), its own pid namespace (killing bubblewrap's
init there makes the kernel kill every process the worker started, detached grandchildren
included), its own IPC and UTS namespaces, an environment set from scratch (``--clearenv``),
and runs as the slot's own unprivileged uid without capabilities, so RLIMIT_NPROC caps its
processes and threads without touching anyone else's.

Started as root, bubblewrap sets up the namespaces and ``setpriv`` drops to the worker uid
before Python starts. Why not ``--unshare-all`` there: it also makes a user namespace, and one
created by root maps only uid 0, where setpriv cannot switch to the worker uid (and bwrap's own
``--uid`` only changes the uid *inside* that namespace, while the process keeps root's
capabilities over it). So root unshares every other namespace explicitly and lets setpriv drop
privileges for real. Started as an ordinary user, bubblewrap makes a user namespace itself
(``--unshare-all``) and the worker keeps the user's uid outside it.

The warm zygote (grader/sandbox/zygote.py) is started the same way but keeps a few
capabilities (``caps``) instead of dropping to the worker uid: it builds each worker's own pid,
mount and IPC namespaces and drops the worker itself (grader/worker/isolate.py).

On a GPU (``device="cuda"``) the NVIDIA device nodes are bound in, and memory is capped by the
cgroup only (CUDA reserves far more address space than it uses, so RLIMIT_AS would break it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.core.settings import Limits
from grader.sandbox import cgroups as cg
from grader.sandbox import slots
from grader.sandbox.base import WORKER_DIR
from grader.sandbox.process import ProcessWorker, limit_mechanisms, setpriv_prefix

SANDBOX_WORKER_DIR = "/worker"
SANDBOX_HOME = "/tmp"
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
GPU_DEVICE_GLOBS = ("nvidia*", "nvidia-caps", "dri")
GPU_PATHS = ("/proc/driver/nvidia", "/sys/bus/pci", "/sys/devices", "/sys/module/nvidia",
             "/sys/class/drm", "/usr/local/nvidia", "/usr/local/cuda", "/opt/nvidia")
#: Folders of the grader that must stay hidden even if they lie inside a bound system path.
REPO_ROOT = WORKER_DIR.parent.parent


def python_paths() -> list[str]:
    """Folders the worker's Python needs: its installation and the environment's packages."""
    paths = {sys.base_prefix, sys.prefix, str(Path(sys.executable).resolve().parent.parent)}
    paths.update(p for p in sys.path if p and Path(p).is_dir() and "site-packages" in p)
    return sorted(p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths))


def gpu_binds() -> list[str]:
    """Arguments binding what CUDA needs: NVIDIA device nodes, driver info, driver folders."""
    args: list[str] = []
    for pattern in GPU_DEVICE_GLOBS:
        for node in sorted(Path("/dev").glob(pattern)):
            args += ["--dev-bind", str(node), str(node)]
    for path in GPU_PATHS:
        if os.path.exists(path) and not any(path.startswith(s + "/") for s in SYSTEM_PATHS):
            args += ["--ro-bind", path, path]
    return args


def _parent_dirs(path: str) -> list[str]:
    """Create the path's ancestors world-readable (bwrap as root would make them 0700)."""
    args: list[str] = []
    for parent in reversed(Path(path).parents[:-1]):
        if str(parent) not in SYSTEM_PATHS:
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip("/") + "/")


def _masks(bound: list[str], python: list[str]) -> list[str]:
    """Hide the grader's checkout, working folder and home where a bound path contains them
    (a course kept under /usr/local or /opt/venv, say), keeping the Python folders inside."""
    args: list[str] = []
    for secret in dict.fromkeys([str(REPO_ROOT), os.getcwd(), os.path.expanduser("~")]):
        if secret in ("/", "") or not any(_inside(secret, b) for b in bound):
            continue
        if any(secret == p or _inside(secret, p) for p in python):
            continue  # the folder is itself inside the Python installation: nothing to hide
        args += ["--tmpfs", secret]
        for path in python:
            if _inside(path, secret):
                args += [*_parent_dirs(path), "--ro-bind", path, path]
    return args


def bwrap_command(uid: int | None, env: dict[str, str] | None = None, device: str = "cpu",
                  tmp_bytes: int | None = None, caps: tuple[str, ...] = ()) -> list[str]:
    """The command prefix that starts a worker inside the sandbox (see the module docstring).

    ``caps``: the program keeps these capabilities (in the sandbox's user namespace, or as
    root) instead of dropping to ``uid``: the warm zygote, which drops each worker itself."""
    root = os.geteuid() == 0
    unshare = (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try"] if root else ["--unshare-all"])
    args = ["bwrap", *unshare, "--die-with-parent", "--new-session", "--clearenv"]
    if caps:
        args += ["--cap-drop", "ALL"]
        for cap in caps:
            args += ["--cap-add", cap]
    for name, value in (env or {}).items():
        args += ["--setenv", name, value]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for folder in ("/dev/shm", "/tmp"):
        if tmp_bytes:
            args += ["--size", str(tmp_bytes)]
        args += ["--perms", "1777", "--tmpfs", folder]
    args += ["--chdir", SANDBOX_HOME]
    bound: list[str] = []
    for path in SYSTEM_PATHS:
        if os.path.lexists(path):
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            else:
                args += ["--ro-bind", path, path]
                bound.append(path)
    python = python_paths()
    for path in python:
        args += [*_parent_dirs(path), "--ro-bind", path, path]
    args += _masks(bound + python, python)
    args += ["--ro-bind", str(WORKER_DIR), SANDBOX_WORKER_DIR]
    if device != "cpu":
        args += gpu_binds()
    args += ["--"]
    if root and not caps:
        assert uid is not None
        args += setpriv_prefix(uid)
    return args


def available() -> str | None:
    """None when this level works here, else why not."""
    if not sys.platform.startswith("linux"):
        return "bubblewrap needs Linux"
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (apt-get install bubblewrap)"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv is not installed (util-linux)"
    try:
        probe = subprocess.run([*bwrap_command(slots.base_uid() + slots.MAX_SLOTS), "/bin/true"],
                               capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap did not run: {exc}"
    if probe.returncode != 0:
        return "bwrap cannot create namespaces here: " + probe.stderr.decode(errors="replace")[:200]
    return None


class BwrapSandbox:
    level = "bwrap"

    def __init__(self, slot: int | None = None) -> None:
        self.uid = slots.worker_uid(slot)
        self.cgroups = cg.factory()
        who = f"unprivileged uid {self.uid}" if self.uid is not None else \
            "the user's uid in a user namespace"
        self.description = (
            "bwrap (bubblewrap namespaces: no network, private /tmp, read-only system, only "
            f"the Python installation visible; {who}; "
            f"{limit_mechanisms(self.cgroups, self.uid)})")

    def start(self, limits: Limits, device: str = "cpu", *, program: str = "remote.py",
              extra_config: dict[str, object] | None = None, extra_fds: tuple[int, ...] = (),
              cgroup_slack_mb: int = 0, privileged: tuple[str, ...] = ()) -> ProcessWorker:
        """A cold worker; the keywords are ProcessWorker's program options (the zygote's)."""
        inside = {"dir": SANDBOX_WORKER_DIR, "home": SANDBOX_HOME}
        tmp_bytes = min(limits.memory_mb, 4 * limits.file_size_mb) * 1024 * 1024

        def wrap(argv: list[str], env: dict[str, str], caps: tuple[str, ...]) -> list[str]:
            return [*bwrap_command(self.uid, env, device, tmp_bytes, caps), *argv]

        return ProcessWorker(limits, device, uid=self.uid, cgroups=self.cgroups, wrap=wrap,
                             inside=inside, program=program, extra_config=extra_config,
                             extra_fds=extra_fds, cgroup_slack_mb=cgroup_slack_mb,
                             privileged=privileged)

    def close(self) -> None:
        """Nothing is kept between workers: each one is started cold."""

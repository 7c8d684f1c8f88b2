"""Plain-process level, and the worker process every real level starts.

A :class:`ProcessWorker` is one worker process talking over two pipes, with its output captured
(capped), its limits set and its whole process tree killed at the end. The process level runs it
directly; the bwrap level runs the same command inside bubblewrap.

What the process level promises: student code never runs in the grader's process; memory, CPU
time, file size, open files and (with a dedicated uid or a pids cgroup) processes are capped;
output is capped; everything the worker started is killed at the end. Started as root it also
runs the worker as the slot's own unprivileged uid (``setpriv``, no capabilities, no new
privileges): the worker cannot signal the grader, write where that uid cannot, and what it left
in world-writable folders is removed; where root can make namespaces, the run's private folders
(the course's solutions, the submissions, the output) are hidden from it, with its own /proc and
a size-capped tmpfs home (grader.sandbox.private). What it cannot promise (use the bwrap
level): the worker can read any other file its uid can read and reach the network; as an
ordinary user it shares the grader's uid, so it can also signal the grader and write where the
grader can, and without a cgroup a grandchild that starts its own session escapes the
process-group kill. docs/threat-model.md lists this.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from grader.core.errors import SandboxFailure
from grader.core.settings import Limits
from grader.sandbox import cgroups as cg
from grader.sandbox import private as view
from grader.sandbox import slots
from grader.sandbox.base import WORKER_DIR, Pipes, describe_exit
from grader.sandbox.clock import budget_rule

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
PASSED_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL",
                    "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
WORKER_FILES = ("remote.py", "isolate.py", "ondemand.py")  # and the protocol package
SETPRIV_FLAGS = ("--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs")

#: (worker argv, worker environment, capabilities it keeps) -> the command line that starts it
Wrapper = Callable[[list[str], dict[str, str], tuple[str, ...]], list[str]]


def tmp_bytes(limits: Limits) -> int:
    """Size of a worker's /tmp and /dev/shm at the bwrap level, and of its home at the process
    level where that is a tmpfs: min(memory, 4 x the file size cap)."""
    return min(limits.memory_mb, 4 * limits.file_size_mb) * 1024 * 1024


def worker_environment(home: str) -> dict[str, str]:
    """A small, explicit environment: one thread per BLAS, no display, no user site."""
    env = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    env.update({name: "1" for name in THREAD_VARIABLES})
    env.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home,
                "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                "MPLCONFIGDIR": home,
                # the worker uid has no passwd entry: getpass/getpwuid-based lookups (torch's
                # compile cache) fall back to these instead of raising KeyError
                "USER": "student", "LOGNAME": "student"})
    return env


def setpriv_prefix(uid: int) -> list[str]:
    """Drop to ``uid`` (and its own gid, no groups, no capabilities) before the worker runs."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", *SETPRIV_FLAGS, "--"]


def own_ipc_prefix() -> list[str]:
    """Run the program in an IPC namespace of its own (root, Linux with util-linux unshare):
    its System V objects and POSIX message queues vanish with it."""
    return ["unshare", "--ipc", "--"] if shutil.which("unshare") else []


def keep_only(capabilities: tuple[str, ...]) -> list[str]:
    """Stay root but with only ``capabilities`` (the bounding set root's exec draws from)."""
    names = ",".join(f"+{c.lower().removeprefix('cap_')}" for c in capabilities)
    return ["setpriv", "--inh-caps=-all", f"--bounding-set=-all,{names}", "--"]


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry))
    return found


def worker_rlimits(limits: Limits, device: str, uid: int | None,
                   cgroup: cg.Cgroup | None) -> dict[str, int]:
    """The rlimits the worker sets on itself, given what cgroups already cap.

    Memory: a cgroup caps it where there is one; otherwise RLIMIT_AS does, except on a GPU,
    where CUDA reserves many GiB of address space it never uses. Processes: RLIMIT_NPROC counts
    every process and thread of the real uid, so it is set to the limit *plus* what that uid
    already runs (zombies included): exact with the slot's own uid, a bound with the grader's.
    """
    rlimits = dict(limits.worker_rlimits())
    if (cgroup is not None and cgroup.memory) or device != "cpu":
        rlimits.pop("memory_bytes")
    if uid is not None:
        rlimits["processes"] = limits.processes + slots.uid_tasks(uid)
    elif cgroup is not None and cgroup.pids:
        rlimits.pop("processes")
    elif sys.platform.startswith("linux"):
        rlimits["processes"] = limits.processes + slots.uid_tasks(os.getuid())
    else:
        rlimits.pop("processes")
    return rlimits


class ProcessWorker:
    """A worker process in its own session, talking over two pipes.

    ``uid``: run as this uid (the grader is root). ``cgroups``: where the worker's cgroup comes
    from (None: rlimits only). ``wrap``: builds the full command from the worker's argv and
    environment (the bwrap level's namespaces); None runs it directly. ``inside`` maps
    "dir" (the worker's code) and "home" to their paths as the worker sees them.
    ``program`` is the worker-side script: ``remote.py``, or ``zygote.py`` for a warm zygote,
    which gets ``extra_config`` in its config and inherits ``extra_fds``. ``privileged``: the
    program keeps these capabilities (as root: the zygote, which drops each worker it forks to
    ``uid`` itself); ``wrap`` gets them as its third argument.
    """

    def __init__(self, limits: Limits, device: str = "cpu", *, uid: int | None = None,
                 cgroups: cg.CgroupFactory | None = None, wrap: Wrapper | None = None,
                 inside: dict[str, str] | None = None, program: str = "remote.py",
                 extra_config: dict[str, object] | None = None,
                 extra_fds: tuple[int, ...] = (), cgroup_slack_mb: int = 0,
                 privileged: tuple[str, ...] = (),
                 private: tuple[str, ...] | None = None) -> None:
        self.limits = limits
        #: hidden from the worker in namespaces of its own (grader.sandbox.private); None: no
        self.private = private
        self.code_dir: str | None = None
        self.uid = uid
        self.privileged = privileged
        self.namespaced = wrap is not None
        self.home = tempfile.mkdtemp(prefix="grader-worker-")
        self.process: subprocess.Popen[bytes] | None = None
        self.read_fd = self.write_fd = -1
        self.pipes: Pipes | None = None
        self._killed = False
        self.program = program
        self.extra_config = extra_config or {}
        self.extra_fds = extra_fds
        self.cgroup = cgroups.create((limits.memory_mb + cgroup_slack_mb) * 1024 * 1024,
                                     limits.processes + (16 if cgroup_slack_mb else 0)) \
            if cgroups is not None else None
        self.home_watch: view.HomeWatch | None = None
        try:
            self._start(device, wrap, inside)
        except BaseException:
            self.kill()
            raise
        if wrap is None and not privileged and self.private is None:
            # its home is on the host disk: a watchdog caps it in all (grader.sandbox.private)
            self.home_watch = view.HomeWatch(self.home, tmp_bytes(limits), self._stop)

    def _stop(self) -> None:
        """Kill the worker's processes (the home watchdog's thread; kill() cleans up later)."""
        if self.cgroup is not None:
            self.cgroup.kill()
        process = self.process
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _start(self, device: str, wrap: Wrapper | None, inside: dict[str, str] | None) -> None:
        self.pipes = pipes = Pipes.open(self.limits.output_bytes)
        self.read_fd, self.write_fd = pipes.read_fd, pipes.write_fd
        child_read, child_write, out_write = pipes.child_fds
        code_dir = str(WORKER_DIR)
        if self.uid is not None and not self.privileged:
            os.chown(self.home, self.uid, self.uid)
            os.chmod(self.home, 0o700)
            if not self.namespaced:  # the worker's uid may not read the grader's checkout
                self.code_dir = tempfile.mkdtemp(prefix="grader-code-")  # (not in the home:
                copy = Path(self.code_dir) / "worker"  # a private home is a fresh tmpfs)
                copy.mkdir()
                os.chmod(self.code_dir, 0o755)
                for name in WORKER_FILES:
                    shutil.copyfile(WORKER_DIR / name, copy / name)
                shutil.copytree(WORKER_DIR / "protocol", copy / "protocol",
                                ignore=shutil.ignore_patterns("__pycache__"))
                os.chmod(copy, 0o755)
                code_dir = str(copy)
        inside = inside or {"dir": code_dir, "home": self.home}
        config = {"limits": worker_rlimits(self.limits, device, self.uid, self.cgroup),
                  "read_fd": child_read, "write_fd": child_write,
                  "own_uid": self.uid is not None or self.namespaced,
                  **self.extra_config}
        argv = [sys.executable, "-I", "-B", f"{inside['dir']}/{self.program}",
                json.dumps(config)]
        env = worker_environment(inside["home"])
        if wrap is not None:
            command: Sequence[str] = wrap(argv, env, self.privileged)
            env = {"PATH": env["PATH"]}  # bubblewrap sets the worker's own (--clearenv)
        elif self.uid is not None and self.private is not None:  # root, namespaces: hidden
            home = None if self.privileged else self.home  # (a zygote's workers: isolate.py)
            prefix = [*view.prefix(self.private, home, tmp_bytes(self.limits), self.uid),
                      *(keep_only(self.privileged) if self.privileged else
                        setpriv_prefix(self.uid))]
            command = [*prefix, *argv]
        elif self.uid is not None:  # root: the worker gets System V and POSIX IPC of its own
            prefix = keep_only(self.privileged) if self.privileged else \
                [*own_ipc_prefix(), *setpriv_prefix(self.uid)]
            command = [*prefix, *argv]
        else:
            command = argv
        try:
            self.process = subprocess.Popen(
                [*cg.attach_prefix(self.cgroup), *command],
                pass_fds=(child_read, child_write, *self.extra_fds),
                stdin=subprocess.DEVNULL,
                stdout=out_write, stderr=out_write, cwd=self.home, start_new_session=True,
                env=env)
        except OSError as exc:
            raise SandboxFailure(f"the worker could not be started: {exc}") from None
        finally:
            pipes.close_child_ends()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """End the worker and everything it started; free its cgroup, files and pipes."""
        if self._killed:
            return
        self._killed = True
        if self.home_watch is not None:
            self.home_watch.close()
        process = self.process
        if process is not None and process.poll() is None and self.namespaced:
            # Killing bubblewrap's init inside the pid namespace makes the kernel kill every
            # process in it; bubblewrap then exits by itself and is reaped here (killing
            # bubblewrap first would leave its init to an outer reaper as a zombie).
            for child in children_of(process.pid):
                try:
                    os.kill(child, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                pass
        if self.uid is not None:
            slots.kill_uid(self.uid)
        if self.cgroup is not None:
            self.cgroup.kill()
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.kill()
            process.wait()
        if self.pipes is not None:
            self.pipes.close()
        self.read_fd = self.write_fd = -1
        if self.cgroup is not None:
            self.cgroup.remove()
        if self.uid is not None and not self.namespaced:
            slots.remove_uid_files(self.uid)
            slots.remove_uid_ipc(self.uid)
        shutil.rmtree(self.home, ignore_errors=True)
        if self.code_dir is not None:
            shutil.rmtree(self.code_dir, ignore_errors=True)

    def output(self) -> str:
        return self.pipes.output.text() if self.pipes is not None else ""

    def cpu_seconds(self) -> float | None:
        """CPU time of the worker's cgroup (None: no cgroup counts it)."""
        return self.cgroup.cpu_seconds() if self.cgroup is not None else None

    def exit_description(self) -> str:
        if self.process is None:
            return "did not start"
        try:  # called once the channel closed: the process is exiting, give it a moment
            code = self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "closed its channel but is still running"
        if self.cgroup is not None and self.cgroup.oom_killed():
            return f"killed: memory limit reached ({self.limits.memory_mb} MiB)"
        if self.home_watch is not None and self.home_watch.tripped:
            return (f"killed: its files took more than {tmp_bytes(self.limits) >> 20} MiB "
                    "together")
        if code == 126 and self.cgroup is not None and not self.namespaced:
            return "exit status 126 (could not join its cgroup?)"
        return describe_exit(code)


def problem() -> str | None:
    """None when this level can run here, else why not."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return ("the grader runs as root and setpriv (util-linux) is missing: refusing to run "
                "student code as root")
    return None


def limit_mechanisms(factory: cg.CgroupFactory | None, uid: int | None) -> str:
    """How limits are enforced, for the sandbox description."""
    if factory is None:
        memory = "memory by RLIMIT_AS"
    elif "memory" in factory.controllers:
        memory = "memory by " + factory.description
    else:
        memory = "memory by RLIMIT_AS"
    if uid is not None:
        processes = f"processes by RLIMIT_NPROC of uid {uid}"
        if factory is not None and "pids" in factory.controllers:
            processes += " and the pids cgroup"
    elif factory is not None and "pids" in factory.controllers:
        processes = "processes by " + factory.description
    else:
        processes = "processes by RLIMIT_NPROC (shared with the grader's user)"
    tree = "kill by cgroup" if factory is not None else (
        "kill by uid" if uid is not None else "kill by process group")
    budgets = budget_rule(factory is not None and factory.counts_cpu)
    return f"{memory}; {processes}; CPU, file size, open files by rlimits; {tree}; {budgets}"


class ColdSandbox(Protocol):
    """A level that starts each worker as a fresh process (ProcessSandbox, BwrapSandbox): what
    a warm zygote (grader.sandbox.zygote) is started on, with the zygote's program options."""

    level: str
    description: str
    uid: int | None

    def start(self, limits: Limits, device: str = "cpu", *, program: str = "remote.py",
              extra_config: dict[str, object] | None = None, extra_fds: tuple[int, ...] = (),
              cgroup_slack_mb: int = 0, privileged: tuple[str, ...] = ()) -> ProcessWorker:
        """A cold worker; the keywords are ProcessWorker's program options (the zygote's)."""
        ...

    def close(self) -> None: ...


class ProcessSandbox:
    """Workers as plain subprocesses (the fallback where bubblewrap is unavailable)."""

    level = "process"

    def __init__(self, slot: int | None = None) -> None:
        self.uid = slots.worker_uid(slot)
        self.cgroups = cg.factory()
        #: the folders hidden from its workers (set per run: set_private); None where they
        #: cannot be hidden (no namespaces: grader.sandbox.private)
        self.private: tuple[str, ...] | None = \
            () if self.uid is not None and view.namespace_problem() is None else None
        who = f"unprivileged uid {self.uid}" if self.uid is not None else \
            "the grader's own uid"
        sees = ("the course's solutions, the submissions and the output folder hidden, its "
                "own /proc, a tmpfs home; no network isolation" if self.private is not None
                else "no filesystem or network isolation; a watchdog on its home's size")
        self.description = (f"process (separate process as {who}; "
                            f"{limit_mechanisms(self.cgroups, self.uid)}; {sees})")

    def start(self, limits: Limits, device: str = "cpu", *, program: str = "remote.py",
              extra_config: dict[str, object] | None = None, extra_fds: tuple[int, ...] = (),
              cgroup_slack_mb: int = 0, privileged: tuple[str, ...] = ()) -> ProcessWorker:
        """A cold worker; the keywords are ProcessWorker's program options (the zygote's)."""
        return ProcessWorker(limits, device, uid=self.uid, cgroups=self.cgroups,
                             program=program, extra_config=extra_config, extra_fds=extra_fds,
                             cgroup_slack_mb=cgroup_slack_mb, privileged=privileged,
                             private=self.private)

    def close(self) -> None:
        """Nothing is kept between workers: each one is started cold."""

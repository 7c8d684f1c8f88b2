"""Warm workers: one zygote per sandbox (per parallel slot), one forked child per worker.

The zygote (grader/worker/zygote.py) is started by a cold level with no student file in reach,
imports numpy and torch once, and forks each worker into a world of its own (see
grader/worker/isolate.py): at the bwrap level a pid, mount and IPC namespace per worker with a
fresh /proc, /tmp and /dev/shm; at the process level (root only) a fresh home and working
folder. The zygote keeps privileges its workers never have (capabilities to set that world
up, root's uid at the process level), so no worker can signal, trace, write or limit it.

Where a level cannot promise that (the process level as an ordinary user: the zygote and its
workers would share a uid and nothing else keeps them apart; or a machine where the namespaces
cannot be made), :class:`ZygoteSandbox` forks nothing and starts cold workers, and its
description says why: correctness before speed.

A slot that misbehaves is replaced: before each fork the zygote must answer a ping within
``PING_TIMEOUT_S`` or it is killed and restarted; a zygote that cannot be started, cannot fork
or stops answering raises :class:`~grader.core.errors.SandboxFailure`, which the grading loop
retries on a fresh slot and then records as a grader error, never as the student's score.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from typing import TypeVar

from grader.core.errors import SandboxFailure
from grader.core.settings import Limits
from grader.sandbox import slots
from grader.sandbox.base import Pipes, Worker, describe_exit
from grader.sandbox.process import (
    ColdSandbox,
    ProcessWorker,
    tmp_bytes,
    worker_rlimits,
)
from grader.sandbox.zygote_world import (
    capabilities_of,
    font_lists,
    isolation_of,
    uid_problem,
    warm_problem,
)
from grader.worker import protocol
from grader.worker.protocol import (
    ZygoteError,
    ZygoteExit,
    ZygoteKill,
    ZygotePing,
    ZygotePong,
    ZygoteReady,
    ZygoteSpawn,
    ZygoteSpawned,
    ZygoteStatus,
)

#: what a zygote imports when the run does not say (grader.run.preload decides it from the
#: course); "torch.optim" stands for an optimizer's first step (grader.run.preload.OPTIMIZER)
PRELOAD = ("numpy", "torch", "torch.optim", "matplotlib.pyplot")
ZYGOTE_START_TIMEOUT_S = 180.0
PING_TIMEOUT_S = 5.0
SPAWN_TIMEOUT_S = 30.0  # the zygote itself gives a worker 20 s to set up its world
REQUEST_TIMEOUT_S = 10.0
#: memory the zygote itself holds (numpy and torch imported), added to its slot's cgroup cap
ZYGOTE_MEMORY_MB = 1024
Reply = TypeVar("Reply")  # the type of control message a request expects back


class Zygote:
    """A zygote process (a cold, privileged worker running zygote.py) and its control socket.

    With ``wait`` false it is only started: its imports run while the grader goes on, and
    :meth:`await_ready` (before its first use) waits for its ZygoteReady."""

    def __init__(self, base: ColdSandbox, limits: Limits, device: str,
                 preload: tuple[str, ...] = PRELOAD, wait: bool = True) -> None:
        self.device = device
        self.pending = True  # started, its ZygoteReady not yet read
        self.problem: str | None = None
        self.control, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"control_fd": child.fileno(), "preload": list(preload),
                  "isolation": isolation_of(base),
                  "font_lists": font_lists() if any(name.startswith("matplotlib")
                                                    for name in preload) else {}}
        try:
            self.worker: ProcessWorker = base.start(
                limits, device, program="zygote.py", extra_config=config,
                extra_fds=(child.fileno(),), cgroup_slack_mb=ZYGOTE_MEMORY_MB,
                privileged=capabilities_of(base))
        except BaseException:
            self.control.close()
            raise
        finally:
            child.close()
        if wait:
            self.await_ready()

    def await_ready(self) -> None:
        """Wait for the zygote's ZygoteReady (its imports done); ``problem`` is then why its
        isolation cannot be had (None: it can). A zygote that fails to start is closed."""
        if not self.pending:
            return
        try:
            hello = self.request(None, ZygoteReady, timeout=ZYGOTE_START_TIMEOUT_S)
        except SandboxFailure:
            self.close()
            raise
        self.pending = False
        self.problem = hello.isolation

    def request(self, message: protocol.Message | None, expect: type[Reply],
                fds: tuple[int, ...] = (), timeout: float = REQUEST_TIMEOUT_S) -> Reply:
        """Send ``message`` (None: only wait, for ZygoteReady) and return its reply, which must
        be an ``expect``. A zygote that does not answer in time, or answers out of turn or
        malformed, is killed; a ZygoteError (the zygote could not do it) is a SandboxFailure."""
        what = type(message).__name__.removeprefix("Zygote").lower() \
            if message is not None else "start"
        try:
            if message is not None:
                socket.send_fds(self.control, [protocol.encode_message(message)], list(fds))
            self.control.settimeout(timeout)
            data = self.control.recv(65536)
            if not data:
                raise OSError(f"it exited ({self.worker.output()[-300:]})")
            reply = protocol.decode_control(data)
            if not isinstance(reply, (expect, ZygoteError)):
                raise protocol.WireError(f"a {type(reply).__name__} answered it")
        except (OSError, protocol.WireError) as exc:
            self.close()  # a reply that comes late would answer the next request
            raise SandboxFailure(f"the warm zygote failed ({what}): {exc}") from None
        if isinstance(reply, ZygoteError):
            raise SandboxFailure(f"the warm zygote refused {what}: {reply.error}")
        return reply

    def ping(self) -> bool:
        """Does the zygote answer promptly? (One that does not is killed.)"""
        try:
            self.request(ZygotePing(), ZygotePong, timeout=PING_TIMEOUT_S)
        except SandboxFailure:
            return False
        return True

    def alive(self) -> bool:
        return self.worker.alive()

    def close(self) -> None:
        self.worker.kill()
        self.control.close()


class ForkedWorker:
    """A worker forked by the zygote; the same interface as a cold ProcessWorker.

    ``home``: its home and working folder (process level), removed at the end with
    everything ``cleanup`` removes."""

    def __init__(self, zygote: Zygote, limits: Limits, rlimits: dict[str, int],
                 home: str | None = None, cleanup: Callable[[], None] | None = None) -> None:
        self.zygote = zygote
        self.cleanup = cleanup
        self.home = home
        self.limits = limits
        self.pid = 0
        self.pipes = Pipes.open(limits.output_bytes)
        self.read_fd, self.write_fd = self.pipes.read_fd, self.pipes.write_fd
        self._status: int | None = None
        request = ZygoteSpawn(limits=rlimits, home=home, tmp_bytes=tmp_bytes(limits))
        try:
            reply = zygote.request(request, ZygoteSpawned, self.pipes.child_fds,
                                   timeout=SPAWN_TIMEOUT_S)
        except SandboxFailure:
            self.kill()
            raise
        finally:
            self.pipes.close_child_ends()
        self.pid = reply.pid

    def _ask(self, request: ZygoteStatus | ZygoteKill) -> int | None:
        """The worker's wait status from the zygote (None: running). A zygote that is gone or
        does not answer is a failure of the grader, never the worker's exit."""
        if self._status is None:
            if not self.zygote.alive():
                raise SandboxFailure("the warm zygote is gone")
            wait = request.wait if isinstance(request, ZygoteStatus) else 0.0
            reply = self.zygote.request(request, ZygoteExit, timeout=REQUEST_TIMEOUT_S + wait)
            self._status = reply.status
        return self._status

    def alive(self) -> bool:
        return self._ask(ZygoteStatus(self.pid)) is None

    def kill(self) -> None:
        """Kill the worker. Where nothing is left to clean up after it (its own namespaces),
        the zygote answers at once and waits for its exit before its next request."""
        try:
            if self.pid:
                self._ask(ZygoteKill(self.pid, wait=self.cleanup is not None
                                     or self.home is not None))
        except SandboxFailure:
            self.zygote.close()  # its whole sandbox goes, this worker with it
        self.pipes.close()
        self.read_fd = self.write_fd = -1
        if self.cleanup is not None:
            self.cleanup()
            self.cleanup = None
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

    def output(self) -> str:
        return self.pipes.output.text()

    def cpu_seconds(self) -> float | None:
        """CPU time of the slot's cgroup: this worker's, and the zygote's, which idles while
        its worker runs (None: no cgroup counts it)."""
        cgroup = self.zygote.worker.cgroup
        return cgroup.cpu_seconds() if cgroup is not None else None

    def exit_description(self) -> str:
        status = self._ask(ZygoteStatus(self.pid, wait=1.0))
        if status is None:
            return "closed its channel but is still running"
        return describe_exit(os.waitstatus_to_exitcode(status))


class ZygoteSandbox:
    """A cold level's isolation with warm starts: ``make_sandbox(level, warm=True)``."""

    def __init__(self, base: ColdSandbox, preload: tuple[str, ...] | None = None) -> None:
        self.base = base
        self.preload = PRELOAD if preload is None else preload
        self.level = base.level
        self.uid: int | None = base.uid
        # why workers go cold here (None: they fork warm). Only what needs no process is
        # known now; the first zygote's own probe (its ZygoteReady) says the rest, so a run
        # does not start a probe process before its zygote (issue 32). ``verified``: that
        # answer (or warm_problem's) is in.
        self.cold_reason = uid_problem(base.level)
        self.verified = self.cold_reason is not None
        self.zygote: Zygote | None = None
        self.zygotes_started = 0  # more than one: a zygote failed and was replaced

    @property
    def description(self) -> str:
        if not self.verified:  # described before any zygote answered: probe now
            self.cold_reason = warm_problem(self.level, self.uid)
            self.verified = True
        if self.cold_reason is not None:
            return (f"{self.base.description}; cold workers (a fresh Python each): no warm "
                    f"zygote, {self.cold_reason}")
        world = ("its own pid, mount and IPC namespaces, /proc, /tmp and /dev/shm"
                 if self.level == "bwrap" else "a fresh home and working folder")
        return (f"{self.base.description}; warm workers forked from a zygote they cannot "
                f"reach, each in {world}")

    def start(self, limits: Limits, device: str = "cpu") -> Worker:
        zygote = self._zygote(limits, device) if self.cold_reason is None else None
        if zygote is None:
            return self.base.start(limits, device)
        rlimits = worker_rlimits(limits, device, self.uid, zygote.worker.cgroup)
        if zygote.worker.cgroup is not None and zygote.worker.cgroup.memory and device == "cpu":
            # the slot's cgroup also holds the zygote: cap this worker's own address space too
            rlimits["memory_bytes"] = limits.worker_rlimits()["memory_bytes"]
        home = self._home()
        return ForkedWorker(zygote, limits, rlimits, home, self._cleanup())

    def prestart(self, limits: Limits, device: str = "cpu") -> None:
        """Start the zygote now, without waiting for it, so that its imports (numpy, torch)
        run while the grader reads notebooks and imports the suites; :meth:`start` waits for
        it. Nothing when a zygote is kept already or the level goes cold."""
        if self.cold_reason is not None or self.zygote is not None:
            return
        self.zygotes_started += 1
        try:
            self.zygote = Zygote(self.base, limits, device, self.preload, wait=False)
        except SandboxFailure:
            self.zygote = None  # start() tries again, and reports what fails

    def _zygote(self, limits: Limits, device: str) -> Zygote | None:
        """A zygote that answered just now: the kept one (a prestarted one once it is ready),
        else a new one (None: go cold)."""
        zygote = self.zygote
        if zygote is not None and zygote.pending and zygote.device == device:
            try:
                zygote.await_ready()
            except SandboxFailure:
                zygote = self.zygote = None
            else:
                if zygote.alive():  # (one that died after its ZygoteReady is replaced below)
                    return self._usable(zygote)
        if zygote is not None and zygote.alive() and zygote.device == device and zygote.ping():
            return zygote
        self.close()
        self.zygotes_started += 1
        return self._usable(Zygote(self.base, limits, device, self.preload))

    def _usable(self, zygote: Zygote) -> Zygote | None:
        """``zygote`` kept, ready; None (and the level goes cold) where its isolation fails."""
        self.verified = True
        if zygote.problem is not None:
            self.cold_reason = zygote.problem
            zygote.close()
            return None
        self.zygote = zygote
        return zygote

    def _home(self) -> str | None:
        """Process level: a fresh home and working folder for one worker, of its uid only."""
        if self.level == "bwrap":
            return None  # its own tmpfs /tmp
        home = tempfile.mkdtemp(prefix="grader-worker-")
        if self.uid is not None:
            os.chown(home, self.uid, self.uid)
        return home

    def _cleanup(self) -> Callable[[], None] | None:
        """Process level: what the worker's uid left anywhere goes before the next worker."""
        uid = self.uid
        if self.level == "bwrap" or uid is None:
            return None

        def cleanup() -> None:
            slots.kill_uid(uid)
            slots.remove_uid_files(uid)

        return cleanup

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None

"""Warm workers: one zygote per sandbox (per parallel slot), one forked child per worker.

The zygote (grader/worker/zygote.py) is started by a cold level (bwrap or process) exactly as a
worker would be: the same namespaces, uid, cgroup and environment, with no student file in
reach, and numpy and torch imported once. Each ``start()`` sends it the new worker's pipes over
a Unix socket; it forks, and the child sets its own session and rlimits before it reads the
student's source. So a forked worker keeps every guarantee of a cold one and starts in
milliseconds. Killing a worker goes through the zygote, which, where its uid or pid namespace
is the worker's alone, also ends every other process there (``kill(-1)``): no grandchild
outlives its submission. A zygote that died (a student killed their parent) is restarted by the
next ``start()``; its own cold worker's kill cleans up its cgroup and uid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
from collections.abc import Callable
from typing import Any

from grader.errors import WorkerCrashed
from grader.sandbox import slots
from grader.sandbox.base import OutputBuffer, make_pipes
from grader.sandbox.process import ProcessWorker, worker_rlimits
from grader.settings import Limits

PRELOAD = ("numpy", "torch")
ZYGOTE_START_TIMEOUT_S = 180.0
REQUEST_TIMEOUT_S = 10.0
#: memory the zygote itself holds (numpy and torch imported), added to its slot's cgroup cap
ZYGOTE_MEMORY_MB = 1024


class Zygote:
    """A zygote process (a cold worker running zygote.py) and its control socket."""

    def __init__(self, base: Any, limits: Limits, device: str, kill_all: bool) -> None:
        self.device = device
        self.control, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"control_fd": child.fileno(), "preload": list(PRELOAD), "kill_all": kill_all}
        try:
            self.worker: ProcessWorker = base.start(
                limits, device, program="zygote.py", extra_config=config,
                extra_fds=(child.fileno(),), cgroup_slack_mb=ZYGOTE_MEMORY_MB)
        finally:
            child.close()
        self.control.settimeout(ZYGOTE_START_TIMEOUT_S)
        hello = self._receive()
        if not hello.get("ready"):
            self.close()
            raise WorkerCrashed(f"the warm worker did not start: {hello}")
        self.control.settimeout(REQUEST_TIMEOUT_S)

    def _receive(self) -> dict[str, Any]:
        try:
            data = self.control.recv(65536)
        except OSError as exc:
            raise WorkerCrashed(f"the warm worker stopped answering ({exc})") from None
        if not data:
            raise WorkerCrashed(f"the warm worker exited ({self.worker.output()[-300:]})")
        reply = json.loads(data)
        return reply if isinstance(reply, dict) else {}

    def request(self, payload: dict[str, Any], fds: tuple[int, ...] = ()) -> dict[str, Any]:
        try:
            socket.send_fds(self.control, [json.dumps(payload).encode()], list(fds))
        except OSError as exc:
            raise WorkerCrashed(f"the warm worker is gone ({exc})") from None
        return self._receive()

    def alive(self) -> bool:
        return self.worker.alive()

    def close(self) -> None:
        self.worker.kill()
        self.control.close()


class ForkedWorker:
    """A worker forked by the zygote; the same interface as a cold ProcessWorker."""

    def __init__(self, zygote: Zygote, limits: Limits, rlimits: dict[str, int],
                 cleanup: Callable[[], None] | None = None) -> None:
        self.zygote = zygote
        self.cleanup = cleanup
        self.limits = limits
        (child_read, self.write_fd), (self.read_fd, child_write) = make_pipes()
        out_read, out_write = os.pipe()
        self._output = OutputBuffer(cap=limits.output_bytes, data=bytearray())
        self._drain = self._output.drain(out_read)
        self._status: int | None = None
        child_fds = (child_read, child_write, out_write)
        try:
            reply = zygote.request({"op": "spawn", "limits": rlimits}, child_fds)
        finally:
            for fd in child_fds:
                os.close(fd)
        if "pid" not in reply:
            self.kill()
            raise WorkerCrashed(f"the warm worker could not fork: {reply}")
        self.pid = int(reply["pid"])

    def _ask(self, op: str, **extra: Any) -> int | None:
        if self._status is None:
            try:
                if not self.zygote.alive():
                    raise WorkerCrashed("zygote gone")
                status = self.zygote.request({"op": op, "pid": self.pid, **extra}).get("status")
                self._status = None if status is None else int(status)
            except WorkerCrashed:
                self._status = -1
        return self._status

    def alive(self) -> bool:
        return self._ask("status") is None

    def kill(self) -> None:
        if hasattr(self, "pid"):
            self._ask("kill")
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.read_fd = self.write_fd = -1
        self._drain.join(timeout=0.5)
        self._output.stop()
        if self.cleanup is not None:
            self.cleanup()

    def output(self) -> str:
        return self._output.text()

    def exit_description(self) -> str:
        status = self._ask("status", wait=1.0)
        if status is None:
            return "closed its channel but is still running"
        if status == -1:
            return "the process it was forked from was killed"
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            hint = " (memory or CPU limit?)" if name in ("SIGKILL", "SIGXCPU", "SIGSEGV") else ""
            return f"killed by {name}{hint}"
        return f"exit status {os.WEXITSTATUS(status)}"


class ZygoteSandbox:
    """A cold level's isolation with warm starts: ``make_sandbox(level, warm=True)``."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self.level = base.level
        self.description = base.description + "; warm workers forked from a zygote"
        # kill(-1) in the zygote reaches only the worker's processes when they have a pid
        # namespace (bwrap) or a uid (root's slot uid) to themselves
        self.kill_all = base.level == "bwrap" or getattr(base, "uid", None) is not None
        self.zygote: Zygote | None = None

    def start(self, limits: Limits, device: str = "cpu") -> ForkedWorker:
        zygote = self.zygote
        if zygote is None or not zygote.alive() or zygote.device != device:
            if zygote is not None:
                zygote.close()
            self.zygote = zygote = Zygote(self.base, limits, device, self.kill_all)
        rlimits = worker_rlimits(limits, device, getattr(self.base, "uid", None),
                                 zygote.worker.cgroup)
        if zygote.worker.cgroup is not None and zygote.worker.cgroup.memory and device == "cpu":
            # the slot's cgroup also holds the zygote: cap this worker's own address space too
            rlimits["memory_bytes"] = limits.worker_rlimits()["memory_bytes"]
        return ForkedWorker(zygote, limits, rlimits, self._cleanup())

    def _cleanup(self) -> Callable[[], None] | None:
        """Without a mount namespace, what the worker's uid left in shared folders goes too."""
        uid = getattr(self.base, "uid", None)
        if self.base.level == "bwrap" or uid is None:
            return None
        return lambda: slots.remove_uid_files(uid)

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None

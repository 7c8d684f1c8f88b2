"""Warm zygote: imports numpy and torch once, then forks one fresh worker per request.

Started inside the sandbox like a worker (``python -I -B zygote.py CONFIG_JSON``), with no
student file anywhere in reach. It never runs student code itself: each ``spawn`` request
brings the new worker's pipe fds (over a Unix socket, SCM_RIGHTS); the zygote forks, and the
child starts its own session, sets its own rlimits, and only then reads the student's source
from its pipe (grader.worker.remote.serve). So every per-submission guarantee of a cold worker
holds for a forked one, and the fork costs milliseconds instead of a Python and torch start.

Control requests (JSON, one per datagram) and replies:
    {"op": "spawn", "limits": {...}} + fds [read, write, output] -> {"pid": N}
    {"op": "status", "pid": N, "wait": seconds}                 -> {"status": S | null}
    {"op": "kill", "pid": N}                                     -> {"status": S | null}
``kill`` ends the worker's process group and, inside a pid namespace of its own (bwrap), every
other process in it too (``kill(-1)``): a detached grandchild cannot outlive its submission.
CUDA is never initialised here, only in a child that asks for it after the fork.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
import time
from typing import Any

if __package__:
    from . import remote
else:  # run as a script inside the sandbox: remote.py and protocol.py sit beside it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import remote  # type: ignore[no-redef]

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Linux: the kernel kills the zygote when the grader that started it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def preload(modules: list[str]) -> list[str]:
    """Import what every worker needs; returns the modules that could not be imported."""
    missing = []
    for name in modules:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - a missing optional package is the workers' problem
            missing.append(name)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
        # the first optimizer pulls in torch._dynamo lazily (seconds): do it once, here
        parameter = torch.zeros(1, requires_grad=True)
        torch.optim.SGD([parameter], lr=0.1).step()
    return missing


def with_inherited_memory(limits: dict[str, int]) -> dict[str, int]:
    """The address-space limit counts on top of what the fork inherited (numpy, torch), so a
    warm worker may allocate as much as a cold one."""
    if not limits.get("memory_bytes"):
        return limits
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            size = next(int(line.split()[1]) * 1024 for line in status
                        if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return limits
    return {**limits, "memory_bytes": limits["memory_bytes"] + size}


class Zygote:
    def __init__(self, control: socket.socket, kill_all: bool) -> None:
        self.control = control
        self.kill_all = kill_all
        self.exited: dict[int, int] = {}

    def spawn(self, fds: list[int], limits: dict[str, int]) -> dict[str, Any]:
        read_fd, write_fd, out_fd = fds
        pid = os.fork()
        if pid == 0:  # the worker: own session, own limits, then the student's code
            code = 0
            try:
                os.setsid()
                self.control.close()
                os.dup2(out_fd, 1)
                os.dup2(out_fd, 2)
                os.close(out_fd)
                sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
                remote.apply_limits(with_inherited_memory(limits))
                for fd in (read_fd, write_fd):
                    os.set_inheritable(fd, False)  # programs the student runs get no channel
                remote.serve(os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb"))
            except BaseException:  # noqa: BLE001 - the child must never return into the loop
                code = 70
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        return {"pid": pid}

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.exited[pid] = status

    def status(self, pid: int, wait: float = 0.0) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        while True:
            self.reap()
            if pid in self.exited or time.monotonic() >= deadline:
                return {"status": self.exited.get(pid)}
            time.sleep(0.005)

    def kill(self, pid: int) -> dict[str, Any]:
        for target in (lambda: os.killpg(pid, signal.SIGKILL),
                       lambda: os.kill(-1, signal.SIGKILL) if self.kill_all else None):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass
        return self.status(pid, wait=1.0)

    def handle(self, request: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        op = request.get("op")
        if op == "spawn" and len(fds) == 3:
            return self.spawn(fds, request.get("limits", {}))
        for fd in fds:
            os.close(fd)
        if op == "status":
            return self.status(int(request["pid"]), float(request.get("wait", 0.0)))
        if op == "kill":
            return self.kill(int(request["pid"]))
        return {"error": f"unknown request {op!r}"}

    def serve(self) -> None:
        while True:
            message, fds, _, _ = socket.recv_fds(self.control, 65536, 3)
            if not message:
                return
            reply = self.handle(json.loads(message), list(fds))
            self.control.send(json.dumps(reply).encode())


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    die_with_parent()
    for fd in (config.get("read_fd"), config.get("write_fd")):  # a cold worker's channel: unused
        if fd is not None:
            os.close(fd)
    control = socket.socket(fileno=config["control_fd"])
    control.set_inheritable(False)
    missing = preload(config.get("preload", []))
    control.send(json.dumps({"ready": True, "missing": missing}).encode())
    Zygote(control, kill_all=bool(config.get("kill_all"))).serve()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)

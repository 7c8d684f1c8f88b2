"""A worker forked by the zygote (grader/worker/zygote.py), from the fork to the student's code.

The zygote's side (forking, the spare, status and kill) is zygote.py; this is the child's: its
world (a session, its own mounts, /proc, /tmp and /dev/shm, or a fresh home), then the
worker's uid with no capabilities and empty keyrings, then its channel and rlimits, "ready" on
the sync pipe, and only then grader.worker.remote.serve. A spare makes its world at once and
the rest when the zygote hands it its channel. Nothing here returns into the zygote's loop:
a child ends with ``os._exit``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass

if __package__:
    from . import isolate, protocol, remote
else:  # run as a script inside the sandbox: the other worker files sit beside it
    import isolate  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]
    import remote  # type: ignore[no-redef]

NAMESPACES, UID = "namespaces", "uid"


@dataclass(frozen=True)
class Isolation:
    """How the zygote's workers are kept apart (zygote.py's docstring: namespaces or uid)."""

    mode: str  # NAMESPACES or UID
    uid: int | None  # the workers' uid; None: keep the zygote's (in a user namespace)


class Child:
    """What a forked worker knows of its zygote: how workers are isolated, the environment the
    zygote started with, the import folders a worker must be able to read, and the zygote's
    control socket and pid (closed, and checked, in the child)."""

    def __init__(self, control: socket.socket, isolation: Isolation,
                 environment: dict[str, str], zygote_pid: int) -> None:
        self.control = control
        self.isolation = isolation
        self.environment = environment
        self.pid = zygote_pid
        self.import_paths = [path for path in sys.path if os.path.isdir(path)]

    def run(self, request: protocol.ZygoteSpawn, fds: list[int] | None, sync: int) -> None:
        """The worker: its own world, its limits, then the student's code. Never returns."""
        try:
            self.control.close()
            self.world(request)
            self.become_worker(request)
            if fds is None:
                os.write(sync, b"ready\n")
                os._exit(0)
            self.attach(fds, request.limits, sync)
        except BaseException as exc:  # noqa: BLE001 - the child must never return into the loop
            report(sync, exc)
            os._exit(71)
        serve_and_exit(fds)

    def attach(self, fds: list[int], limits: dict[str, int], sync: int) -> None:
        """An isolated worker takes its channel and output, closes everything else, sets its
        rlimits and says it is ready."""
        read_fd, write_fd, out_fd = fds
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        isolate.close_descriptors({read_fd, write_fd, sync})
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        remote.apply_limits(with_inherited_memory(limits))
        for fd in (read_fd, write_fd):
            os.set_inheritable(fd, False)  # programs the student runs get no channel
        os.write(sync, b"ready\n")
        os.close(sync)

    def spare(self, request: protocol.ZygoteSpawn, channel: socket.socket, sync: int) -> None:
        """A spare (zygote.py: make_spare): its world now, then it waits for its channel and
        limits, and becomes the worker. Never returns."""
        try:
            self.control.close()
            self.world(request)  # still the zygote's uid while it waits: no process of a
            message, fds, _, _ = socket.recv_fds(channel, 65536, 3)  # worker's uid outlives
            channel.close()  # a run, and its keyrings are emptied when its turn comes
            if len(fds) != 3:  # the zygote dropped it, or is gone
                os._exit(0)
            self.become_worker(request)
            self.attach(list(fds), json.loads(message), sync)
        except BaseException as exc:  # noqa: BLE001 - the child must never return into the loop
            report(sync, exc)
            os._exit(71)
        serve_and_exit(list(fds))

    def world(self, request: protocol.ZygoteSpawn) -> None:
        """The worker's world, made while it still has the zygote's privileges."""
        os.setsid()
        if self.isolation.mode == NAMESPACES:
            isolate.own_mounts(request.tmp_bytes)
            home = "/tmp"
        elif request.home:
            home = request.home
            isolate.own_home(home, request.tmp_bytes, self.isolation.uid)
        else:
            raise isolate.IsolationError("no home folder for the worker")
        try:  # the worker, not the zygote, is what the OOM killer should pick
            with open("/proc/self/oom_score_adj", "w", encoding="ascii") as adjust:
                adjust.write("1000")
        except OSError:
            pass

    def become_worker(self, request: protocol.ZygoteSpawn) -> None:
        """Drop to the worker's uid with no capabilities and empty keyrings, in its home and
        the environment the zygote started with."""
        home = "/tmp" if self.isolation.mode == NAMESPACES else str(request.home)
        isolate.drop_privileges(self.isolation.uid)
        isolate.fresh_keyrings()
        os.chdir(home)  # (the grader made it for the worker's uid: only that uid may enter)
        if self.isolation.mode == UID:  # (a namespaced worker dies with the sandbox)
            isolate.prctl(isolate.PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != self.pid:
                raise isolate.IsolationError("the zygote is gone")
        isolate.check_imports_readable(self.import_paths)
        os.environ.clear()
        os.environ.update(self.environment)
        if self.isolation.mode == UID:
            os.environ.update({"HOME": home, "TMPDIR": home, "MPLCONFIGDIR": home})
        tempfile.tempdir = None  # recomputed from TMPDIR on first use


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


def serve_and_exit(fds: list[int]) -> None:
    """The worker's life once attached: answer the grader, then exit. Never returns."""
    code = 0
    try:
        remote.serve(os.fdopen(fds[0], "rb"), os.fdopen(fds[1], "wb"))
    except BaseException:  # noqa: BLE001 - the worker's end, whatever the student did
        code = 70
    finally:
        remote.flush_output()
        os._exit(code)


def report(sync: int, exc: BaseException) -> None:
    why = str(exc) if isinstance(exc, isolate.IsolationError) else f"{type(exc).__name__}: {exc}"
    try:
        os.write(sync, f"error {why}\n".encode()[:500])
    except OSError:
        pass

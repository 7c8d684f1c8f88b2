"""Warm zygote: imports numpy and torch once, then forks one fresh worker per request.

Started inside the sandbox by the grader (``python -I -B zygote.py CONFIG_JSON``), with no
student file anywhere in reach. It never runs student code itself, and no worker can reach it:
it keeps privileges its workers never have (``isolate.py`` says which, and how each worker
drops them), it is not dumpable (no ptrace or ``/proc/<pid>/mem`` of it even by its own uid),
and each worker is forked into a world of its own before it reads the student's source:

    namespaces  (bwrap)    the zygote forks a throwaway child that makes a new pid namespace
                           and forks the worker as its pid 1; the worker makes its own mount
                           and IPC namespaces, a fresh /proc, /tmp and /dev/shm, then drops to
                           the slot's uid and empties its keyrings. The throwaway child
                           exits; the zygote, a child subreaper, adopts and reaps the worker.
    uid         (process)  the zygote is root; the worker starts its own session and IPC
                           namespace in a fresh home the grader made, then drops to the slot's
                           uid and empties its keyrings.

Either way the worker then restores the environment the zygote started with, closes every
descriptor but its channel and output, sets its own rlimits, tells the zygote it is ready, and
only then reads the student's source (grader.worker.remote.serve); child.py is that side.

The spare (namespaces only): when a worker has ended, the zygote forks the next one at once
and the spare makes its world (pid, mount and IPC namespaces, /proc, /tmp, /dev/shm) while
the grader reports and reads the next file; it stays the zygote's uid until the next
ZygoteSpawn hands it its channel, then drops to the worker's uid, empties its keyrings and
goes on as any worker. A spare that died, or was made for another /tmp size, is dropped and
the worker forked afresh.

Control requests (typed messages of protocol/control.py, one per datagram; the grader is the only
peer) and replies; a request that is malformed or cannot be done gets a ZygoteError:
    ZygotePing                                        -> ZygotePong
    ZygoteSpawn(limits, home, tmp_bytes)
        + fds [read, write, output]                   -> ZygoteSpawned(pid) | ZygoteError(why)
    ZygoteStatus(pid, wait)                           -> ZygoteExit(status | None)
    ZygoteKill(pid, wait)                             -> ZygoteExit(status | None)
        (wait false: answered at once, the exit waited for before the next request)
Killing a namespaced worker (pid 1 of its namespace) makes the kernel kill everything it
started; at the process level the grader also kills every process of the worker's uid.
CUDA is never initialised here, only in a worker that asks for it after the fork.
"""

from __future__ import annotations

import gc
import json
import os
import resource  # noqa: F401 - the worker's rlimits need it after it can no longer import
import select
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass

if __package__:
    from . import isolate, protocol, warm
    from .child import NAMESPACES, Child, Isolation, report
else:  # run as a script inside the sandbox: the other worker files sit beside it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import isolate  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]
    import warm  # type: ignore[no-redef]
    from child import NAMESPACES, Child, Isolation, report  # type: ignore[no-redef]

#: how long a worker may take to set up its world before the zygote gives up on it
READY_TIMEOUT_S = 20.0


def die_with_parent() -> None:
    """Linux: the kernel kills the zygote when the grader that started it dies."""
    try:
        isolate.prctl(isolate.PR_SET_PDEATHSIG, signal.SIGKILL)
    except isolate.IsolationError:
        pass


class Zygote:
    def __init__(self, control: socket.socket, isolation: Isolation,
                 environment: dict[str, str]) -> None:
        self.control = control
        self.isolation = isolation
        self.exited: dict[int, int] = {}
        self.child = Child(control, isolation, environment, os.getpid())  # (a fork's side)
        self.pid_namespace = (isolate.pid_namespace_return()
                              if isolation.mode == NAMESPACES else None)
        self.spare: Spare | None = None  # the next worker, isolated, waiting for its channel
        self.last_spawn: protocol.ZygoteSpawn | None = None
        self.ending: int | None = None  # a worker killed, its exit not yet waited for

    # ------------------------------------------------------------------ spawning
    def spawn(self, request: protocol.ZygoteSpawn,
              fds: list[int] | None) -> protocol.ZygoteSpawned | protocol.ZygoteError:
        """Fork a worker serving on ``fds`` (None: a probe that exits once isolated), or hand
        them to the spare made after the last worker ended."""
        if fds is not None:
            self.last_spawn = request
            handed = self._hand_over(request, fds)
            if handed is not None:
                return handed
        sync_read, sync_write = os.pipe()
        direct = self.isolation.mode == NAMESPACES and self.pid_namespace is not None
        try:
            if direct:  # the next child is pid 1 of a new pid namespace
                isolate.new_pid_namespace()
            pid = os.fork()
            if pid == 0:
                os.close(sync_read)
                if self.isolation.mode == NAMESPACES and not direct:
                    self._namespace_parent(request, fds, sync_write)
                self.child.run(request, fds, sync_write)
        except isolate.IsolationError as exc:
            report(sync_write, exc)
            pid = 0
        finally:
            if direct and self.pid_namespace is not None:
                isolate.back_to_pid_namespace(self.pid_namespace)
        os.close(sync_write)
        for fd in fds or ():
            os.close(fd)
        worker, error = self._await_ready(sync_read, pid)
        if error is not None:
            for target in {pid, worker}:
                self.kill(target)
            return protocol.ZygoteError(error)
        return protocol.ZygoteSpawned(worker)

    def _namespace_parent(self, request: protocol.ZygoteSpawn, fds: list[int] | None,
                          sync: int) -> None:
        """A throwaway child (where the zygote cannot come back to its own pid namespace):
        a new pid namespace whose pid 1 is the worker, adopted by the zygote."""
        code = 0
        try:
            isolate.new_pid_namespace()
            worker = os.fork()
            if worker == 0:
                self.child.run(request, fds, sync)
            os.write(sync, f"pid {worker}\n".encode())
        except BaseException as exc:  # noqa: BLE001 - reported, never raised into the zygote
            report(sync, exc)
            code = 71
        os._exit(code)

    # ------------------------------------------------------------------ the spare
    def make_spare(self) -> None:
        """Fork the next worker now, when a worker has just ended, and make its world (its
        namespaces, /proc, /tmp, /dev/shm): that (15-20 ms) runs while the grader reports and
        reads the next file, not while a worker's time is counted (the next Load starts after
        the hand-over). It drops to the worker's uid only when handed its channel. Only where
        a worker needs nothing per request (its own pid namespace, no home folder)."""
        request = self.last_spawn
        if (self.spare is not None or request is None or request.home is not None
                or self.pid_namespace is None):
            return
        sync_read, sync_write = os.pipe()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            isolate.new_pid_namespace()  # (its next child is pid 1 of a new one)
            pid = os.fork()
            if pid == 0:
                os.close(sync_read)
                mine.close()
                self.child.spare(request, theirs, sync_write)
        except (OSError, isolate.IsolationError):
            pid = 0  # no spare: the next request forks its worker
        finally:
            isolate.back_to_pid_namespace(self.pid_namespace)
        theirs.close()
        os.close(sync_write)
        if pid == 0:
            mine.close()
            os.close(sync_read)
            return
        self.spare = Spare(pid, request.tmp_bytes, mine, sync_read)

    def _hand_over(self, request: protocol.ZygoteSpawn,
                   fds: list[int]) -> protocol.ZygoteSpawned | None:
        """The spare, given ``fds`` and the request's limits; None: no usable spare (the
        fds are still the caller's, for a fresh fork that says what fails, if anything)."""
        spare, self.spare = self.spare, None
        if spare is None:
            return None
        if spare.tmp_bytes != request.tmp_bytes or request.home is not None:
            spare.drop(self)
            return None
        try:
            socket.send_fds(spare.channel, [json.dumps(request.limits).encode()], fds)
        except OSError:  # it died before its turn
            spare.drop(self)
            return None
        spare.channel.close()
        worker, error = self._await_ready(spare.sync, spare.pid)
        if error is not None:  # it died or failed on the way, before any student code ran:
            self.kill(worker)  # once it is gone, the fds are the next fork's alone
            return None
        for fd in fds:
            os.close(fd)
        return protocol.ZygoteSpawned(worker)

    def _await_ready(self, sync: int, pid: int) -> tuple[int, str | None]:
        """Wait (bounded) for the worker's "ready": (its pid, None) or (pid, why it failed);
        the pid comes from the throwaway child."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        data = b""
        try:
            while time.monotonic() < deadline:
                readable, _, _ = select.select([sync], [], [], deadline - time.monotonic())
                if not readable:
                    break
                chunk = os.read(sync, 4096)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(sync)
        lines = data.decode(errors="replace").splitlines()
        for line in lines:
            if line.startswith("pid "):
                pid = int(line.split()[1])
        errors = [line.removeprefix("error ") for line in lines if line.startswith("error ")]
        if errors or "ready" not in lines:
            why = errors[0] if errors else "it did not report ready in time"
            return pid, f"the worker could not be isolated: {why}"
        return pid, None

    # ------------------------------------------------------------------ the rest
    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.exited[pid] = status

    def status(self, pid: int, wait: float = 0.0) -> protocol.ZygoteExit:
        """The worker's wait status, waiting up to ``wait`` seconds for its exit: woken by
        its pidfd the moment it exits (a killed worker's end is on every worker's path),
        polled where pidfds are not had."""
        deadline = time.monotonic() + wait
        self.reap()
        if pid not in self.exited and wait > 0:
            pidfd = _pidfd(pid)
            try:
                while pid not in self.exited and (left := deadline - time.monotonic()) > 0:
                    if pidfd is not None and select.select([pidfd], [], [], left)[0]:
                        os.close(pidfd)  # it exited; one not yet ours to reap (a worker
                        pidfd = None  # still being adopted) is polled for from now on
                    elif pidfd is None:
                        time.sleep(min(0.005, left))
                    self.reap()
            finally:
                if pidfd is not None:
                    os.close(pidfd)
        return protocol.ZygoteExit(self.exited.get(pid))

    def kill(self, pid: int, wait: float = 1.0) -> protocol.ZygoteExit | protocol.ZygoteError:
        """SIGKILL the worker: as pid 1 of its namespace, everything it started dies with it;
        at the process level its session goes too (the grader kills the rest of its uid)."""
        if pid <= 0:
            return protocol.ZygoteError("bad pid")
        for send in (os.kill, os.killpg):
            try:
                send(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return self.status(pid, wait=wait)

    def handle(self, message: bytes, fds: list[int]) -> protocol.Message:
        """One request's reply; a malformed or unknown one gets a ZygoteError."""
        try:
            request = protocol.decode_control(message)
        except protocol.WireError as exc:
            request = protocol.ZygoteError(f"malformed request: {exc}")
        if isinstance(request, protocol.ZygoteSpawn) and len(fds) == 3:
            return self.spawn(request, fds)
        for fd in fds:
            os.close(fd)
        if isinstance(request, protocol.ZygotePing):
            self.reap()
            return protocol.ZygotePong()
        if isinstance(request, protocol.ZygoteStatus):
            return self.status(request.pid, float(request.wait))
        if isinstance(request, protocol.ZygoteKill):
            if not request.wait:
                self.ending = request.pid  # waited for once the grader has its answer
            return self.kill(request.pid, wait=1.0 if request.wait else 0.0)
        if isinstance(request, protocol.ZygoteError):
            return request
        missing = " without its 3 fds" if isinstance(request, protocol.ZygoteSpawn) else ""
        return protocol.ZygoteError(f"unexpected request {type(request).__name__}{missing}")

    def serve(self) -> None:
        while True:
            message, fds, _, _ = socket.recv_fds(self.control, 65536, 3)
            if not message:
                return
            reply = self.handle(message, list(fds))
            self.control.send(protocol.encode_message(reply))
            self.after_reply(reply)

    def after_reply(self, reply: protocol.Message) -> None:
        """While the grader goes on: wait for a worker killed without waiting (the next
        request is read only once it is gone: nothing of it overlaps the next worker), and
        where a worker has ended, make the next one's spare."""
        ended = isinstance(reply, protocol.ZygoteExit) and reply.status is not None
        if self.ending is not None:
            ended = self.status(self.ending, wait=1.0).status is not None
            self.ending = None
        if ended:
            self.make_spare()


@dataclass
class Spare:
    """A worker forked and isolated ahead of its request, waiting on ``channel`` for its
    descriptors and limits; ``sync`` says when it is ready or why it failed."""

    pid: int
    tmp_bytes: int
    channel: socket.socket
    sync: int

    def drop(self, zygote: Zygote) -> None:
        self.channel.close()
        os.close(self.sync)
        zygote.kill(self.pid)


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits (None: none to be had)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # an old kernel or Python; a pid already gone
        return None


def probe(isolation: Isolation, tmp_bytes: int = 1 << 20) -> str | None:
    """None when a worker can be isolated here, else why not (a forked probe worker)."""
    control, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    zygote = Zygote(control, isolation, dict(os.environ))
    home = tempfile.mkdtemp(prefix="grader-probe-")  # (uid mode: a tmpfs is mounted on it)
    try:
        request = protocol.ZygoteSpawn(limits={}, home=home, tmp_bytes=tmp_bytes)
        reply = zygote.spawn(request, None)
        if isinstance(reply, protocol.ZygoteSpawned):
            zygote.status(reply.pid, wait=1.0)
    finally:
        control.close()
        peer.close()
        if zygote.pid_namespace is not None:
            os.close(zygote.pid_namespace)
        os.rmdir(home)
    return reply.error if isinstance(reply, protocol.ZygoteError) else None


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    die_with_parent()
    for fd in (config.get("read_fd"), config.get("write_fd")):  # a cold worker's channel: unused
        if fd is not None:
            os.close(fd)
    isolation = Isolation(mode=config["isolation"]["mode"], uid=config["isolation"]["uid"])
    isolate.prctl(isolate.PR_SET_DUMPABLE, 0)  # no ptrace, /proc/<pid>/mem of the zygote
    if isolation.mode == NAMESPACES:
        isolate.prctl(isolate.PR_SET_CHILD_SUBREAPER, 1)  # it adopts its workers
    if "control_fd" not in config:  # --probe: can workers be isolated here?
        problem = probe(isolation)
        print(problem or "ok", flush=True)
        os._exit(0 if problem is None else 1)
    environment = dict(os.environ)  # what every worker starts with, before torch's changes
    control = socket.socket(fileno=config["control_fd"])
    control.set_inheritable(False)
    problem = probe(isolation)  # before the imports: a small process forks faster
    warm.write_font_lists(config.get("font_lists"))
    missing = warm.preload(config.get("preload", []))
    # What the preload made (300,000 objects with torch) goes to the collector's permanent
    # generation: a worker's garbage collection then never walks those objects, whose
    # headers it would copy page by page from the zygote (a full collection in a worker took
    # 200-240 ms without this, 0.3 ms with it).
    gc.freeze()
    ready = protocol.ZygoteReady(missing=missing, isolation=problem)
    control.send(protocol.encode_message(ready))
    Zygote(control, isolation, environment).serve()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)

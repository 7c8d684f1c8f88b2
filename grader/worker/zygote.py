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
only then reads the student's source (grader.worker.remote.serve).

Control requests (typed messages of protocol/control.py, one per datagram; the grader is the only
peer) and replies; a request that is malformed or cannot be done gets a ZygoteError:
    ZygotePing                                        -> ZygotePong
    ZygoteSpawn(limits, home, tmp_bytes)
        + fds [read, write, output]                   -> ZygoteSpawned(pid) | ZygoteError(why)
    ZygoteStatus(pid, wait)                           -> ZygoteExit(status | None)
    ZygoteKill(pid)                                   -> ZygoteExit(status | None)
Killing a namespaced worker (pid 1 of its namespace) makes the kernel kill everything it
started; at the process level the grader also kills every process of the worker's uid.
CUDA is never initialised here, only in a worker that asks for it after the fork.
"""

from __future__ import annotations

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
    from . import isolate, protocol, remote
else:  # run as a script inside the sandbox: the other worker files sit beside it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import isolate  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]
    import remote  # type: ignore[no-redef]

#: how long a worker may take to set up its world before the zygote gives up on it
READY_TIMEOUT_S = 20.0
NAMESPACES, UID = "namespaces", "uid"


@dataclass(frozen=True)
class Isolation:
    """How this zygote's workers are kept apart (see the module docstring)."""

    mode: str  # NAMESPACES or UID
    uid: int | None  # the workers' uid; None: keep the zygote's (in a user namespace)


def die_with_parent() -> None:
    """Linux: the kernel kills the zygote when the grader that started it dies."""
    try:
        isolate.prctl(isolate.PR_SET_PDEATHSIG, signal.SIGKILL)
    except isolate.IsolationError:
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
    if torch is not None and "torch.optim" in modules:  # (grader.run.preload.OPTIMIZER)
        # the first optimizer step pulls in torch._dynamo lazily (seconds): do it once, here
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
    def __init__(self, control: socket.socket, isolation: Isolation,
                 environment: dict[str, str]) -> None:
        self.control = control
        self.isolation = isolation
        self.environment = environment
        self.exited: dict[int, int] = {}
        self.pid = os.getpid()
        self.import_paths = [path for path in sys.path if os.path.isdir(path)]
        self.pid_namespace = (isolate.pid_namespace_return()
                              if isolation.mode == NAMESPACES else None)

    # ------------------------------------------------------------------ spawning
    def spawn(self, request: protocol.ZygoteSpawn,
              fds: list[int] | None) -> protocol.ZygoteSpawned | protocol.ZygoteError:
        """Fork a worker serving on ``fds`` (None: a probe that exits once isolated)."""
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
                self._worker(request, fds, sync_write)
        except isolate.IsolationError as exc:
            _report(sync_write, exc)
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
                self._worker(request, fds, sync)
            os.write(sync, f"pid {worker}\n".encode())
        except BaseException as exc:  # noqa: BLE001 - reported, never raised into the zygote
            _report(sync, exc)
            code = 71
        os._exit(code)

    def _worker(self, request: protocol.ZygoteSpawn, fds: list[int] | None, sync: int) -> None:
        """The worker: its own world, its limits, then the student's code. Never returns."""
        try:
            self.control.close()
            self._isolate(request)
            if fds is None:
                os.write(sync, b"ready\n")
                os._exit(0)
            read_fd, write_fd, out_fd = fds
            os.dup2(out_fd, 1)
            os.dup2(out_fd, 2)
            isolate.close_descriptors({read_fd, write_fd, sync})
            sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
            remote.apply_limits(with_inherited_memory(request.limits))
            for fd in (read_fd, write_fd):
                os.set_inheritable(fd, False)  # programs the student runs get no channel
            os.write(sync, b"ready\n")
            os.close(sync)
        except BaseException as exc:  # noqa: BLE001 - the child must never return into the loop
            _report(sync, exc)
            os._exit(71)
        code = 0
        try:
            remote.serve(os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb"))
        except BaseException:  # noqa: BLE001 - the worker's end, whatever the student did
            code = 70
        finally:
            remote.flush_output()
            os._exit(code)

    def _isolate(self, request: protocol.ZygoteSpawn) -> None:
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
        deadline = time.monotonic() + wait
        while True:
            self.reap()
            if pid in self.exited or time.monotonic() >= deadline:
                return protocol.ZygoteExit(self.exited.get(pid))
            time.sleep(0.005)

    def kill(self, pid: int) -> protocol.ZygoteExit | protocol.ZygoteError:
        """SIGKILL the worker: as pid 1 of its namespace, everything it started dies with it;
        at the process level its session goes too (the grader kills the rest of its uid)."""
        if pid <= 0:
            return protocol.ZygoteError("bad pid")
        for send in (os.kill, os.killpg):
            try:
                send(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return self.status(pid, wait=1.0)

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
            return self.kill(request.pid)
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


def _report(sync: int, exc: BaseException) -> None:
    why = str(exc) if isinstance(exc, isolate.IsolationError) else f"{type(exc).__name__}: {exc}"
    try:
        os.write(sync, f"error {why}\n".encode()[:500])
    except OSError:
        pass


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
    missing = preload(config.get("preload", []))
    ready = protocol.ZygoteReady(missing=missing, isolation=problem)
    control.send(protocol.encode_message(ready))
    Zygote(control, isolation, environment).serve()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)

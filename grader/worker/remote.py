"""The worker: the only process that runs student code.

Started as ``python -I -B remote.py CONFIG_JSON`` with the protocol module beside it and nothing
else of the grader (in the strong sandbox, nothing else is even visible). It applies its own
resource limits first, says ``Started``, then serves the controller's messages over two
inherited pipe fds: ``Load`` the student's statements, then ``Call``/``GetAttr``/``Probe`` until
``Shutdown`` or EOF.

Everything the worker sends is untrusted by the grader: student code shares this process and
could write anything to the channel. The worker is a convenience, not a guard; the grader
decides scores from values it decodes itself.
"""

from __future__ import annotations

import json
import linecache
import os
import random
import sys
import traceback
import types
from typing import Any, BinaryIO

if __package__:
    from . import isolate, ondemand, protocol
else:  # run as a script (python -I puts no script folder on sys.path): protocol/ is beside it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import isolate  # type: ignore[no-redef]
    import ondemand  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]

STUDENT_FILE = "<student:{}>"


def apply_limits(limits: dict[str, int]) -> None:
    """Set rlimits (``memory_bytes``, ``cpu_seconds``, ``file_bytes``, ``open_files``,
    ``processes``); a limit already lower stays lower. Core dumps are always off.

    The worker sets them on itself, first thing, so they hold however it was started (and a
    process forked from a warm worker keeps them)."""
    import resource

    if hasattr(resource, "RLIMIT_CORE"):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    names = {"memory_bytes": "RLIMIT_AS", "cpu_seconds": "RLIMIT_CPU",
             "file_bytes": "RLIMIT_FSIZE", "open_files": "RLIMIT_NOFILE",
             "processes": "RLIMIT_NPROC"}
    for key, rlimit_name in names.items():
        value = limits.get(key)
        if not value or not hasattr(resource, rlimit_name):
            continue
        which = getattr(resource, rlimit_name)
        soft, hard = resource.getrlimit(which)
        new = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (new, new))


class Session:
    """The student's module and the objects it handed out, keyed by handle id."""

    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self.reader = reader
        self.writer = writer
        self.module = types.ModuleType("student")
        self.handles: dict[int, Any] = {}

    # ------------------------------------------------------------------ channel
    def send(self, message: Any) -> None:
        try:
            payload = protocol.encode_message(message, to_handle=self._store)
        except Exception as exc:  # noqa: BLE001 - a student value may break encoding any way
            payload = protocol.encode_message(protocol.Failure(
                "ResultNotSendable", f"the value could not be sent: {_describe(exc)}"))
        protocol.write_frame(self.writer, payload)

    def recv(self) -> Any:
        payload = protocol.read_frame(self.reader)
        return protocol.decode_message(payload, from_handle=self._lookup,
                                       from_callback=self._callback)

    def _store(self, value: Any) -> protocol.Handle:
        handle = protocol.Handle(id=len(self.handles) + 1, type_name=type(value).__name__)
        self.handles[handle.id] = value
        return handle

    def _lookup(self, handle: protocol.Handle) -> Any:
        if handle.id not in self.handles:
            raise protocol.WireError(f"unknown handle {handle.id}")
        return self.handles[handle.id]

    def _callback(self, ref: protocol.CallbackRef) -> Any:
        def evaluate_in_grader(*args: Any) -> Any:
            self.send(protocol.CallbackRequest(id=ref.id, args=list(args)))
            reply = self.recv()
            if not isinstance(reply, protocol.Reply):
                raise RuntimeError("grader sent no reply to a callback")
            if reply.error is not None:
                raise RuntimeError(reply.error)
            return reply.value

        return evaluate_in_grader

    # ------------------------------------------------------------------ handlers
    def handle(self, message: Any) -> Any:
        if isinstance(message, protocol.Load):
            return self.load(message)
        try:
            if isinstance(message, protocol.Call):
                return self.call(message)
            if isinstance(message, protocol.GetAttr):
                return protocol.Result(value=getattr(self._target(message.handle),
                                                     message.name))
            if isinstance(message, protocol.Probe):
                namespace: dict[str, Any] = {"student": self.module}
                exec(compile(message.source, "<probe>", "exec"), namespace)
                return protocol.Result(value=namespace["probe"](*message.args))
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            return failure(exc)
        return protocol.Failure("ProtocolError", f"unexpected {type(message).__name__}")

    def _target(self, handle: int | None) -> Any:
        return self.module if handle is None else self._lookup(protocol.Handle(handle, ""))

    def call(self, message: protocol.Call) -> Any:
        owner = self._target(message.handle)
        if message.handle is None and not hasattr(owner, message.target):
            return protocol.Failure("NameError",
                                    f"{message.target} is not defined in your notebook")
        function = owner if message.target == "" else getattr(owner, message.target)
        value = function(*message.args, **message.kwargs)
        if message.return_args:
            return protocol.Result(value=value, args=message.args, kwargs=message.kwargs)
        return protocol.Result(value=value)

    def load(self, message: protocol.Load) -> protocol.Ready:
        """Run each statement on its own; retry those that hit a NameError until no progress."""
        self.module.__dict__["__name__"] = "student"
        sys.modules["student"] = self.module
        seed_rngs(message.seed)
        pending = list(enumerate(message.statements))
        errors: dict[int, str] = {}
        while pending:
            retry = []
            for index, source in pending:
                error = self._exec(index, source)
                if error is None:
                    errors.pop(index, None)
                else:
                    errors[index] = error
                    if error.startswith("NameError"):
                        retry.append((index, source))
            if len(retry) == len(pending):
                break
            pending = retry
        _limit_threads(message.threads)
        # a worker whose student imported torch: an optimizer's step no longer imports the
        # compiler (a warm worker's zygote did this before the fork; ondemand.py)
        ondemand.defer()
        seed_rngs(message.seed)  # again: the student's imports, and what loading drew
        defined = sorted(n for n in self.module.__dict__ if not n.startswith("__"))
        return protocol.Ready(defined=defined, errors=[errors[i] for i in sorted(errors)])

    def _exec(self, index: int, source: str) -> str | None:
        filename = STUDENT_FILE.format(index)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(compile(source, filename, "exec"), self.module.__dict__)
        except BaseException as exc:  # noqa: BLE001 - a failing statement is reported, not fatal
            first = source.strip().splitlines()[0][:60] if source.strip() else ""
            return f"{type(exc).__name__}: {exc} (in `{first}`)"
        return None


def seed_rngs(seed: int) -> None:
    """Seed ``random`` and, where loaded, numpy's and torch's global RNGs: a model's initial
    weights are then the same on every run of the same submission."""
    seed = int(seed) % 2**32
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def _limit_threads(threads: int) -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(max(1, threads))


def failure(exc: BaseException) -> protocol.Failure:
    """A Failure message carrying only the student's own stack frames."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if frame.filename.startswith("<student:") or frame.filename == "<probe>"]
    # a student frame names its chunk (<student:K>:L); the grader names the cell and line
    lines = [f"  in {frame.name}, "
             f"{frame.filename + ':' if frame.filename != '<probe>' else 'line '}{frame.lineno}"
             f": {(frame.line or '').strip()}"
             for frame in frames[-8:]]
    return protocol.Failure(
        error_type=str(type(exc).__name__)[:100],
        message=_describe(exc)[:2000],
        traceback="\n".join(lines),
        not_implemented=isinstance(exc, NotImplementedError),
    )


def _describe(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001 - a student exception's __str__ may itself raise
        return "<exception message could not be printed>"


def flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - student code may have replaced or closed it
            pass


def serve(reader: BinaryIO, writer: BinaryIO) -> None:
    """Say it started, then answer messages until Shutdown or the controller closes the channel."""
    session = Session(reader, writer)
    session.send(protocol.Started())
    while True:
        try:
            message = session.recv()
        except EOFError:
            return
        if isinstance(message, protocol.Shutdown):
            return
        reply = session.handle(message)
        flush_output()  # what the student printed is in the pipe before the answer
        session.send(reply)


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    apply_limits(config.get("limits", {}))
    if config.get("own_uid"):  # its slot's uid or a user namespace: nothing of an earlier
        isolate.fresh_keyrings()  # worker's keys is left for it (never the instructor's own)
    for fd in (config["read_fd"], config["write_fd"]):
        os.set_inheritable(fd, False)  # programs the student's code runs do not get the channel
    reader = os.fdopen(config["read_fd"], "rb")
    writer = os.fdopen(config["write_fd"], "wb")
    serve(reader, writer)
    writer.flush()
    os._exit(0)  # skip atexit handlers student code may have registered


if __name__ == "__main__":
    main(sys.argv)

"""The worker session: calls, handles, callbacks, and recovery from crashes and hangs."""

from __future__ import annotations

import numpy as np
import pytest

from grader.core.errors import WorkerCrashed, WorkerTimeout
from grader.core.settings import Limits
from grader.submission.proxy import StaleObject, StudentProxy
from grader.submission.session import NotAttempted, StudentError, WorkerSession

pytestmark = pytest.mark.slow  # real workers waited out

MODULE = [
    "import numpy as np",
    "SCALE = {'double': double}",
    "def double(x):\n    return 2 * x",
    "def stub(x):\n    raise NotImplementedError",
    "def mutate(x):\n    x[0] = 99\n    return x",
    "def apply(f, x):\n    return f(x) + 1",
    "class Box:\n    def __init__(self):\n        self.w = np.ones(2)\n"
    "    def __call__(self, x):\n        return self.w * x",
    "def hang():\n    while True:\n        pass",
    "def die():\n    import os\n    os._exit(3)",
    "def leave():\n    import sys\n    sys.exit(0)",
    "def shout():\n    print('x' * 100000)\n    return 1",
    "import not_a_real_package",
]


def session_for(sandbox, **limits: float) -> tuple[WorkerSession, StudentProxy]:
    session = WorkerSession(sandbox, Limits(test_timeout_s=2, output_bytes=1000, **limits),
                            MODULE)
    return session, StudentProxy(session)


def test_calls_values_and_load_errors(isolated_sandbox) -> None:
    session, student = session_for(isolated_sandbox)
    try:
        ready = session.ensure_ready()
        assert "double" in ready.defined and "SCALE" in ready.defined
        assert any("not_a_real_package" in error for error in ready.errors)
        assert np.array_equal(student.double(np.arange(3)), [0, 2, 4])
        outcome = student.call("mutate", np.zeros(2), return_args=True)
        assert outcome.args[0][0] == 99
        assert student.apply(lambda v: float(np.sum(v)), np.ones(4)) == 5.0
        box = student.Box()
        assert np.array_equal(box(np.array([3.0, 4.0])), [3.0, 4.0])
        assert np.array_equal(box.w, [1.0, 1.0])
    finally:
        session.close()


def test_student_errors_are_reported_not_raised_as_crashes(isolated_sandbox) -> None:
    session, student = session_for(isolated_sandbox)
    try:
        with pytest.raises(NotAttempted):
            student.stub(1)
        with pytest.raises(StudentError, match="not defined"):
            student.missing(1)
        with pytest.raises(StudentError, match="SystemExit"):
            student.leave()
        assert student.double(2) == 4  # the same worker goes on
    finally:
        session.close()


def test_hang_and_crash_fail_one_call_then_a_fresh_worker_goes_on(isolated_sandbox) -> None:
    session, student = session_for(isolated_sandbox)
    try:
        box = student.Box()
        session.start_test()
        with pytest.raises(WorkerTimeout):
            student.hang()
        session.start_test()
        with pytest.raises(StaleObject):
            box(1.0)
        with pytest.raises(WorkerCrashed, match="exit status 3"):
            student.die()
        session.start_test()
        assert student.double(21) == 42
        assert session.generation == 2  # two workers discarded
    finally:
        session.close()


def test_output_is_captured_and_capped(isolated_sandbox) -> None:
    session, student = session_for(isolated_sandbox)
    try:
        assert student.shout() == 1
    finally:
        session.close()
    output = session.output()
    assert output.startswith("x" * 100) and "more bytes of output dropped" in output
    assert len(output) < 1200


def test_worker_texts_are_capped_on_the_grader_side() -> None:
    from grader.submission import bounds as s
    from grader.worker import protocol

    failure = s.bounded(protocol.Failure(error_type="E" * 10**6, message="m" * 10**7,
                                         traceback=["not", "text"],  # type: ignore[arg-type]
                                         not_implemented="yes"))  # type: ignore[arg-type]
    assert len(failure.error_type) < s.MAX_ERROR_TYPE + 40
    assert len(failure.message) < s.MAX_FAILURE_MESSAGE + 40
    assert failure.message.endswith(f"[... {10**7 - s.MAX_FAILURE_MESSAGE} more characters]")
    assert failure.traceback == "<list>" and failure.not_implemented is False
    ready = s.bounded(protocol.Ready(defined=["ok", "n" * 500, 7, *(f"f{i}" for i in range(
        s.MAX_NAMES))], errors=["e" * 10**6] * 1000))  # type: ignore[list-item]
    assert ready.defined[0] == "ok" and len(ready.defined) == s.MAX_NAMES - 2
    assert len(ready.errors) == s.MAX_LOAD_ERRORS + 1
    assert all(len(e) < s.MAX_LOAD_ERROR + 40 for e in ready.errors)
    assert ready.errors[-1] == f"... and {1000 - s.MAX_LOAD_ERRORS} more failed statements"
    assert s.bounded(protocol.Ready(defined="relu", errors={})) == protocol.Ready([], [])  # type: ignore[arg-type]


def test_output_of_all_workers_together_is_capped(isolated_sandbox) -> None:
    # three functions that crash: a function that crashed once is not called again (issue 11)
    dying = [f"def die{k}():\n    import os\n    os._exit(3)" for k in range(3)]
    session = WorkerSession(isolated_sandbox, Limits(test_timeout_s=2, output_bytes=1000),
                            MODULE + dying)
    student = StudentProxy(session)
    try:
        for k in range(3):  # each crash starts a new worker with its own capped pipe
            student.shout()
            with pytest.raises(WorkerCrashed):
                getattr(student, f"die{k}")()
        assert len(session.output()) < 1000 + 60
    finally:
        session.close()


def test_a_frame_announcing_a_huge_header_is_refused_before_it_is_read() -> None:
    import os
    import struct
    import time

    from grader.core.errors import ProtocolError
    from grader.sandbox.base import recv_frame
    from grader.worker import protocol

    read_fd, write_fd = os.pipe()

    class Pipe:  # a worker that announced a 60 MB frame and sent only its first bytes
        def __init__(self) -> None:
            self.read_fd = read_fd

        def alive(self) -> bool:
            return True

        def exit_description(self) -> str:
            return "alive"

    header = protocol.MAX_HEADER_BYTES + 1
    os.write(write_fd, struct.pack(">QI", 60_000_000, header) + b"[[[[")
    try:  # reading on would wait for bytes that never come: WorkerTimeout, not this
        with pytest.raises(ProtocolError, match=f"message header of {header} bytes"):
            recv_frame(Pipe(), time.monotonic() + 5, 64 * 1024 * 1024)  # type: ignore[arg-type]
    finally:
        os.close(read_fd)
        os.close(write_fd)

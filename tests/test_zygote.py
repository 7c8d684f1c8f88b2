"""Warm workers: where a level forks them, a slot that misbehaves is replaced, and a failure of
the grader's own sandbox is retried on a fresh slot and then recorded as a grader error, never
as a student's score. (What no worker can reach is graded end to end in
tests/adversarial/test_cross_student.py.)"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
from helpers.resources import needs_bwrap

import grader.run.local as local
from grader.core.course import load_course
from grader.core.errors import SandboxFailure
from grader.core.settings import Limits, Settings
from grader.run.cache import ResultCache
from grader.run.grading import Resume, close_sandboxes, grade_folder
from grader.sandbox import make_sandbox, slots
from grader.sandbox.process import children_of
from grader.sandbox.zygote import warm_problem
from grader.submission.proxy import StudentProxy
from grader.submission.session import WorkerSession

pytestmark = pytest.mark.slow  # warm zygotes started and broken

ROOT = Path(__file__).resolve().parents[1]
LIMITS = Limits(memory_mb=512, processes=32, test_timeout_s=5, load_timeout_s=10)
MODULE = ["import os", "def whoami():\n    return os.getpid(), os.getuid()"]


def _descendants(pid: int) -> list[int]:
    found = []
    for child in children_of(pid):
        found += [child, *_descendants(child)]
    return found


def _zygote_pid(sandbox) -> int:
    """The zygote's pid as the grader sees it (under bwrap and its init at the bwrap level)."""
    top = sandbox.zygote.worker.process.pid
    for pid in [top, *_descendants(top)]:
        try:
            if b"zygote.py" in Path(f"/proc/{pid}/cmdline").read_bytes() and \
                    not Path(f"/proc/{pid}/exe").resolve().name.startswith(("bwrap", "setpriv")):
                return pid
        except OSError:
            continue
    raise AssertionError("no zygote process found")


def _worker_uid(sandbox) -> int:
    """The uid a worker of ``sandbox`` runs student code as (one worker started and closed)."""
    session = WorkerSession(sandbox, LIMITS, MODULE)
    try:
        session.start_test()
        return StudentProxy(session).whoami()[1]
    finally:
        session.close()


@needs_bwrap
def test_bwrap_forks_warm_workers_that_cannot_reach_it() -> None:
    sandbox = make_sandbox("bwrap", warm=True)
    assert sandbox.cold_reason is None
    assert "warm workers forked from a zygote they cannot reach" in sandbox.description


def test_the_process_level_as_an_ordinary_user_forks_no_warm_workers_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    problem = warm_problem.__wrapped__("process", None)
    monkeypatch.undo()
    assert problem is not None and "ordinary user" in problem
    monkeypatch.setattr("grader.sandbox.zygote.warm_problem", lambda level, uid: problem)
    sandbox = make_sandbox("process", warm=True)
    assert "cold workers (a fresh Python each): no warm zygote" in sandbox.description
    session = WorkerSession(sandbox, LIMITS, MODULE)
    try:
        session.start_test()
        assert StudentProxy(session).whoami()[0] > 0
        assert sandbox.zygote is None  # nothing was forked
    finally:
        session.close()


@needs_bwrap
def test_a_zygote_that_stops_answering_is_replaced_before_the_next_fork() -> None:
    sandbox = make_sandbox("bwrap", warm=True)
    try:
        first = WorkerSession(sandbox, LIMITS, MODULE)
        first.start_test()
        StudentProxy(first).whoami()
        first.close()
        os.kill(_zygote_pid(sandbox), signal.SIGSTOP)  # as a student once could
        started = time.monotonic()
        assert _worker_uid(sandbox) == sandbox.uid
        assert sandbox.zygotes_started == 2
        assert time.monotonic() - started < 120
    finally:
        sandbox.close()


@needs_bwrap
def test_a_prestarted_zygote_is_the_one_the_first_worker_is_forked_from() -> None:
    """prestart returns at once (the zygote's imports run meanwhile); the first start waits
    for that zygote rather than starting another."""
    sandbox = make_sandbox("bwrap", warm=True)
    try:
        sandbox.prestart(LIMITS)
        # it returned before the zygote's ZygoteReady (its imports still running)
        assert sandbox.zygote is not None and sandbox.zygote.pending
        assert _worker_uid(sandbox) == sandbox.uid
        assert sandbox.zygotes_started == 1 and not sandbox.zygote.pending
        sandbox.prestart(LIMITS)  # a zygote is kept: nothing more is started
        assert sandbox.zygotes_started == 1
    finally:
        sandbox.close()


@needs_bwrap
def test_a_prestarted_zygote_that_dies_while_it_starts_is_replaced() -> None:
    sandbox = make_sandbox("bwrap", warm=True)
    try:
        sandbox.prestart(LIMITS)
        sandbox.zygote.worker.kill()  # gone while it starts (its ZygoteReady sent or not)
        assert _worker_uid(sandbox) == sandbox.uid
        assert sandbox.zygotes_started == 2
    finally:
        sandbox.close()


class FailingSandbox:
    """A sandbox whose workers never start (a broken machine, a dead zygote)."""

    level = "process"
    description = "process (test double: every start fails)"
    uid = None
    starts: list[int] = []

    def start(self, limits: Limits, device: str = "cpu") -> None:
        FailingSandbox.starts.append(slots.lease_slot())
        raise SandboxFailure("the warm zygote could not start a worker: test double")

    def close(self) -> None:
        pass


def test_a_sandbox_failure_is_retried_on_a_fresh_slot_then_a_grader_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    subs = tmp_path / "subs" / "ada"
    subs.mkdir(parents=True)
    # the reference plus a newline: a byte copy of a course file is refused at discovery
    (subs / "activations.ipynb").write_bytes((ROOT / "solutions" / "activations.ipynb")
                                             .read_bytes() + b"\n")
    monkeypatch.setattr(local, "make_sandbox",
                        lambda level, warm, preload=None: FailingSandbox())
    FailingSandbox.starts.clear()
    close_sandboxes()
    cache = ResultCache(tmp_path / "out")
    try:
        run = grade_folder(tmp_path / "subs", load_course(ROOT),
                           Settings(course_root=ROOT, sandbox="process", jobs=1),
                           only=("activations",), resume=Resume(cache))
    finally:
        close_sandboxes()
    (result,) = run.results
    assert result.grader_error and result.score == 0 and result.tests == ()
    assert "SandboxFailure" in (result.error or "") and "course staff" in (result.error or "")
    assert len(FailingSandbox.starts) == 2  # graded twice ...
    assert FailingSandbox.starts[0] != FailingSandbox.starts[1]  # ... the retry on another slot
    assert cache.entries() == []  # a rerun grades it again


def test_a_worker_that_never_started_is_the_graders_failure_not_the_students() -> None:
    class SilentWorker:
        """A worker whose channel closes before it says Started."""

        def __init__(self) -> None:
            self.read_fd, write = os.pipe()
            os.close(write)
            _, self.write_fd = os.pipe()
            self.killed = 0

        def alive(self) -> bool:
            return False

        def kill(self) -> None:
            self.killed += 1

        def output(self) -> str:
            return ""

        def exit_description(self) -> str:
            return "exit status 1"

    class OnceSandbox:
        level = "process"
        description = "test double"
        started = 0

        def start(self, limits: Limits, device: str = "cpu") -> SilentWorker:
            OnceSandbox.started += 1
            return SilentWorker()

    session = WorkerSession(OnceSandbox(), LIMITS, MODULE)  # type: ignore[arg-type]
    for _ in range(3):  # every later test gets the same failure, without another start
        session.start_test()
        with pytest.raises(SandboxFailure, match="did not start"):
            StudentProxy(session).whoami()
    assert OnceSandbox.started == 1
    assert isinstance(session.grader_failure, SandboxFailure)


def test_the_zygote_answers_a_malformed_control_request_with_an_error() -> None:
    """The zygote decodes its control requests as typed messages: anything else (the untyped
    dicts of old, a worker's frame, a request with a wrong field) gets a ZygoteError, and it
    keeps serving."""
    from grader.worker import protocol as p
    from grader.worker import zygote as worker_zygote

    control, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        zygote = worker_zygote.Zygote(control, worker_zygote.Isolation("uid", None), {})
        for message in (b'{"op": "kill", "pid": -1}', p.encode_message(p.Shutdown()),
                        p.encode_message(p.ZygoteSpawn(limits={})),  # without its fds
                        p.encode_message(p.ZygoteKill(pid=0))):
            reply = zygote.handle(message, [])
            assert isinstance(reply, p.ZygoteError), reply
        assert zygote.handle(p.encode_message(p.ZygotePing()), []) == p.ZygotePong()
    finally:
        control.close()
        peer.close()


class _PeerWorker:
    """The zygote's process, as the grader's Zygote sees it (a test double)."""

    killed = False

    def kill(self) -> None:
        self.killed = True

    def output(self) -> str:
        return ""


@pytest.mark.parametrize(("answer", "problem"), [
    (b"not a message", "zygote failed \\(ping\\): message header"),
    (b"@pong", "zygote failed \\(ping\\)"),
    ("Spawned", "zygote failed \\(ping\\): a ZygoteSpawned answered it"),
    ("Error", "zygote refused ping: busy"),
])
def test_the_grader_refuses_a_malformed_or_out_of_turn_zygote_reply(
        answer: bytes | str, problem: str) -> None:
    from grader.sandbox.zygote import Zygote
    from grader.worker import protocol as p

    if answer == "Spawned":
        answer = p.encode_message(p.ZygoteSpawned(pid=3))
    elif answer == "Error":
        answer = p.encode_message(p.ZygoteError(error="busy"))
    zygote = Zygote.__new__(Zygote)
    zygote.control, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    zygote.worker = _PeerWorker()  # type: ignore[assignment]
    try:
        peer.send(answer)  # type: ignore[arg-type]
        with pytest.raises(SandboxFailure, match=problem):
            zygote.request(p.ZygotePing(), p.ZygotePong, timeout=5)
        assert p.decode_control(peer.recv(65536)) == p.ZygotePing()
        # out of turn or malformed: the zygote is killed (a late reply would answer the next
        # request); a ZygoteError is an answer in turn, and the zygote is kept
        assert zygote.worker.killed is (answer != p.encode_message(p.ZygoteError("busy")))
    finally:
        zygote.control.close()
        peer.close()


def _status(pid: int, field: str) -> list[int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return [int(n) for n in next(line for line in status.splitlines()
                                 if line.startswith(field + ":")).split()[1:]]


def _spares(sandbox) -> list[tuple[int, int]]:
    """(host pid, pid as the zygote sees it) of the zygote's children that wait for a
    hand-over: still the zygote's uid (root), not yet anyone's worker. (A child that is gone
    by the time it is read, such as the last worker, is none.)"""
    found = []
    for pid in children_of(_zygote_pid(sandbox)):
        try:
            if _status(pid, "Uid")[0] == 0:
                found.append((pid, _status(pid, "NSpid")[1]))
        except (OSError, StopIteration):
            continue
    return found


def _await_spare(sandbox) -> tuple[int, int]:
    deadline = time.monotonic() + 10
    while not (spares := _spares(sandbox)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(spares) == 1, spares
    return spares[0]


def _whoami_once(sandbox) -> tuple[int, int]:
    """(pid as the zygote sees it, uid the student's code runs as) of one worker, started,
    asked and closed."""
    session = WorkerSession(sandbox, LIMITS, MODULE)
    try:
        session.start_test()
        _, uid = StudentProxy(session).whoami()
        return session.worker.pid, uid  # type: ignore[union-attr]
    finally:
        session.close()


@needs_bwrap
def test_the_next_worker_is_a_spare_made_as_the_last_one_ended_and_dropped_only_then() -> None:
    """After a worker ends the zygote forks the next one and makes its world; it waits as the
    zygote's uid (no process of a worker's uid outlives the run) and becomes the worker, with
    the worker's uid, when the next request hands it its channel."""
    sandbox = make_sandbox("bwrap", warm=True)
    try:
        first, uid = _whoami_once(sandbox)
        assert uid == sandbox.uid
        _, spare = _await_spare(sandbox)
        assert spare != first
        second, uid = _whoami_once(sandbox)
        assert second == spare and uid == sandbox.uid
    finally:
        sandbox.close()


@needs_bwrap
def test_a_spare_that_died_before_its_turn_is_replaced_by_a_fresh_fork() -> None:
    sandbox = make_sandbox("bwrap", warm=True)
    try:
        _whoami_once(sandbox)
        host_pid, spare = _await_spare(sandbox)
        os.kill(host_pid, signal.SIGKILL)  # (dead before the hand-over, or during it)
        worker, uid = _whoami_once(sandbox)
        assert worker != spare and uid == sandbox.uid
        assert sandbox.zygotes_started == 1  # the zygote went on: no replacement was needed
    finally:
        sandbox.close()

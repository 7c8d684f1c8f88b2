"""One submission's worker as the grader drives it: start, load, call, restart after a crash.

Every request runs under the current test's time budget and the submission's budget. A
test's budget counts only the time spent waiting on the worker (the suite's own work in the
grader, and starting a worker, are not the student's time), and it counts it in the CPU time
of the worker's cgroup where that is counted, with the wall clock as a backstop
(grader.sandbox.clock: 3 x the budget + 5 s); elsewhere on the wall clock alone. The same holds
for a load (``load_timeout_s``) and for the submission's whole suite (``submission_timeout_s``;
its backstop counted from the session's start, and never past ``wall_cap_s``, what the
student's earlier files left of their backstop: grader.run.budget). A worker that times
out, dies or breaks the protocol is killed; the error goes to the current test, and the next
request starts a fresh worker and loads the module again, so grading goes on with the next
test. Handles from a dead worker are stale and say so when used.

What timed out or died inside a call is remembered (grader.submission.stops): later requests that
need it fail at once, without a new wait. ``waits`` counts the deadlines this session waited
out (test and load timeouts): what a hanging submission cost.

Whatever the worker sends is bounded here, on the grader's side (the worker's own caps are a
convenience student code can bypass): failure texts and tracebacks, the Ready message's names
and load errors, the captured output of all the submission's workers together, and the text
of a protocol error.

A worker that could not be started (it never said ``Started``, before any student code ran) or
whose zygote failed is the grader's failure, not the student's: it is kept in
``grader_failure`` and raised again by every later request, so the submission is retried, then
recorded as a grader error, never scored.
"""

from __future__ import annotations

import itertools
import select
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from grader.core.errors import (
    BudgetSpent,
    CallCrashed,
    CallTimedOut,
    NotAttempted,
    NotCalledAgain,
    ProtocolError,
    SandboxFailure,
    StudentError,
    WorkerCrashed,
    WorkerError,
    WorkerTimeout,
)
from grader.core.settings import DEFAULT_TEST_BUDGET_S, Limits
from grader.sandbox.base import Sandbox, Worker, recv_frame, send_frame
from grader.sandbox.clock import CPU, Clock, CpuSource, Deadline, backstop, cpu_source
from grader.submission.bounds import bounded, cap_output, clip
from grader.submission.handles import handle_of
from grader.submission.stops import (
    BLAME_SHARE,
    Stop,
    Subject,
    crashed,
    seconds,
    timed_out,
)
from grader.submission.values import unusual
from grader.worker import protocol

#: how long a worker may take to say Started (its start is not the student's time)
START_TIMEOUT_S = 120.0


class WorkerSession:
    """Drives workers for one submission; restarts them as needed."""

    def __init__(self, sandbox: Sandbox, limits: Limits, statements: list[str],
                 threads: int = 1, device: str = "cpu", seed: int = 0,
                 wall_cap_s: float | None = None, clock: Clock = time.monotonic) -> None:
        self.sandbox = sandbox
        self.clock = clock
        self.wall_cap_s = wall_cap_s
        self.seed = seed
        self.limits = limits
        self.device = device
        self.load_failure: WorkerError | None = None
        self.grader_failure: SandboxFailure | None = None
        self.awaiting_start = False  # a worker was started and has not said Started yet
        self.statements = statements
        self.threads = threads
        self.worker: Worker | None = None
        self.cpu_reader: CpuSource | None = None  # the worker's CPU time (None: not counted)
        self.generation = 0
        self.ready: protocol.Ready | None = None
        self.outputs: list[str] = []
        self.callbacks: dict[int, Callable[..., Any]] = {}
        self._ids = itertools.count(1)
        self.started = clock()
        self.cpu_counted = False  # whether any exchange was counted in the cgroup's CPU time
        self.cpu_used_s = 0.0  # CPU seconds the submission's workers used in its exchanges
        self.test_name = ""
        self.test_budget_s = limits.test_timeout_s or DEFAULT_TEST_BUDGET_S
        self.test_used_s = 0.0  # wall-clock time this test has spent waiting on the worker
        self.test_cpu_s = 0.0  # CPU time the worker used for this test
        #: values of this test's replies the suite may not use (grader.submission.values)
        self.unusual: list[str] = []
        self.worker_s: defaultdict[str, float] = defaultdict(float)  # the same, per test
        self.waits = 0  # deadlines waited out: test and load timeouts
        self.wall_waits = 0  # of them, those the wall clock ended (contention can cause these)
        self.stops: dict[str, Stop] = {}

    # ------------------------------------------------------------------ lifecycle
    def start_test(self, name: str = "", budget_s: float | None = None) -> None:
        """A new test: ``budget_s`` seconds of the worker's time (default: the limits')."""
        self.test_name = name
        self.test_budget_s = (budget_s if budget_s is not None
                              else self.limits.test_timeout_s or DEFAULT_TEST_BUDGET_S)
        self.test_used_s = 0.0
        self.test_cpu_s = 0.0
        self.unusual = []

    def ensure_ready(self) -> protocol.Ready:
        if self.grader_failure is not None:
            raise self.grader_failure
        try:
            if self.ready is not None and self._worker_usable():
                return self.ready
            return self._load()
        except SandboxFailure as exc:
            self._fail(exc)
            raise

    def _worker_usable(self) -> bool:
        """Is the loaded worker still there? Between requests its channel is silent: only a
        readable channel (its end closed, or a message nobody asked for) is worth asking the
        sandbox about (a round trip to the zygote: too dear for every request)."""
        worker = self.worker
        if worker is None:
            return False
        if worker.read_fd >= 0 and not select.select([worker.read_fd], [], [], 0)[0]:
            return True
        return worker.alive()

    def _load(self) -> protocol.Ready:
        if self.load_failure is not None:
            # Loading killed or hung the worker once: it would again, for every test (a loop
            # or an exit at import must cost one load timeout, not one per test).
            raise type(self.load_failure)(str(self.load_failure))
        self._discard()
        self.worker = self.sandbox.start(self.limits, self.device)
        self.cpu_reader = cpu_source(self.worker)  # counted or not, for this worker's life
        self.awaiting_start = True
        self._await_start()  # the worker's own start is not the student's time
        deadline = self._exchange_deadline(self.limits.load_timeout_s, 0.0, 0.0)
        try:
            reply = self._exchange(protocol.Load(self.statements, threads=self.threads,
                                                 seed=self.seed),
                                   deadline)
        except (WorkerTimeout, WorkerCrashed, ProtocolError) as exc:
            self.load_failure = exc
            raise
        finally:
            self._count(deadline)
        if not isinstance(reply, protocol.Ready):
            self._discard()
            raise ProtocolError(f"worker answered Load with {type(reply).__name__}")
        self.ready = reply
        return reply

    def _await_start(self) -> None:
        """The worker's Started, before it may read any student code: anything else is the
        grader's failure."""
        assert self.worker is not None
        self.awaiting_start = False
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            payload = recv_frame(self.worker, deadline, self.limits.message_bytes)
            started = isinstance(protocol.decode_message(payload), protocol.Started)
        except (WorkerError, protocol.WireError) as exc:
            raise SandboxFailure(f"the worker did not start: {exc}") from None
        if not started:
            raise SandboxFailure("the worker did not start: it did not say Started")

    def _fail(self, exc: SandboxFailure) -> None:
        self.grader_failure = exc
        try:
            self._discard()
        except SandboxFailure:
            self.worker = None

    def close(self) -> None:
        try:
            if self._worker_usable():  # (no round trip to the zygote for a silent channel)
                send_frame(self.worker, protocol.encode_message(protocol.Shutdown()),
                           time.monotonic() + 1.0)
        except (WorkerError, SandboxFailure):
            pass
        self._discard()

    def _discard(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.outputs.append(self.worker.output())
            self.generation += 1  # handles into the old worker are stale from now on
        self.worker = None
        self.ready = None

    def output(self) -> str:
        """What the submission's workers printed, all of them together capped at
        ``output_bytes`` characters (each worker's pipe is capped on its own too)."""
        live = [self.worker.output()] if self.worker is not None else []
        return cap_output("".join(self.outputs + live), self.limits.output_bytes)

    # ------------------------------------------------------------------ requests
    def request(self, message: Any, decode_handle: Callable[[protocol.Handle], Any],
                subject: Subject | None = None) -> Any:
        """Send one request; return the Result, raising StudentError for a Failure.

        ``subject`` (grader.submission.stops) names what the request runs: when it, or what it
        needs, hung or crashed earlier, the request fails at once (NotCalledAgain); when it
        hangs or crashes now, it is remembered."""
        if subject is not None:
            self._refuse_stopped(subject)
        self._test_spent()  # a spent budget starts no worker
        self.ensure_ready()
        deadline = self._test_deadline()
        began = self.clock()
        try:
            reply = self._exchange(message, deadline, decode_handle)
        except SandboxFailure as exc:
            self._fail(exc)
            raise
        except (WorkerTimeout, WorkerCrashed) as exc:
            raise self._remember(subject, exc, deadline, began) from None
        finally:
            spent = self.clock() - began
            self.test_used_s += spent
            self.worker_s[self.test_name] += spent
            self.test_cpu_s += self._count(deadline)
        if isinstance(reply, protocol.Failure):
            raise (NotAttempted if reply.not_implemented else StudentError)(reply)
        if not isinstance(reply, protocol.Result):
            self._discard()
            raise ProtocolError(f"worker answered with {type(reply).__name__}")
        self.unusual.extend(u for u in unusual(reply.value) if u not in self.unusual)
        return reply

    def _refuse_stopped(self, subject: Subject) -> None:
        for key in subject.needs:
            if key in self.stops:
                raise NotCalledAgain(self.stops[key])

    # ------------------------------------------------------------------ budgets
    def _counts_cpu(self) -> bool:
        """Whether the current worker's CPU time is counted (else: the wall clock alone)."""
        return self.worker is not None and self.cpu_reader is not None

    def _wall_allowance(self, budget_s: float, counted: bool) -> float:
        return backstop(budget_s) if counted else budget_s

    def _submission_wall_end(self, counted: bool) -> float:
        """When the submission's wall clock runs out: its budget (its backstop where CPU time
        is counted) from the start, and never past the student's own backstop left."""
        end = self.started + self._wall_allowance(self.limits.submission_timeout_s, counted)
        if self.wall_cap_s is not None:
            end = min(end, self.started + self.wall_cap_s)
        return end

    def _submission_spent(self, counted: bool) -> None:
        if (self.clock() >= self._submission_wall_end(counted)
                or (counted and self.cpu_used_s >= self.limits.submission_timeout_s)):
            raise BudgetSpent(f"the submission's time budget of "
                              f"{seconds(self.limits.submission_timeout_s)} is spent")

    def _exchange_deadline(self, budget_s: float, cpu_used: float,
                           wall_used: float) -> Deadline:
        """The deadline of one exchange under a budget of ``budget_s`` (of which ``cpu_used``
        CPU and ``wall_used`` wall seconds are gone) and the submission's."""
        counted = self._counts_cpu()
        self._submission_spent(counted)
        now = self.clock()
        cpu_left = min(budget_s - cpu_used, self.limits.submission_timeout_s - self.cpu_used_s)
        wall = min(now + self._wall_allowance(budget_s, counted) - wall_used,
                   self._submission_wall_end(counted))
        source = self.cpu_reader if counted else None
        return Deadline.make(self.clock, wall, source, cpu_left if counted else None)

    def _test_spent(self) -> None:
        """BudgetSpent where the test's budget, or the submission's, is gone (from what the
        session counted so far: the cgroup is not read)."""
        counted = self._counts_cpu()
        self._submission_spent(counted)
        if ((counted and self.test_cpu_s >= self.test_budget_s)
                or self.test_used_s >= self._wall_allowance(self.test_budget_s, counted)):
            raise BudgetSpent(f"the test's time budget of {seconds(self.test_budget_s)} "
                              "is spent")

    def _test_deadline(self) -> Deadline:
        """When the next exchange must end: the test's budget left, or the submission's."""
        self._test_spent()
        return self._exchange_deadline(self.test_budget_s, self.test_cpu_s, self.test_used_s)

    def _count(self, deadline: Deadline) -> float:
        """Add what an exchange used of the CPU to the submission's total; returns it."""
        if not deadline.counted:
            return 0.0
        used = deadline.cpu_used()
        self.cpu_counted = True
        self.cpu_used_s += used
        return used

    def _remember(self, subject: Subject | None, error: WorkerError, deadline: Deadline,
                  began: float) -> WorkerError:
        """The error to raise for a call that timed out or crashed, remembering its subject
        where the call is to blame (grader.submission.stops): it used at least BLAME_SHARE of
        the test's budget itself (of its CPU time, or of the wall-clock backstop when that
        ended it), and the submission's own budget was not what ran out."""
        if subject is None:
            return error
        if isinstance(error, WorkerCrashed):
            stop: Stop | None = crashed(subject, error, self.test_name)
            self.stops[subject.key] = stop
            return CallCrashed(str(error), stop)
        budget, counted = self.test_budget_s, deadline.counted
        if deadline.fired == CPU:
            own, allowance = deadline.cpu_used(), budget
            submission = (self.limits.submission_timeout_s - self.cpu_used_s
                          <= budget - self.test_cpu_s)
        else:
            own, allowance = self.clock() - began, self._wall_allowance(budget, counted)
            submission = deadline.wall >= self._submission_wall_end(counted)
        blamed = not submission and own >= BLAME_SHARE * allowance
        wall_s = allowance if counted and deadline.fired != CPU else None
        stop = timed_out(subject, budget, self.test_name, cpu=counted,
                         wall_s=wall_s) if blamed else None
        if stop is not None:
            self.stops[subject.key] = stop
        return CallTimedOut(str(error), stop)

    def _exchange(self, message: Any, deadline: float | Deadline,
                  decode_handle: Callable[[protocol.Handle], Any] | None = None) -> Any:
        assert self.worker is not None
        if self.awaiting_start:  # a new worker's first exchange: it must have started
            self._await_start()
        try:
            send_frame(self.worker, self._encode(message), deadline)
            while True:
                payload = recv_frame(self.worker, deadline, self.limits.message_bytes)
                reply = bounded(protocol.decode_message(payload, from_handle=decode_handle))
                if not isinstance(reply, protocol.CallbackRequest):
                    return reply
                send_frame(self.worker, self._encode(self._run_callback(reply)), deadline)
        except protocol.WireError as exc:
            self._discard()
            raise ProtocolError(f"worker sent an invalid message: {clip(exc, 200)}") from None
        except WorkerTimeout:
            self.waits += 1
            if not (isinstance(deadline, Deadline) and deadline.fired == CPU):
                self.wall_waits += 1
            self._discard()
            raise
        except (WorkerCrashed, ProtocolError):
            self._discard()  # the channel is out of step: the rest of that frame is unread
            raise

    def _encode(self, message: Any) -> bytes:
        return protocol.encode_message(message, to_handle=handle_of,
                                       to_callback=self._register_callback)

    def _register_callback(self, function: Callable[..., Any]) -> protocol.CallbackRef:
        ref = protocol.CallbackRef(id=next(self._ids))
        self.callbacks[ref.id] = function
        return ref

    def _run_callback(self, request: protocol.CallbackRequest) -> protocol.Reply:
        function = self.callbacks.get(request.id)
        if function is None:
            return protocol.Reply(error=f"unknown callback {request.id}")
        try:
            return protocol.Reply(value=function(*request.args))
        except Exception as exc:  # noqa: BLE001 - a suite callable rejecting student input
            return protocol.Reply(error=f"{type(exc).__name__}: {exc}")



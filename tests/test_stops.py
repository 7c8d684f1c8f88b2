"""Remember what hung: within one submission, what timed out or killed its worker is not called
again; everything else is (grader.submission.stops). Assertions count waits, never seconds."""

from __future__ import annotations

import time

import pytest

from grader.core.errors import (
    BudgetSpent,
    CallCrashed,
    CallTimedOut,
    NotCalledAgain,
    WorkerCrashed,
    WorkerTimeout,
)
from grader.core.results import CRASHED, TIMED_OUT
from grader.core.settings import Limits
from grader.sandbox.cgroups import factory
from grader.sandbox.clock import backstop
from grader.submission.handles import HANDLE_SLOT
from grader.submission.proxy import StudentProxy
from grader.submission.session import WorkerSession
from grader.submission.stops import (
    function_subject,
    method_subject,
    probe_subject,
    student_names,
)
from grader.worker import protocol

pytestmark = pytest.mark.slow  # real workers waited out (budgets of seconds)

MODULE = [
    "import time",
    "def double(x):\n    return 2 * x",
    "def hang():\n    while True:\n        pass",
    "def hang_too():\n    while True:\n        pass",
    "def nap(seconds):\n    time.sleep(seconds)\n    return seconds",
    "def busy(seconds):\n    end = time.thread_time() + seconds\n"
    "    while time.thread_time() < end:\n        pass\n    return seconds",
    "def calls_hang():\n    return hang()",
    "def die():\n    import os\n    os._exit(3)",
    "def apply(f, x):\n    return f(x)",
    "class Spin:\n    def __call__(self, x):\n        while True:\n            pass\n"
    "    def size(self):\n        return 3",
]
BUDGET_S = 1.0


def counts_cpu(sandbox) -> bool:
    """Whether ``sandbox``'s workers have their CPU time counted (grader.sandbox.clock)."""
    cgroups = factory()
    return sandbox.level != "inprocess" and cgroups is not None and cgroups.counts_cpu


def session_for(sandbox, **limits: float) -> tuple[WorkerSession, StudentProxy]:
    session = WorkerSession(sandbox, Limits(**limits), MODULE)
    return session, StudentProxy(session)


def test_a_hang_costs_one_wait_then_fails_at_once_where_it_is_needed(isolated_sandbox) -> None:
    session, student = session_for(isolated_sandbox)
    try:
        session.start_test("test_first", BUDGET_S)
        with pytest.raises(CallTimedOut) as first:
            student.hang()
        assert first.value.stop is not None and first.value.stop.status == TIMED_OUT
        # a spinning hang ends on its CPU budget where the worker's cgroup counts that
        reason = first.value.stop.reason
        assert reason == ("did not return within 1 s of CPU time" if counts_cpu(isolated_sandbox)
                          else "did not return within 1 s")
        assert session.waits == 1 and session.generation == 1  # the worker was replaced
        for name in ("test_second", "test_third"):
            session.start_test(name, BUDGET_S)
            with pytest.raises(NotCalledAgain) as again:
                student.call("hang")
            assert again.value.stop.test == "test_first"
            assert f"hang {reason} in an earlier test (test_first); " \
                   "not called again" in str(again.value)
            assert student.double(21) == 42  # other functions are graded as usual
        assert session.waits == 1 and session.generation == 1  # no new wait, no new worker
        # nested calls are not traced: calls_hang hangs once more, then is remembered too
        session.start_test("test_fourth", BUDGET_S)
        with pytest.raises(CallTimedOut):
            student.calls_hang()
        session.start_test("test_fifth", BUDGET_S)
        with pytest.raises(NotCalledAgain):
            student.calls_hang()
        assert session.waits == 2
    finally:
        session.close()


def test_a_crash_is_remembered_as_a_crash(isolated_sandbox) -> None:
    session, student = session_for(isolated_sandbox)
    try:
        session.start_test("test_die", BUDGET_S)
        with pytest.raises(CallCrashed, match="exit status 3") as first:
            student.die()
        assert isinstance(first.value, WorkerCrashed) and first.value.stop.status == CRASHED
        session.start_test("test_again", BUDGET_S)
        with pytest.raises(NotCalledAgain, match="crashed the process running it"):
            student.die()
        assert student.double(1) == 2 and session.waits == 0
    finally:
        session.close()


def test_objects_are_remembered_by_class_and_method(isolated_sandbox) -> None:
    session, student = session_for(isolated_sandbox)
    try:
        session.start_test("test_call", BUDGET_S)
        with pytest.raises(CallTimedOut) as first:
            student.Spin()(1)
        assert first.value.stop.key == "Spin.__call__"
        session.start_test("test_other_method", BUDGET_S)
        spin = student.Spin()  # the class itself is still constructed
        assert spin.call_method("size") == 3  # its other methods still run
        with pytest.raises(NotCalledAgain):
            spin(2)
        assert session.waits == 1
    finally:
        session.close()


def test_a_call_given_a_worker_object_is_remembered_apart(isolated_sandbox) -> None:
    """apply(Spin(), x) hangs in Spin's method, not necessarily in apply: apply given a grader
    callable is still called."""
    session, student = session_for(isolated_sandbox)
    try:
        session.start_test("test_apply_spin", BUDGET_S)
        with pytest.raises(CallTimedOut) as first:
            student.apply(student.Spin(), 1)
        assert first.value.stop.key == "apply[Spin]"
        session.start_test("test_apply_callback", BUDGET_S)
        assert student.apply(lambda v: v + 1, 1) == 2
        with pytest.raises(NotCalledAgain):
            student.apply(student.Spin(), 2)
        assert session.waits == 1
    finally:
        session.close()


def test_a_call_that_sleeps_is_stopped_by_the_wall_clock(isolated_sandbox) -> None:
    """Sleeping uses no CPU: where budgets count CPU time, the wall-clock backstop (3 x the
    budget + 5 s) stops it; elsewhere the budget itself does."""
    session, student = session_for(isolated_sandbox)
    try:
        session.start_test("test_sleep", BUDGET_S)
        began = time.monotonic()
        with pytest.raises(CallTimedOut) as slept:
            student.nap(600.0)
        waited = time.monotonic() - began
        assert slept.value.stop is not None
        if counts_cpu(isolated_sandbox):
            assert backstop(BUDGET_S) <= waited < backstop(BUDGET_S) + 5.0
            assert slept.value.stop.reason == (
                "did not return within 8 s (while using less than its 1 s of CPU time: it "
                "waited or slept)")
        else:
            assert BUDGET_S <= waited < backstop(BUDGET_S)
    finally:
        session.close()


def test_a_call_that_started_with_the_budget_nearly_spent_is_not_blamed(isolated_sandbox
                                                                          ) -> None:
    """The test's budget is the worker's time over all its calls: a call that got less than
    half of it is not remembered (hang_too is called again in the next test). ``busy``
    computes (CPU time, which every level counts; a nap would not count where CPU is)."""
    session, student = session_for(isolated_sandbox)
    try:
        session.start_test("test_slow_then_hang", 8.0)
        assert student.busy(5.0) == 5.0
        with pytest.raises(CallTimedOut) as late:
            student.hang_too()
        assert late.value.stop is None and "hang_too" not in session.stops
        session.start_test("test_hang", BUDGET_S)
        with pytest.raises(CallTimedOut) as own:
            student.hang_too()
        assert own.value.stop is not None and session.waits == 2
    finally:
        session.close()


def test_a_spent_submission_budget_starts_no_worker(isolated_sandbox) -> None:
    session, student = session_for(isolated_sandbox, submission_timeout_s=3.0)
    try:
        for name in ("test_a", "test_b", "test_c"):
            session.start_test(name, 2.0)
            with pytest.raises(WorkerTimeout):
                student.hang() if name == "test_a" else student.hang_too()
        # two waits at most fit in 3 s (2 s, then what is left); the third test finds the
        # budget spent, or the second already did
        assert 1 <= session.waits <= 2
        generation = session.generation
        session.start_test("test_d", 2.0)
        with pytest.raises(BudgetSpent, match="submission's time budget of 3 s is spent"):
            student.double(1)
        assert session.generation == generation and session.waits <= 2
    finally:
        session.close()


def test_keys_name_what_the_grader_called() -> None:
    class Remote:  # a RemoteObject as the stops see it: its handle in the handle slot
        def __init__(self, type_name: str) -> None:
            setattr(self, HANDLE_SLOT, protocol.Handle(0, type_name))

    assert function_subject("sigmoid", [1.0]).needs == ("sigmoid",)
    given = function_subject("train_model", [Remote("SimpleNN"), {"x": [Remote("Adam")]}])
    assert given.key == "train_model[Adam,SimpleNN]"
    assert given.needs == ("train_model[Adam,SimpleNN]", "train_model")
    assert method_subject("SimpleNN", "").key == "SimpleNN.__call__"
    assert method_subject("SimpleNN", "load_state_dict", [{}]).key == "SimpleNN.load_state_dict"


def test_a_probe_is_remembered_as_the_one_student_function_it_names() -> None:
    one = "def probe(model, x, y):\n    return student.evaluate(model, x, y)\n"
    assert student_names(one) == ("evaluate",)
    assert probe_subject(one).key == "evaluate"
    two = "def probe():\n    return student.forward(1) + student.backward(2)\n"
    subject = probe_subject(two)
    assert subject.key.startswith("probe:") and set(subject.needs) == {
        subject.key, "forward", "backward"}
    assert probe_subject("def probe(model):\n    return model.fc1\n").key.startswith("probe:")

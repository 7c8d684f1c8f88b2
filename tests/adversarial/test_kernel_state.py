"""Kernel objects of a worker's uid never reach the next student in its slot.

``kernel/a_plant.py`` (worth 0) leaves a key in its uid's user, user-session and persistent
keyrings, System V shared memory, a message queue and a semaphore set, and a POSIX message
queue; ``kernel/b_probe.py`` (correct code) graded right after it in the same slot looks for
each and prints what it found. Both levels, warm (forked from the slot's zygote) and cold
workers: the prober must find nothing and score what it scores alone (100). The helpers of
``kernel/_kernel.py`` come first in both files; ``@@RUN@@`` is an id of this test process.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from helpers.resources import needs_bwrap, needs_root

from grader.core.course import load_course
from grader.core.results import RunResult, SubmissionResult
from grader.core.settings import Limits, Settings
from grader.run.grading import close_sandboxes, grade_folder
from grader.sandbox import slots
from grader.sandbox.bwrap import available as bwrap_problem
from grader.sandbox.process import setpriv_prefix

ROOT = Path(__file__).resolve().parents[2]
KERNEL = Path(__file__).resolve().parent / "kernel"
RUN_ID = uuid.uuid4().hex[:12]
BWRAP_PROBLEM = bwrap_problem()
LIMITS = Limits(memory_mb=512, processes=64, test_timeout_s=2, submission_timeout_s=40,
                load_timeout_s=8, output_bytes=64 * 1024, file_size_mb=16)
NEEDS_BWRAP = needs_bwrap
# as an ordinary user the process level shares the grader's uid: README promises nothing there
NEEDS_ROOT = needs_root
CASES = [pytest.param(level, warm, id=f"{level}-{'warm' if warm else 'cold'}",
                      marks=[NEEDS_BWRAP if level == "bwrap" else NEEDS_ROOT])
         for level in ("bwrap", "process") for warm in (True, False)]


@pytest.fixture(autouse=True)
def fresh_sandboxes():
    close_sandboxes()
    yield
    close_sandboxes()


def source(name: str) -> str:
    helpers = (KERNEL / "_kernel.py").read_text(encoding="utf-8")
    text = (KERNEL / name).read_text(encoding="utf-8")
    return f"{helpers}\n\n{text}".replace("@@RUN@@", RUN_ID)


def grade(level: str, warm: bool, students: dict[str, str], base: Path) -> RunResult:
    subs = base / "submissions"
    for student, text in students.items():
        (subs / student).mkdir(parents=True)
        (subs / student / "activations.py").write_text(text, encoding="utf-8")
    settings = Settings(course_root=ROOT, limits=LIMITS, sandbox=level, secret="kernel",
                        jobs=1, warm=warm)
    return grade_folder(subs, load_course(ROOT), settings, only=("activations",))


def _of(run: RunResult, student: str) -> SubmissionResult:
    return next(r for r in run.results if r.student == student)


def _line(result: SubmissionResult, tag: str) -> list[str]:
    line = next((x for x in result.output.splitlines() if x.startswith(tag)), None)
    assert line is not None, f"{result.student} printed no {tag}: {result.output[-300:]!r}"
    return line.split()[1:]


@pytest.mark.parametrize(("level", "warm"), CASES)
def test_kernel_objects_do_not_reach_the_next_student(tmp_path: Path, level: str,
                                                      warm: bool) -> None:
    run = grade(level, warm, {"a_attacker": source("a_plant.py"),
                              "b_prober": source("b_probe.py")}, tmp_path)
    attacker, prober = _of(run, "a_attacker"), _of(run, "b_prober")
    planted = _line(attacker, "PLANTED")
    # the attack did plant each kind (else the test would prove nothing)
    assert {"user", "user-session", "shm", "msg", "sem", "mq"} <= set(planted), planted
    assert _line(prober, "FOUND") == []
    assert attacker.score == 0
    assert prober.score == 100 and not prober.grader_error, prober.error


@pytest.mark.parametrize(("level", "warm"), CASES)
def test_the_probe_finds_what_its_own_worker_planted(tmp_path: Path, level: str,
                                                     warm: bool) -> None:
    """The prober is not blind: in one worker it finds what that worker planted."""
    text = source("b_probe.py").replace("    found = ", "    plant_keys(), plant_sysv(), "
                                        "plant_mq()\n    found = ", 1)
    assert text != source("b_probe.py")
    prober = _of(grade(level, warm, {"b_prober": text}, tmp_path), "b_prober")
    assert {"user", "user-session", "shm", "msg", "sem", "mq"} <= set(_line(prober, "FOUND"))


@NEEDS_ROOT
def test_ipc_a_worker_uid_left_in_the_graders_namespace_is_removed() -> None:
    """Belt and braces at the process level: what a worker uid made in the grader's own IPC
    namespace (where its own could not be made) is removed after it."""
    uid = slots.slot_uid(slots.MAX_SLOTS - 1)
    make = ("import ctypes; c = ctypes.CDLL(None); "
            f"assert c.shmget({uid}, 4096, 0o1600) >= 0; assert c.msgget({uid} + 1, 0o1600) >= 0; "
            f"assert c.semget({uid} + 2, 1, 0o1600) >= 0")
    subprocess.run([*setpriv_prefix(uid), sys.executable, "-I", "-c", make], check=True,
                   stdin=subprocess.DEVNULL, cwd="/")
    try:
        assert sorted(kind for kind, _ in slots.uid_ipc(uid)) == ["msg", "sem", "shm"]
    finally:
        slots.remove_uid_ipc(uid)
    assert slots.uid_ipc(uid) == []

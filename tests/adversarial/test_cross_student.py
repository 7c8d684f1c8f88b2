"""An attacker graded first, then honest students, in one slot: nothing carries over.

Each file in ``cross/`` is a student's ``activations`` submission (the helpers of
``cross/_common.py`` come first) whose own code is worth 0 and whose attack aims at the
students graded *after* it in the same slot (``--jobs 1``): it stops, rewrites or starves the
process its worker was forked from, leaves files, a full /tmp, a detached process or poisoned
start-up files where the next student works, or abuses the descriptors it inherited. Its
header says at which levels it runs (``process-root``: the process level run by root).

The honest students (``honest/`` and the reference notebook) are graded alone first, one run
each (full marks), then after each attacker in one run: each must get exactly the score it got
alone, not be a grader error, and (``d_world``) see exactly the world it saw alone:
environment, descriptors, rlimits, scheduling, its folders and what its uid owns in the shared
ones. All runs at a level share one sandbox, as a real run's slot does, and its zygote must
never have been replaced: a zygote an attacker stopped or broke would be restarted and hide
the attack, so a restart fails the test that caused it. No process of a worker uid may
outlive a run. Placeholders ``@@RUN@@`` (the names of the honest student's scratch files,
which the attackers are assumed to know) are filled with an id unique to this test process,
so runs of other checkouts on the machine never share them.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.resources import needs_bwrap

from grader.core.course import load_course
from grader.core.results import RunResult, SubmissionResult
from grader.core.settings import Limits, Settings
from grader.run.grading import close_sandboxes, grade_folder, kept_sandbox
from grader.sandbox import slots

pytestmark = pytest.mark.slow  # attacks between students graded as a class

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HONEST = {"b_reference": ROOT / "solutions" / "activations.ipynb",
          "c_files": HERE / "honest" / "files.py",
          "d_world": HERE / "honest" / "world.py"}
IS_ROOT = os.geteuid() == 0
RUN_ID = uuid.uuid4().hex[:12]
LIMITS = Limits(memory_mb=512, processes=64, test_timeout_s=2, submission_timeout_s=40,
                load_timeout_s=4, output_bytes=64 * 1024, file_size_mb=16)


@dataclass(frozen=True)
class Attack:
    name: str
    path: Path
    levels: tuple[str, ...]

    def runs_at(self, level: str) -> bool:
        return level in self.levels or (level == "process" and IS_ROOT
                                        and "process-root" in self.levels)


def _levels(path: Path) -> tuple[str, ...]:
    match = re.search(r"^# levels:(.*)$", path.read_text(encoding="utf-8"), re.M)
    assert match, f"{path}: no '# levels:' header"
    return tuple(match.group(1).split())


ATTACKS = [Attack(p.stem, p, _levels(p)) for p in sorted((HERE / "cross").glob("[a-z]*.py"))]
COMMON = (HERE / "cross" / "_common.py").read_text(encoding="utf-8")
NEEDS_BWRAP = needs_bwrap
LEVELS = [pytest.param("bwrap", marks=NEEDS_BWRAP), "process"]
PAIRS = [pytest.param(level, a.name, id=f"{level}-{a.name}",
                      marks=[NEEDS_BWRAP] if level == "bwrap" else [])
         for level in ("bwrap", "process") for a in ATTACKS if a.runs_at(level)]


def _worker_processes() -> list[str]:
    """Live processes of this test run's sandbox uids (zombies excluded)."""
    found = []
    for uid in range(slots.base_uid(), slots.base_uid() + slots.MAX_SLOTS):
        found += [f"pid {pid} uid {uid}" for pid in slots.uid_processes(uid)]
    return found


def _survivors(seconds: float = 5.0) -> list[str]:
    if not IS_ROOT:
        return []
    deadline = time.monotonic() + seconds
    while (left := _worker_processes()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def grade_class(level: str, students: dict[str, Path], base: Path) -> RunResult:
    """Grade ``students`` (graded in name order) in this level's slot."""
    subs, cwd = base / "submissions", base / "cwd"
    for student, source in students.items():
        (subs / student).mkdir(parents=True)
        if source.suffix == ".ipynb":  # (a byte copy of a course file is never graded: the
            # reference as a student's is its bytes and one more newline)
            (subs / student / "activations.ipynb").write_bytes(source.read_bytes() + b"\n")
        else:
            text = source.read_text(encoding="utf-8")
            if source.parent.name == "cross":
                text = f"{COMMON}\n\n{text}"
            (subs / student / "activations.py").write_text(text.replace("@@RUN@@", RUN_ID),
                                                           encoding="utf-8")
    cwd.mkdir()
    settings = Settings(course_root=ROOT, limits=LIMITS, sandbox=level, secret="cross", jobs=1)
    old_cwd = os.getcwd()
    os.chdir(cwd)
    try:
        run = grade_folder(subs, load_course(ROOT), settings, only=("activations",))
    finally:
        os.chdir(old_cwd)
    assert zygotes_started(level) <= 1, "the slot's zygote was replaced during the run"
    return run


def zygotes_started(level: str) -> int:
    return getattr(kept_sandbox(level, True), "zygotes_started", 0)


@pytest.fixture(scope="module", autouse=True)
def fresh_sandboxes():
    close_sandboxes()
    yield
    close_sandboxes()


def _of(run: RunResult, student: str) -> SubmissionResult:
    return next(r for r in run.results if r.student == student)


def world(result: SubmissionResult) -> dict[str, object]:
    """What ``honest/world.py`` printed about its world when it was loaded (the first time)."""
    line = next((line for line in result.output.splitlines() if line.startswith("WORLD ")), "")
    assert line, f"{result.student} printed no world: {result.output[-300:]!r}"
    return json.loads(line.removeprefix("WORLD "))


_ALONE: dict[tuple[str, str], SubmissionResult] = {}


@pytest.fixture
def alone(tmp_path_factory: pytest.TempPathFactory):
    """Each honest student graded alone at a level (once per test process)."""
    def of(level: str, student: str) -> SubmissionResult:
        if (level, student) not in _ALONE:
            base = tmp_path_factory.mktemp(f"alone-{level}-{student}")
            _ALONE[(level, student)] = _of(grade_class(level, {student: HONEST[student]},
                                                       base), student)
        return _ALONE[(level, student)]
    return of


@pytest.mark.parametrize("level", LEVELS)
def test_honest_students_alone_get_full_marks(alone, level: str) -> None:
    for student in HONEST:
        result = alone(level, student)
        assert result.score == 100 and not result.grader_error, \
            (student, result.error, [t.message[:120] for t in result.tests if not t.score])


@pytest.mark.parametrize(("level", "attack_name"), PAIRS)
def test_an_attack_never_reaches_the_students_graded_after_it(
        alone, tmp_path: Path, level: str, attack_name: str) -> None:
    attack = next(a for a in ATTACKS if a.name == attack_name)
    references = {student: alone(level, student) for student in HONEST}  # before the attack
    assert all(r.score == 100 for r in references.values())
    run = grade_class(level, {"a_attacker": attack.path, **HONEST}, tmp_path)
    assert _survivors() == [], "a process of the attacker outlived the run"
    for student, reference in references.items():
        result = _of(run, student)
        assert not result.grader_error, (student, result.error)
        assert result.score == reference.score, \
            (student, [(t.name, t.message[:160]) for t in result.tests if not t.score])
    seen, alone_seen = world(_of(run, "d_world")), world(references["d_world"])
    assert {k: (seen.get(k), alone_seen.get(k)) for k in seen.keys() | alone_seen.keys()
            if seen.get(k) != alone_seen.get(k)} == {}
    assert _of(run, "a_attacker").score == 0


@pytest.mark.parametrize("level", LEVELS)
def test_identical_honest_students_in_one_slot_score_alike(alone, tmp_path: Path,
                                                           level: str) -> None:
    """No attacker: students who append to a file in their working folder (the cleanup after
    one worker once deleted the folder the next worker worked in)."""
    expected = alone(level, "c_files").score
    students = {f"c_files{n}": HONEST["c_files"] for n in range(3)}
    run = grade_class(level, students, tmp_path)
    assert [_of(run, s).score for s in students] == [expected] * 3 == [100] * 3

"""Hostile students graded in one run with honest ones, at each sandbox level.

Over 400 lines on purpose: the run at each level is shared by every check of the attacks
(one class graded per level), and the checks need that run's fixtures.

Each file in ``submissions/`` is a student's ``activations`` submission whose honest code is
wrong (it returns zeros: worth 0) or, for ``loop_function``, right except one function, plus an
attack: at import time (shaped to survive extraction: default arguments, class bodies, and
assignments a function uses all run at definition time) or inside a function. Its header says

    # levels: bwrap process[-root]   where the guarantee holds (process-root: the process level
                                     run by root, which gives the worker its own uid)
    # expect: zero | all-but <fn>    what its honest code earns
    # not-data: <fn> ...             functions returning objects that must fail as "not data"
    # waits: N                       the most timeouts it may cost (what hangs: a function,
                                     the load); 0 when absent

Placeholders in string literals (``@@OUT@@``, ``@@REPO@@``, ``@@PORT@@``, ...) are filled in with
this run's real paths, as if the attacker had guessed them.

For every level one class (the attackers, two honest students) is graded by
``grade_folder`` with two parallel jobs and small limits, and reports are written; then:
honest students score 100, every attacker scores exactly what its honest code earns, no
process of a worker uid survives, no forged or planted file exists anywhere the attacks aimed
at, the project tree is unchanged, and (bwrap) the loopback listener saw no connection.
What the process level cannot promise is listed in README ("Threat model") and is tested at
the bwrap level only.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import socket
import stat
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers.resources import needs_bwrap, needs_root

from grader.core.course import load_course
from grader.core.paths import TEMPLATES_DIR
from grader.core.results import TIMED_OUT, RunResult, SubmissionResult
from grader.core.settings import Limits, Settings
from grader.report import write_reports
from grader.run.grading import grade_folder
from grader.sandbox import slots

pytestmark = pytest.mark.slow  # attacks graded through the real CLI and sandboxes

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
HONEST = ("honest_ada", "honest_bo")
IS_ROOT = os.geteuid() == 0
LIMITS = Limits(memory_mb=512, processes=64, test_timeout_s=2, submission_timeout_s=40,
                load_timeout_s=4, output_bytes=64 * 1024, file_size_mb=16)


@dataclass(frozen=True)
class Attack:
    name: str
    path: Path
    levels: tuple[str, ...]
    expect: str
    not_data: tuple[str, ...]
    waits: int

    def runs_at(self, level: str) -> bool:
        return level in self.levels or (level == "process" and IS_ROOT
                                        and "process-root" in self.levels)


def _header(path: Path, key: str) -> str:
    match = re.search(rf"^# {key}:(.*)$", path.read_text(encoding="utf-8"), re.M)
    return match.group(1).strip() if match else ""


ATTACKS = [Attack(p.stem, p, tuple(_header(p, "levels").split()), _header(p, "expect"),
                  tuple(_header(p, "not-data").split()),
                  int((_header(p, "waits") or "0").split()[0]))
           for p in sorted(SUBMISSIONS.glob("*.py"))]


def _level_param(level: str):
    if level == "bwrap":
        return pytest.param(level, marks=needs_bwrap)
    return level


LEVELS = [_level_param("bwrap"), "process"]
PAIRS = [pytest.param(level, a.name, id=f"{level}-{a.name}",
                      marks=_level_param(level).marks if level == "bwrap" else ())
         for level in ("bwrap", "process") for a in ATTACKS if a.runs_at(level)]


# --------------------------------------------------------------------------- the run


class Listener:
    """A TCP listener on the grader's loopback that records every connection."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(1024) or b"<connected>")
                except OSError:
                    self.connections.append(b"<connected>")

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=2)
        self.sock.close()


@dataclass
class Run:
    level: str
    result: RunResult
    out: Path
    cwd: Path
    home: Path
    token: str
    listener: Listener
    repo_before: dict[str, str]
    survivors: list[str] = field(default_factory=list)

    def of(self, student: str) -> SubmissionResult:
        return next(r for r in self.result.results if r.student == student)


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    return text


def _repo_digest() -> dict[str, str]:
    """Every project file (but .git and caches) -> sha256: writes into the tree show here."""
    digest: dict[str, str] = {}
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in (".git", "__pycache__", ".ruff_cache", ".venv",
                                                "out", ".pytest_cache")]
        for name in files:
            path = Path(top) / name
            try:
                digest[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                digest[str(path)] = "unreadable"
    return digest


def _ours(uid: int) -> bool:
    return slots.base_uid() <= uid < slots.base_uid() + slots.MAX_SLOTS


def _worker_processes() -> list[str]:
    """Live processes of any sandbox uid, or running the worker script (zombies excluded)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        state = re.search(r"^State:\s+(\S)", status, re.M).group(1)
        if state in "ZX":
            continue
        if _ours(uid) or (not IS_ROOT and b"remote.py" in cmdline):
            found.append(f"pid {entry} uid {uid}: {cmdline[:120]!r}")
    return found


def _wait_for_no_workers(seconds: float = 5.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := _worker_processes()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


_RUNS: dict[str, Run] = {}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    yield _RUNS
    for run in _RUNS.values():
        run.listener.close()
    _RUNS.clear()


def class_run(level: str, runs: dict[str, Run], factory: pytest.TempPathFactory) -> Run:
    """Grade the whole class at ``level`` once; later calls reuse the run."""
    if level in runs:
        return runs[level]
    assert not _worker_processes(), "worker processes were running before the run"
    base = factory.mktemp(f"class-{level}")
    subs, out, cwd, home = (base / name for name in ("submissions", "out", "cwd", "home"))
    for folder in (subs, out, cwd, home):
        folder.mkdir()
    listener = Listener()
    token = f"FORGED{uuid.uuid4().hex}"
    values = {"OUT": str(out), "CWD": str(cwd), "HOME": str(home), "REPO": str(ROOT),
              "PORT": str(listener.port), "TOKEN": token}
    for student in HONEST:
        (subs / student).mkdir()
        # (a byte copy of a course file is never graded: the reference and one more newline)
        (subs / student / "activations.ipynb").write_bytes(
            (ROOT / "solutions" / "activations.ipynb").read_bytes() + b"\n")
    for attack in ATTACKS:
        if attack.runs_at(level):
            (subs / attack.name).mkdir()
            (subs / attack.name / "activations.py").write_text(
                _fill(attack.path.read_text(encoding="utf-8"), values), encoding="utf-8")
    repo_before = _repo_digest()
    course = load_course(ROOT)
    settings = Settings(course_root=ROOT, limits=LIMITS, sandbox=level, secret="adversarial",
                        jobs=2)
    old_cwd, old_home = os.getcwd(), os.environ.get("HOME")
    os.chdir(cwd)
    os.environ["HOME"] = str(home)
    try:
        result = grade_folder(subs, course, settings, only=("activations",))
        write_reports(result, out, TEMPLATES_DIR,
                      titles={a.id: a.title for a in course.assignments})
    finally:
        os.chdir(old_cwd)
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home
    run = Run(level, result, out, cwd, home, token, listener, repo_before)
    run.survivors = _wait_for_no_workers()
    runs[level] = run
    return run


@pytest.fixture
def run_at(runs, tmp_path_factory):
    return lambda level: class_run(level, runs, tmp_path_factory)


# --------------------------------------------------------------------------- whole-run checks


@pytest.mark.parametrize("level", LEVELS)
def test_honest_students_keep_full_scores_and_the_level_is_reported(run_at, level) -> None:
    run = run_at(level)
    for student in HONEST:
        result = run.of(student)
        assert result.score == 100, (student, [(t.name, t.message) for t in result.tests
                                               if t.score < t.max_score])
    assert run.result.sandbox.startswith(level)
    assert {r.sandbox for r in run.result.results} == {level}
    attacked = [a for a in ATTACKS if a.runs_at(level)]
    assert len(run.result.results) == len(HONEST) + len(attacked)
    with (run.out / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(HONEST) | {a.name for a in attacked}
    assert all(float(rows[s]["score"]) == 100 for s in HONEST)


@pytest.mark.parametrize("level", LEVELS)
def test_no_worker_process_survives(run_at, level) -> None:
    run = run_at(level)
    assert run.survivors == []


def _shared_folders() -> list[Path]:
    return [Path(p) for p in dict.fromkeys([*slots.SHARED_FOLDERS, "/tmp"]) if Path(p).is_dir()]


def _files_with_token(folder: Path, token: str, depth: int, world_writable_only: bool
                      ) -> list[str]:
    found: list[str] = []
    if depth < 0:
        return found
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            if not world_writable_only or info.st_mode & stat.S_IWOTH:
                found += _files_with_token(Path(entry.path), token, depth - 1,
                                           world_writable_only)
            continue
        if token in entry.name or (_ours(info.st_uid) and stat.S_ISREG(info.st_mode)):
            found.append(entry.path)
            continue
        if stat.S_ISREG(info.st_mode) and info.st_size < 1 << 20 and \
                entry.name in ("results.json", "grades.csv"):
            try:
                if token in Path(entry.path).read_text(errors="replace"):
                    found.append(entry.path)
            except OSError:
                pass
    return found


@pytest.mark.parametrize("level", [
    _level_param("bwrap"),
    # as an ordinary user the process level shares the grader's uid and can write where it
    # can (README: Threat model)
    pytest.param("process", marks=needs_root)])
def test_no_forged_or_planted_file_anywhere(run_at, level) -> None:
    run = run_at(level)
    found = _files_with_token(run.out, run.token, 8, False)
    found += _files_with_token(run.cwd, run.token, 2, False)
    found += _files_with_token(run.home, run.token, 2, False)
    for folder in _shared_folders():
        found += _files_with_token(folder, run.token, 6, True)
    assert found == []
    assert all(run.token not in p.read_text(errors="replace")
               for p in run.out.rglob("*") if p.is_file())


@pytest.mark.parametrize("level", [
    _level_param("bwrap"),
    # as an ordinary user the process level can write where the grader can (README: Threat
    # model)
    pytest.param("process", marks=needs_root)])
def test_project_tree_is_unchanged(run_at, level) -> None:
    """No file of the project gained the attack's token (files others change meanwhile, in a
    shared checkout, are not the attacker's doing: only the token counts)."""
    run = run_at(level)
    after = _repo_digest()
    changed = [p for p in set(after) | set(run.repo_before)
               if after.get(p) != run.repo_before.get(p) and "/tests/adversarial/" not in p]
    touched = []
    for path in changed:
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            text = ""
        if run.token in path or run.token in text:
            touched.append(path)
    assert touched == []
    hidden = ROOT / "solutions" / "hidden" / "test_activations.py"
    assert run.token not in hidden.read_text(encoding="utf-8")


@pytest.mark.parametrize("level", [_level_param("bwrap")])
def test_loopback_listener_saw_no_connection(run_at, level) -> None:
    run = run_at(level)
    assert run.listener.connections == []


@pytest.mark.parametrize("level", LEVELS)
def test_every_hang_costs_one_wait(run_at, level) -> None:
    """Every hang costs one test or load timeout, once (counted, not timed): honest students
    wait for nothing, and no attacker makes the grader wait more often than its header's
    ``# waits:`` says (what hangs in it: a function, the load)."""
    run = run_at(level)
    waits = {r.student: r.waits for r in run.result.results}
    assert all(waits[student] == 0 for student in HONEST), waits
    for attack in ATTACKS:
        if attack.runs_at(level):
            assert waits[attack.name] <= attack.waits, (attack.name, waits[attack.name])
    assert waits["loop_function"] == 1 and waits["loop_import"] == 1, waits


# --------------------------------------------------------------------------- per attack


def _expected(run: Run, attack: Attack) -> float:
    if attack.expect == "zero":
        return 0.0
    kind, _, function = attack.expect.partition(" ")
    assert kind == "all-but", attack.expect
    honest = run.of(HONEST[0])
    return sum(t.max_score for t in honest.tests
               if not t.name.startswith(f"test_{function}__"))


@pytest.mark.parametrize(("level", "attack_name"), PAIRS)
def test_attacker_scores_what_its_honest_code_earns(run_at, level, attack_name) -> None:
    run = run_at(level)
    attack = next(a for a in ATTACKS if a.name == attack_name)
    result = run.of(attack.name)
    assert result.sandbox == level
    assert result.score == pytest.approx(_expected(run, attack)), \
        [(t.name, t.status, t.message[:200]) for t in result.tests if t.score]
    assert result.tests, "the suite did not run for the attacker"
    for function in attack.not_data:
        messages = [t.message for t in result.tests if t.name.startswith(f"test_{function}__")]
        assert messages and any("not a numeric array" in m or "not data" in m
                                for m in messages), messages


@pytest.mark.parametrize("level", LEVELS)
def test_loop_in_one_function_costs_only_that_function(run_at, level) -> None:
    run = run_at(level)
    result = run.of("loop_function")
    for test in result.tests:
        if test.name.startswith("test_softmax__"):
            assert test.score == 0 and test.status == TIMED_OUT, test
        else:
            assert test.score == test.max_score, test
    # softmax hung once; its later tests were not called again, and say where it hung
    first, *later = [t for t in result.tests if t.name.startswith("test_softmax__")]
    assert first.function == "softmax" and first.earlier_test == "", first
    assert later and all(t.function == "softmax" and t.earlier_test == first.name
                         and "not called again" in t.message for t in later), later


@pytest.mark.parametrize("level", LEVELS)
def test_output_is_capped(run_at, level) -> None:
    run = run_at(level)
    for result in run.result.results:
        assert len(result.output.encode()) <= LIMITS.output_bytes * 4 + 4096, result.student
    flood = run.of("output_flood").output
    assert flood.startswith("A" * 1000) and "more bytes of output dropped" in flood


@pytest.mark.parametrize("level", LEVELS)
def test_memory_bomb_is_stopped_by_the_memory_limit(run_at, level) -> None:
    run = run_at(level)
    relu_tests = [t for t in run.of("memory_bomb").tests if t.name.startswith("test_relu__")]
    assert relu_tests and all(t.score == 0 for t in relu_tests)
    assert any("memory" in t.message.lower() for t in relu_tests), \
        [t.message for t in relu_tests]

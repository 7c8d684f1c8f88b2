"""The process level reads nothing of the course or classmates (issue 23, grader.sandbox.private).

Run by root where namespaces can be made, a process-level worker starts with the course's
solutions/, the submissions folder and the output folder covered, a /proc of its own, and a
home capped for all its files together. Two attackers from ``private/`` are graded first, then
an honest student, in one slot (``--jobs 1``), warm and cold: the thief reads nothing (the
reference, the hidden suite, a classmate's notebook, the output folder, the grader's argv),
the filler writes no more than the home's cap, and the honest student scores full marks.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from helpers.resources import needs, needs_root

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ConfigError
from grader.core.settings import Limits, Settings
from grader.run.cache import ResultCache
from grader.run.grading import Resume, close_sandboxes, grade_folder
from grader.sandbox import private
from grader.sandbox.process import tmp_bytes

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice" / "activations.ipynb"
LIMITS = Limits(memory_mb=512, test_timeout_s=2, submission_timeout_s=40, load_timeout_s=20,
                file_size_mb=16)
NO_NAMESPACES = private.namespace_problem()


def _class(tmp_path: Path) -> tuple[Path, Path]:
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    honest = submissions / "c_honest" / "activations.ipynb"
    honest.parent.mkdir(parents=True)
    shutil.copy(ALICE, honest)
    out.mkdir(mode=0o755)
    (out / "grades.csv").write_text("student,score\n")  # an earlier run's
    values = {"@@SOLUTIONS@@": str(DEFAULT_ROOT / "solutions"), "@@CLASSMATE@@": str(honest),
              "@@SUBMISSIONS@@": str(submissions), "@@OUT@@": str(out),
              "@@GRADER_PID@@": str(os.getpid())}
    for name in ("a_thief", "b_home_filler"):
        text = (HERE / "private" / f"{name}.py").read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        (submissions / name).mkdir()
        (submissions / name / "activations.py").write_text(text, encoding="utf-8")
    for folder in (tmp_path, submissions, *submissions.iterdir()):  # readable by anyone, as
        folder.chmod(0o755)  # a fresh checkout's folders are
    return submissions, out


@needs_root  # the process level hides folders only as root
@needs(NO_NAMESPACES, "mount and pid namespaces (unshare)")
@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_a_process_level_worker_reads_nothing_private_and_fills_no_disk(
        tmp_path: Path, warm: bool) -> None:
    submissions, out = _class(tmp_path)
    course = load_course(DEFAULT_ROOT)
    assert private.readable_by_others(DEFAULT_ROOT / "solutions")  # hidden, not chmod-ed
    settings = Settings(course_root=DEFAULT_ROOT, sandbox="process", warm=warm, jobs=1,
                        limits=LIMITS)
    try:
        run = grade_folder(submissions, course, settings, ["activations"],
                           resume=Resume(ResultCache(out)))
    finally:
        close_sandboxes()
    assert "solutions, the submissions and the output folder hidden" in run.sandbox
    results = {r.student: r for r in run.results}
    stolen = re.search(r"STOLEN (\[.*?\]) PROCESSES SEEN (\d+)", results["a_thief"].output)
    assert stolen, results["a_thief"].output[-500:]
    assert stolen.group(1) == "[]"  # nothing of the course, a classmate, the output, argv
    assert int(stolen.group(2)) < 10  # its own pid namespace: not the machine's processes
    wrote = re.search(r"WROTE (\d+) MiB", results["b_home_filler"].output)
    assert wrote, results["b_home_filler"].output[-500:]
    assert int(wrote.group(1)) <= tmp_bytes(LIMITS) // (1 << 20) + 1  # 64 MiB, not 768
    honest = results["c_honest"]
    assert (honest.score, honest.error) == (honest.max_score, None)


def test_a_readable_private_folder_is_refused_where_it_cannot_be_hidden(
        monkeypatch: pytest.MonkeyPatch) -> None:
    top = Path(tempfile.mkdtemp(prefix="grader-refuse-", dir="/tmp"))  # (pytest's own
    folder = top / "solutions"  # tmp_path is below a 0700 folder: unreachable already)
    folder.mkdir()
    for path in (top, folder):
        path.chmod(0o755)
    monkeypatch.setattr(private.os, "geteuid", lambda: 0)
    private.namespace_problem.cache_clear()
    monkeypatch.setattr(private.shutil, "which", lambda name: None)  # no unshare here
    try:
        with pytest.raises(ConfigError) as refused:
            private.refuse_readable([folder])
        message = str(refused.value)
        assert message.startswith(f"{folder}: readable by the workers' unprivileged uid")
        assert f"chmod 700 {folder}" in message and "\n" not in message
        monkeypatch.setenv(private.ACCEPT_ENV, "1")  # the risk accepted: graded anyway
        private.refuse_readable([folder])
        monkeypatch.delenv(private.ACCEPT_ENV)
        folder.chmod(0o700)  # the fix: nothing to refuse
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        private.refuse_readable([folder])
    finally:
        private.namespace_problem.cache_clear()
        shutil.rmtree(top)


FILLER = ["def fill():\n    block = b'x' * (1 << 20)\n    for n in range(48):\n"
          "        with open(f'fill_{n}', 'wb') as handle:\n"
          "            for _ in range(16):\n                handle.write(block)\n"
          "    return 'wrote 768 MiB'"]


def test_where_the_home_is_on_the_host_disk_a_watchdog_caps_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No namespaces (as an ordinary user, or switched off here): the home is a folder on the
    host disk, and the controller's watchdog kills the worker past the home's cap."""
    from grader.core.errors import WorkerCrashed
    from grader.sandbox import make_sandbox
    from grader.submission.proxy import StudentProxy
    from grader.submission.session import WorkerSession

    monkeypatch.setattr(private, "namespace_problem", lambda: "switched off for this test")
    sandbox = make_sandbox("process", warm=False)
    assert "no filesystem or network isolation" in sandbox.description
    session = WorkerSession(sandbox, LIMITS, FILLER)
    try:
        session.start_test("test_fill", 30.0)
        with pytest.raises(WorkerCrashed) as killed:
            StudentProxy(session).fill()
        assert "its files took more than 64 MiB together" in str(killed.value)
    finally:
        session.close()
        sandbox.close()

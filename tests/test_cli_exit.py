"""The console script ends without the interpreter's teardown (grader/cli/exit.py), but only
after everything a process must do at exit: atexit handlers, stdout and stderr flushed, the
exit status sys.exit would give, and threads that are not daemons waited for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.core.course import DEFAULT_ROOT

PROGRAM = """
import atexit, sys, threading, time
from pathlib import Path
from grader.cli.exit import finish

mark = Path(sys.argv[1])
atexit.register(lambda: mark.write_text("atexit ran"))
if sys.argv[3] == "thread":
    def late():
        time.sleep(0.5)
        (mark.parent / "thread").write_text("done")
    threading.Thread(target=late).start()
sys.stdout.write("no newline, still flushed")
sys.stderr.write("and stderr")
finish(eval(sys.argv[2]))
"""


def _run(tmp_path: Path, code: str, thread: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path / "mark"), code,
                           "thread" if thread else "none"], capture_output=True, text=True,
                          timeout=60, check=False, cwd=DEFAULT_ROOT)


@pytest.mark.parametrize(("code", "status"), [("None", 0), ("0", 0), ("3", 3), ("256", 0),
                                              ("-1", 255), ("'a message'", 1)])
def test_finish_exits_as_sys_exit_would_after_atexit_and_flushed_output(
        tmp_path: Path, code: str, status: int) -> None:
    run = _run(tmp_path, code)
    assert run.returncode == status, run.stderr
    assert run.stdout == "no newline, still flushed"
    assert run.stderr.startswith("and stderr")
    if code == "'a message'":
        assert run.stderr.rstrip().endswith("a message")
    assert (tmp_path / "mark").read_text() == "atexit ran"


def test_finish_leaves_the_exit_to_python_while_a_thread_still_runs(tmp_path: Path) -> None:
    run = _run(tmp_path, "4", thread=True)
    assert run.returncode == 4, run.stderr
    assert (tmp_path / "thread").read_text() == "done"  # waited for, not cut off
    assert (tmp_path / "mark").read_text() == "atexit ran"
    assert run.stdout == "no newline, still flushed"


def test_the_console_script_ends_through_finish(tmp_path: Path) -> None:
    """``grade --version`` and a usage error through the console script's entry point."""
    entry = "from grader.cli import main; main()"
    version = subprocess.run([sys.executable, "-c", entry, "--version"], capture_output=True,
                             text=True, timeout=120, check=False, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("grade, version"), version
    wrong = subprocess.run([sys.executable, "-c", entry, "no-such-folder", "--jobs", "x"],
                           capture_output=True, text=True, timeout=120, check=False,
                           cwd=tmp_path)
    assert wrong.returncode == 2 and "--jobs" in wrong.stderr, wrong

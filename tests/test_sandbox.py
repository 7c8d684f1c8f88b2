"""The sandbox levels' guarantees, each level and each limit mechanism (cgroups, rlimits).

The adversarial suite (tests/adversarial/) grades hostile students end to end; these tests pin
the mechanisms one by one, including the rlimit fallback used where no cgroup is writable.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from helpers.resources import BWRAP_PROBLEM, ROOT_PROBLEM, needs_bwrap, needs_root, require

from grader.core.errors import WorkerCrashed, WorkerTimeout
from grader.core.settings import Limits
from grader.sandbox import cgroups, make_sandbox, slots
from grader.sandbox.bwrap import REPO_ROOT, python_paths
from grader.sandbox.clock import backstop
from grader.submission.proxy import StudentProxy
from grader.submission.session import StudentError, WorkerSession

pytestmark = pytest.mark.slow  # real workers at every isolation level (memory, forks, cgroups)

LIMITS = Limits(memory_mb=256, processes=32, test_timeout_s=3, load_timeout_s=5,
                output_bytes=4096)
LEVELS = ["process", pytest.param("bwrap", marks=needs_bwrap)]

MODULE = [
    "import os, sys, time, signal, socket, subprocess",
    "def info():\n    status = open('/proc/self/status').read()\n"
    "    caps = [l.split()[1] for l in status.splitlines() if l.startswith('CapEff')]\n"
    "    return {'uid': os.getuid(), 'caps': caps[0], 'env': sorted(os.environ),\n"
    "            'cwd': os.getcwd()}",
    "def exists(path):\n    return os.path.exists(path)",
    "def listing(path):\n    try:\n        return sorted(os.listdir(path))\n"
    "    except OSError:\n        return None",
    "def write(path):\n    try:\n        open(path, 'w').write('x')\n        return True\n"
    "    except OSError:\n        return False",
    "def connect(port):\n    try:\n"
    "        socket.create_connection(('127.0.0.1', port), 1).close()\n        return True\n"
    "    except OSError:\n        return False",
    "def hog(mib):\n    keep = [bytearray(b'x' * (1 << 20)) for _ in range(mib)]\n"
    "    return len(keep)",
    "def forks(n):\n    born = 0\n    for _ in range(n):\n        try:\n"
    "            pid = os.fork()\n        except OSError:\n            break\n"
    "        if pid == 0:\n            time.sleep(1000)\n            os._exit(0)\n"
    "        born += 1\n    return born",
    "def daemon():\n    subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
    "    if os.fork() == 0:\n        os.setsid()\n        time.sleep(1000)\n        os._exit(0)\n"
    "    return True",
    "def vanish_leaving_child():\n    if os.fork() == 0:\n        time.sleep(1000)\n"
    "        os._exit(0)\n    os._exit(0)",
    "def kill_parent():\n    if os.getppid() == 0:\n        return 'outside'\n"
    "    try:\n        os.kill(os.getppid(), signal.SIGKILL)\n"
    "        return 'sent'\n    except OSError as exc:\n        return type(exc).__name__",
]


def session_for(sandbox, statements=MODULE, **limits) -> tuple[WorkerSession, StudentProxy]:
    session = WorkerSession(sandbox, Limits(**{**LIMITS.__dict__, **limits}), statements)
    return session, StudentProxy(session)


def live(uid: int) -> list[int]:
    deadline = time.monotonic() + 3
    while (pids := slots.uid_processes(uid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return pids


def without_cgroups(sandbox):
    sandbox.cgroups = None
    return sandbox


# --------------------------------------------------------------------------- strong level


@needs_bwrap
def test_bwrap_worker_is_unprivileged_with_a_clean_environment_and_private_view() -> None:
    session, student = session_for(make_sandbox("bwrap"))
    try:
        info = student.info()
        if os.geteuid() == 0:
            assert info["uid"] >= slots.base_uid() and info["caps"] == "0000000000000000"
        assert info["cwd"] == "/tmp"
        assert set(info["env"]) <= {"PATH", "HOME", "TMPDIR", "MPLBACKEND", "PYTHONHASHSEED",
                                    "PYTHONDONTWRITEBYTECODE", "MPLCONFIGDIR", "LANG", "LC_ALL",
                                    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH",
                                    "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                    "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                                    "VECLIB_MAXIMUM_THREADS", "USER", "LOGNAME", "PWD", "SHELL"}
        for hidden in (REPO_ROOT / "solutions", REPO_ROOT / "tests", REPO_ROOT / "grader",
                       Path.home() / ".bash_history"):
            assert not student.exists(str(hidden)), hidden
        # The checkout and working folder show nothing of theirs: at most the bound Python
        # environment when it lives inside them (README's own .venv does)
        python = {Path(p).relative_to(folder).parts[0] for folder in (REPO_ROOT, Path.cwd())
                  for p in python_paths() if Path(p).is_relative_to(folder)}
        for folder in (REPO_ROOT, Path.cwd()):
            assert set(student.listing(str(folder)) or []) <= python, folder
        assert student.exists("/worker/protocol/framing.py")
        assert student.write("/tmp/scratch") is True
        assert student.write("/usr/pwned") is False and student.write("/etc/pwned") is False
        assert not Path("/tmp/scratch").exists() or Path("/tmp/scratch").read_text() != "x"
    finally:
        session.close()


@needs_bwrap
def test_bwrap_worker_has_no_network() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    session, student = session_for(make_sandbox("bwrap"))
    try:
        assert student.connect(listener.getsockname()[1]) is False
    finally:
        session.close()
        listener.close()


@needs_bwrap
def test_bwrap_worker_cannot_signal_the_grader() -> None:
    session, student = session_for(make_sandbox("bwrap"))
    try:
        assert student.kill_parent() in ("PermissionError", "sent")  # its parent: bwrap's init
        assert student.info()["uid"] is not None
    finally:
        session.close()


# --------------------------------------------------------------------------- every level


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("cgroup", [True, False], ids=["cgroups", "rlimits"])
def test_memory_limit_holds(level: str, cgroup: bool) -> None:
    sandbox = make_sandbox(level)
    if not cgroup:
        without_cgroups(sandbox)
    elif sandbox.cgroups is None:
        require("no writable cgroup tree here", "cgroups")
    session, student = session_for(sandbox)
    try:
        assert student.hog(16) == 16
        session.start_test()
        with pytest.raises((StudentError, WorkerCrashed), match="(?i)memory"):
            student.hog(2048)
    finally:
        session.close()


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("cgroup", [True, False], ids=["cgroups", "rlimits"])
def test_process_limit_holds_and_every_process_dies_at_the_end(level: str, cgroup: bool) -> None:
    sandbox = make_sandbox(level)
    if not cgroup:
        without_cgroups(sandbox)
        if level == "process":  # as an ordinary user the process cap is the user's
            require(ROOT_PROBLEM, "root (a worker uid per slot)")
    elif sandbox.cgroups is None:
        require("no writable cgroup tree here", "cgroups")
    session, student = session_for(sandbox)
    try:
        assert student.daemon() is True
        assert student.forks(500) < 2 * LIMITS.processes  # 500 without a cap
    finally:
        session.close()
    if getattr(sandbox, "uid", None) is not None:
        assert live(sandbox.uid) == []


@pytest.mark.parametrize("level", LEVELS)
def test_a_grandchild_holding_the_channel_does_not_hold_the_grader(level: str) -> None:
    session, student = session_for(make_sandbox(level), test_timeout_s=30)
    try:
        session.start_test()
        started = time.monotonic()
        with pytest.raises(WorkerCrashed):
            student.vanish_leaving_child()
        assert time.monotonic() - started < 5
    finally:
        session.close()


@needs_root
@pytest.mark.parametrize("level", LEVELS)
def test_as_root_the_worker_runs_as_the_slot_uid_and_cannot_kill_the_grader(level: str) -> None:
    sandbox = make_sandbox(level)
    session, student = session_for(sandbox)
    try:
        assert student.info()["uid"] == sandbox.uid == slots.slot_uid(slots.lease_slot())
        # at the process level with namespaces (grader.sandbox.private) the worker is pid 1 of
        # its own pid namespace: its parent, and the grader, are outside it and cannot be named
        hidden = getattr(sandbox, "private", None) is not None
        assert student.kill_parent() == ("outside" if hidden else "PermissionError")
        assert student.info()["caps"] == "0000000000000000"
    finally:
        session.close()


@needs_root
def test_process_level_as_root_removes_what_the_worker_left_in_tmp() -> None:
    sandbox = make_sandbox("process")
    session, student = session_for(sandbox)
    target = f"/tmp/left-behind-{os.getpid()}"
    try:
        assert student.write(target) is True
    finally:
        session.close()
    assert not os.path.exists(target)


def test_a_load_that_hangs_costs_one_timeout_not_one_per_test() -> None:
    session, student = session_for(make_sandbox("process"), ["import time", "time.sleep(100)",
                                                             "def f():\n    return 1"],
                                   load_timeout_s=1)
    try:
        started = time.monotonic()
        for _ in range(5):
            session.start_test()
            with pytest.raises(WorkerTimeout):
                student.f()
        # one wait: a sleeping load is ended by the wall clock, after its budget where that is
        # wall-clock time, after the backstop where budgets count CPU time
        counted = cgroups.factory() is not None and cgroups.factory().counts_cpu
        one_wait = backstop(1.0) if counted else 1.0
        assert time.monotonic() - started < one_wait + 2.0
    finally:
        session.close()


def test_slots_are_leased_per_process_and_descriptions_name_the_mechanisms() -> None:
    assert slots.lease_slot() == slots.lease_slot()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a child process leases a different slot
        os.write(write, str(slots.lease_slot()).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert int(os.read(read, 16)) != slots.lease_slot()
    os.close(read)
    os.close(write)
    description = make_sandbox("process").description
    assert description.startswith("process (") and "memory by" in description
    assert ("cgroup" in description) == (cgroups.factory() is not None)


def test_worker_cgroups_are_removed() -> None:
    factory = cgroups.factory()
    if factory is None:
        require("no writable cgroup tree here", "cgroups")
    def ours() -> set[Path]:
        return {p for base in factory.bases.values()
                for p in base.glob(f"{cgroups.PREFIX}{os.getpid()}-*")}

    # an earlier test's grade_folder may keep its slot's warm zygote (and cgroup) for reuse
    kept = ours()
    session, student = session_for(make_sandbox("process"))
    try:
        student.daemon()
    finally:
        session.close()
    assert ours() - kept == set()


def test_gpu_worker_sees_cuda_at_the_strongest_level() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine (run on a GPU machine)")
    statements = ["import torch",
                  "def gpu():\n    x = torch.ones(1024, 1024, device='cuda')\n"
                  "    import resource\n"
                  "    return [float((x @ x).sum()), resource.getrlimit(resource.RLIMIT_AS)[0]]"]
    sandbox = make_sandbox("auto")
    assert sandbox.level == "bwrap" or BWRAP_PROBLEM is not None
    print(sandbox.description)
    session = WorkerSession(sandbox, Limits(memory_mb=4096, test_timeout_s=120,
                                            load_timeout_s=120), statements, device="cuda")
    try:
        total, address_limit = StudentProxy(session).gpu()
        assert total == 1024.0 ** 3
        assert address_limit == -1  # no RLIMIT_AS on a GPU
    finally:
        session.close()


def test_one_exit_description_for_every_level() -> None:
    """Cold workers (a subprocess return code) and warm ones (a wait status from the zygote)
    are described by the same function, also for a signal Python has no name for."""
    import signal

    from grader.sandbox.base import describe_exit

    assert describe_exit(0) == "exit status 0"
    assert describe_exit(3) == "exit status 3"
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL (memory or CPU limit?)"
    assert describe_exit(-signal.SIGTERM) == "killed by SIGTERM"
    assert describe_exit(-63) == "killed by signal 63"
    pid = os.fork()
    if pid == 0:
        os.kill(os.getpid(), signal.SIGXCPU)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert describe_exit(os.waitstatus_to_exitcode(status)) == \
        "killed by SIGXCPU (memory or CPU limit?)"

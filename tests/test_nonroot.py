"""`grade ci` run by an unprivileged user at the bwrap level, as on a hosted CI runner (GitHub's
grading runner runs it as its `runner` user): the same points as when root runs it, and the
guarantees README states for that case ("Threat model", the bwrap level without root).

The test runs as root and starts the grader as a uid of its own (leased with flock, so two test
runs on one machine never share it) with setpriv: no groups, no capabilities. One honest
student (a correct notebook: 100) and one attacker are graded. The attacker's honest code
earns 0; each attack, if it worked, would switch one of its functions to the right answer, so
any broken guarantee shows up as points, and each is also checked from outside: it reads the
course's secret, hidden suite and reference notebook; writes files into the output folders, the
home and working folders, the course, the checkout and /tmp; sends SIGKILL to a process of the
grader's own user running outside the sandbox; and connects to a listener on the loopback.
"""

from __future__ import annotations

import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from helpers.bundle import fill_stub
from helpers.resources import ROOT_PROBLEM, needs, needs_bwrap, require

from grader.core.course import DEFAULT_ROOT, load_course
from grader.sandbox import slots

ROOT = DEFAULT_ROOT
UIDS = range(60900, 60950)  # below the worker slots (GRADER_UID_BASE, 61000 and up)
IS_ROOT = os.geteuid() == 0
MISSING = [tool for tool in ("setpriv", "unshare", "bwrap") if shutil.which(tool) is None]

pytestmark = [
    pytest.mark.slow,  # a second, unprivileged user
    needs(ROOT_PROBLEM, "root, to start the grader as a second, unprivileged user (setpriv)"),
    needs(f"{', '.join(MISSING)} not found" if MISSING else None, "setpriv, unshare and bwrap"),
    needs_bwrap,
]

ATTACK = '''# ruff: noqa
import os
import signal
import socket

import numpy as np

SECRETS = @@SECRETS@@
PLACES = @@PLACES@@


def _leak():
    for path in SECRETS:
        try:
            with open(path) as handle:
                if handle.read(1):
                    return True
        except OSError:
            pass
    return False


def _forge():
    written = False
    for place in PLACES + ["/tmp", "/var/tmp", "/dev/shm", os.getcwd(), os.environ["HOME"]]:
        try:
            with open(os.path.join(place, "forged-@@TOKEN@@.txt"), "w") as handle:
                handle.write("@@TOKEN@@")
            written = written or place in PLACES  # the sandbox's own /tmp is its to write
        except OSError:
            pass
    return written


def _kill():
    try:
        os.kill(@@SENTINEL@@, signal.SIGKILL)
        return True
    except OSError:
        return False


def _connect():
    try:
        socket.create_connection(("127.0.0.1", @@PORT@@), timeout=2).sendall(b"@@TOKEN@@")
        return True
    except OSError:
        return False


LEAKED = _leak()
FORGED = _forge()
KILLED = _kill()
CONNECTED = _connect()


def _zeros(x):
    return np.zeros_like(np.asarray(x, dtype=float))


def relu(x):
    return np.maximum(0.0, np.asarray(x, dtype=float)) if LEAKED else _zeros(x)


def relu_grad(x):
    return np.where(np.asarray(x) > 0, 1.0, 0.0) if FORGED else _zeros(x)


def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(np.asarray(x, dtype=float), -500, 500))) if KILLED \\
        else _zeros(x)


def sigmoid_grad(x):
    return _zeros(x)


def tanh(x):
    return np.tanh(np.asarray(x, dtype=float)) if CONNECTED else _zeros(x)


def tanh_grad(x):
    return _zeros(x)


def elu(x, alpha=1.0):
    return _zeros(x)


def elu_grad(x, alpha=1.0):
    return _zeros(x)


def softmax(z):
    return _zeros(z)
'''


def lease_uid() -> tuple[int, int]:
    """(a uid no other run of this test uses now, the lock fd that holds it)."""
    folder = Path("/run" if os.access("/run", os.W_OK) else tempfile.gettempdir())
    for uid in UIDS:
        fd = os.open(folder / f"nn-grader-nonroot-test-{uid}.lock",
                     os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        if not slots.uid_processes(uid):
            return uid, fd
        os.close(fd)
    require(f"none free in {UIDS.start}-{UIDS.stop - 1}", "a uid for the unprivileged user")
    raise AssertionError("unreachable")


def hidden_ancestor(path: Path) -> Path | None:
    """The highest folder above ``path`` that other users cannot enter (pyenv under /root)."""
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & stat.S_IXOTH:
            return parent
    return None


def as_user(uid: int, argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600
            ) -> subprocess.CompletedProcess:
    """``argv`` as ``uid`` (own gid, no groups, no capabilities). Where this machine keeps the
    Python installation in a folder other users cannot enter (pyenv in root's home), a private
    mount namespace, for this command only, shows that installation and nothing else of it."""
    drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    prefix = Path(sys.base_prefix).resolve()
    blocked = hidden_ancestor(prefix)
    if blocked is None:
        return subprocess.run([*drop, *argv], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout)
    keep = tempfile.mkdtemp(prefix="nn-grader-keep-")
    here, there, top = (shlex.quote(str(p)) for p in (prefix, keep, blocked))
    script = (f"set -e; mount --bind {here} {there}; mount -t tmpfs -o mode=0755 tmpfs {top}; "
              f"mkdir -p {here}; mount --move {there} {here}; exec {shlex.join([*drop, *argv])}")
    try:
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               script], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)
    finally:
        os.rmdir(keep)


def points_line(stdout: str) -> str:
    found = re.findall(r"^Points (\S+)$", stdout, re.M)
    assert len(found) == 1, stdout
    return found[0]


def test_grade_ci_as_an_unprivileged_user_at_the_bwrap_level() -> None:
    uid, lock = lease_uid()
    base = Path(tempfile.mkdtemp(prefix="nn-grader-nonroot-", dir="/tmp"))
    sentinel = None
    listener = socket.socket()
    try:
        base.chmod(0o755)
        course, home = base / "course", base / "home"
        for part in ("assignments", "solutions"):
            shutil.copytree(ROOT / part, course / part,
                            ignore=shutil.ignore_patterns("__pycache__", ".*"))
        home.mkdir()
        activations = load_course(course).get("activations")
        (base / "honest").mkdir()
        fill_stub(activations.stub, activations.reference, base / "honest" / "activations.ipynb")

        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.5)
        connections: list[bytes] = []

        def accept() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                connections.append(conn.recv(100))
                conn.close()

        threading.Thread(target=accept, daemon=True).start()
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home),
               "LANG": "C.UTF-8"}
        sentinel = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}",
                                     "--clear-groups", "--", "sleep", "600"])
        token = uuid.uuid4().hex
        outs = {f"{who}-{name}": base / f"out-{who}-{name}" for who in ("user", "root")
                for name in ("honest", "attacker")}
        places = [*map(str, outs.values()), str(home), str(course), str(base / "attacker"),
                  str(base / "honest"), str(base)]
        secrets = [str(course / "solutions" / "course_secret"),
                   str(activations.hidden_suite), str(activations.reference)]
        source = (ATTACK.replace("@@SECRETS@@", repr(secrets)).replace("@@PLACES@@", repr(places))
                  .replace("@@TOKEN@@", token).replace("@@SENTINEL@@", str(sentinel.pid))
                  .replace("@@PORT@@", str(listener.getsockname()[1])))
        (base / "attacker").mkdir()
        (base / "attacker" / "activations.py").write_text(source)
        subprocess.run(["chown", "-R", f"{uid}:{uid}", str(base)], check=True)
        course.chmod(0o700)  # the grader's own files, as an instructor keeps them

        probe = as_user(uid, ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/",
                              "/", "true"], base, env, timeout=60)
        if probe.returncode != 0:
            require("bubblewrap cannot make namespaces as an unprivileged user here: "
                    + probe.stderr.strip()[:200], "bubblewrap for an unprivileged user")

        runs = {}
        for key, out in outs.items():
            who, name = key.split("-")
            argv = [sys.executable, "-m", "grader.cli", "ci", str(base / name), "--course",
                    str(course), "--out", str(out), "--student", name, "--sandbox", "bwrap",
                    "--assignment", "activations"]
            if who == "user":
                runs[key] = as_user(uid, argv, base, env)
            else:
                runs[key] = subprocess.run(argv, cwd=base, env={**os.environ, **env},
                                           capture_output=True, text=True, timeout=600)
            assert runs[key].returncode == 0, runs[key].stdout + runs[key].stderr

        user_runs = [runs["user-honest"], runs["user-attacker"]]
        for run in user_runs:
            sandbox = re.search(r"^Sandbox: (.*)$", run.stdout, re.M)
            assert sandbox and sandbox.group(1).startswith("bwrap ("), run.stdout
            assert "the user's uid in a user namespace" in sandbox.group(1)
            assert "RLIMIT_NPROC (shared with the grader's user)" in sandbox.group(1)
        # the same points as root gets, for the honest student and the attacker alike
        for name, expected in (("honest", "100/100"), ("attacker", "0/100")):
            assert points_line(runs[f"user-{name}"].stdout) == expected
            assert points_line(runs[f"root-{name}"].stdout) == expected
        # and every attack failed, seen from outside the sandbox
        assert sentinel.poll() is None, "a process of the grader's user was killed"
        assert connections == [], "the worker reached the network"
        forged = [str(p) for top in (base, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))
                  for p in (top.glob(f"**/forged-{token}.txt") if top == base
                            else top.glob(f"forged-{token}.txt"))]
        assert forged == []
        left = [pid for pid in slots.uid_processes(uid) if pid != sentinel.pid]
        assert left == [], f"processes of uid {uid} outlived the grading: {left}"
    finally:
        if sentinel is not None:
            sentinel.send_signal(signal.SIGKILL)
            sentinel.wait()
        listener.close()
        shutil.rmtree(base, ignore_errors=True)
        os.close(lock)

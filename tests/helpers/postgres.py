"""A throwaway PostgreSQL cluster for a test: initdb into a temporary folder as the ``postgres``
user, pg_ctl start listening only on a unix socket in that folder (no TCP port), one database;
stopped and removed afterwards. Needs Debian's ``postgresql`` package (.ci/run installs it),
root (to run the server as ``postgres``) and the psycopg driver (the dev extra)."""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


def problem() -> str | None:
    """Why a cluster cannot be started here (None: it can)."""
    if bin_dir() is None:
        return "initdb not found (Debian package postgresql; .ci/run installs it)"
    if importlib.util.find_spec("psycopg") is None:
        return "the psycopg driver is not installed (the dev extra)"
    if os.geteuid() != 0:
        return "the server runs as the postgres user, which needs root to start"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres user (Debian package postgresql creates it)"
    return None


def _as_postgres(*command: str) -> None:
    run = subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True,
                         text=True, check=False, timeout=120)
    assert run.returncode == 0, f"{command[0]}: {run.stdout}{run.stderr}"


@contextmanager
def cluster() -> Iterator[Callable[[str], str]]:
    """A running server; yields ``database(name)``, which creates a database and returns its
    SQLAlchemy URL (psycopg over the unix socket)."""
    binaries = bin_dir()
    assert binaries is not None
    root = Path(tempfile.mkdtemp(prefix="grader-pg-", dir="/tmp"))
    user = pwd.getpwnam("postgres")
    os.chown(root, user.pw_uid, user.pw_gid)
    data = root / "data"
    _as_postgres(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                 "--no-sync", "-E", "UTF8")
    options = f"-k {root} -c listen_addresses='' -c fsync=off"
    _as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                 str(root / "log"), "start")

    def database(name: str) -> str:
        _as_postgres(str(binaries / "createdb"), "-h", str(root), "-U", "postgres", name)
        return f"postgresql+psycopg://postgres@/{name}?host={root}"

    try:
        yield database
    finally:
        _as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)

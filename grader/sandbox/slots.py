"""Worker slots and uids: each grading process leases a slot, and with it a uid of its own.

Started as root, every level runs student code as ``BASE_UID + slot``, a uid nothing else on the
machine uses. That is what makes three guarantees cheap and exact:

* RLIMIT_NPROC counts processes *and threads* per real uid, so with a uid per slot the cap is
  the worker's own, not shared with other workers or the instructor's session;
* the worker cannot signal the grader, other workers or anything else (a different uid);
* at the end, ``kill(-1, SIGKILL)`` sent *as that uid* reaches every process the worker left,
  detached or not, and files it left in world-writable folders can be found by owner.

A slot is leased with ``flock`` on a file in a root-only folder, held for the life of the
process: parallel pool processes and concurrent grading runs on one machine each get their own.
The uids are ``GRADER_UID_BASE`` (default 61000) and the 255 above it: pick another base where
those uids are taken.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from grader.core.errors import ConfigError

BASE_UID = 61000
MAX_SLOTS = 256
_leases: dict[int, tuple[int, int]] = {}  # pid -> (slot, lock fd)


def base_uid() -> int:
    """The first worker uid: ``GRADER_UID_BASE`` or 61000 (read at each start)."""
    raw = os.environ.get("GRADER_UID_BASE", "")
    if raw == "":
        return BASE_UID
    if not raw.isdigit() or not 1000 <= int(raw) <= 2**31 - 1 - MAX_SLOTS:
        raise ConfigError(f"GRADER_UID_BASE={raw[:40]!r}: expected a whole number of at least "
                          "1000 (the first uid of the grader's worker slots)")
    return int(raw)


def slot_uid(slot: int) -> int:
    return base_uid() + slot


def worker_uid(slot: int | None) -> int | None:
    """The uid workers of this process run as: its slot's (leased when ``slot`` is None) when
    the grader is root, else None (the grader's own uid)."""
    if os.geteuid() != 0:
        return None
    return slot_uid(lease_slot() if slot is None else slot)


def _lock_folder() -> Path:
    if os.geteuid() == 0 and os.access("/run", os.W_OK):
        folder = Path(f"/run/nn-grader-slots-{base_uid()}")
    else:
        folder = Path(tempfile.gettempdir()) / f"nn-grader-slots-{os.geteuid()}-{base_uid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise OSError(f"{folder}: not a folder of this user")
    return folder


def lease_slot() -> int:
    """This process's slot (the same one on every call), leased on first use."""
    pid = os.getpid()
    if pid in _leases:
        return _leases[pid][0]
    return _lease(pid, avoid=-1)


def lease_fresh_slot() -> int:
    """Trade this process's slot for another one (after its sandbox failed); the old one is
    released once the new one is held."""
    pid = os.getpid()
    old = _leases.pop(pid, None)
    try:
        return _lease(pid, avoid=old[0] if old else -1)
    finally:
        if old is not None:
            os.close(old[1])


def _lease(pid: int, avoid: int) -> int:
    folder = _lock_folder()
    for slot in range(MAX_SLOTS):
        if slot == avoid:
            continue
        fd = os.open(folder / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _leases[pid] = (slot, fd)
        return slot
    raise OSError(f"all {MAX_SLOTS} sandbox slots are in use")


def _status(pid: str) -> bytes:
    """/proc/<pid>/status as bytes, a newline first; empty where the process is gone."""
    try:
        fd = os.open(f"/proc/{pid}/status", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return b""
    try:
        return b"\n" + os.read(fd, 1 << 16)  # the kernel writes it whole, about 1.5 KB
    except OSError:
        return b""
    finally:
        os.close(fd)


def _field(status: bytes, name: bytes) -> bytes:
    """The value of ``name`` (b"Uid") in a status text from :func:`_status`; b"" if absent.
    A field is found by its line start only: a process's name (the first line, which the
    process chooses) cannot pose as one, as ``\n`` in it is written as an escape."""
    start = status.find(b"\n" + name + b":")
    if start < 0:
        return b""
    start += len(name) + 2
    end = status.find(b"\n", start)
    return status[start:end if end >= 0 else len(status)].strip()


def _real_uid(status: bytes) -> int | None:
    uids = _field(status, b"Uid").split()
    return int(uids[0]) if uids else None


def uid_processes(uid: int, *, include_zombies: bool = False) -> list[int]:
    """Pids whose real uid is ``uid`` (zombies: exited, waiting for their parent, excluded)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        status = _status(entry)
        if _real_uid(status) != uid:
            continue
        if not include_zombies and _field(status, b"State").startswith((b"Z", b"X")):
            continue
        found.append(int(entry))
    return found


def uid_tasks(uid: int) -> int:
    """Threads counted against ``uid``'s RLIMIT_NPROC (zombies included: they still count).

    Once per worker start, over every process on the machine: each status is read as bytes
    and only its Uid and Threads lines looked at (2.5 ms for 72 processes when every line
    was split and parsed; the cost grows with the machine's process count)."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            status = _status(entry)
            if _real_uid(status) == uid:
                total += int(_field(status, b"Threads") or 1)
    return total


def kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` (root only): ``kill -9 -1`` run as that uid."""
    for _ in range(20):
        if not uid_processes(uid):
            return
        subprocess.run(["/bin/sh", "-c", "kill -9 -1"], user=uid, group=uid, extra_groups=[],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False, timeout=10)
        time.sleep(0.01)


SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock")


def remove_uid_files(uid: int) -> None:
    """Remove what ``uid`` left in the world-writable folders it could reach (root only)."""
    roots = dict.fromkeys([*SHARED_FOLDERS, tempfile.gettempdir()])
    for root in roots:
        _sweep(Path(root), uid, depth=0)


def _sweep(folder: Path, uid: int, depth: int) -> None:
    if depth > 6:
        return
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_uid == uid:
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
        elif stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH:
            _sweep(Path(entry.path), uid, depth + 1)


#: System V IPC kinds: (the /proc/sysvipc file, the libc call that removes an id)
_SYSV = (("shm", "shmctl"), ("msg", "msgctl"), ("sem", "semctl"))
_IPC_RMID = 0


def uid_ipc(uid: int) -> list[tuple[str, int]]:
    """System V IPC objects (kind, id) of this IPC namespace that ``uid`` owns or created."""
    found = []
    for kind, _ in _SYSV:
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        header = lines[0].split()
        columns = [header.index(name) for name in ("uid", "cuid") if name in header]
        for line in lines[1:]:  # (the id is the second column of every kind)
            fields = line.split()
            if any(int(fields[c]) == uid for c in columns if c < len(fields)):
                found.append((kind, int(fields[1])))
    return found


def remove_uid_ipc(uid: int) -> None:
    """Remove the System V shared memory, message queues and semaphore sets ``uid`` left in
    the grader's IPC namespace (root only; a worker normally has an IPC namespace of its own,
    so this finds nothing unless that could not be made)."""
    objects = uid_ipc(uid)
    if not objects:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for kind, ident in objects:
        if kind == "sem":
            libc.semctl(ident, 0, _IPC_RMID)
        else:
            getattr(libc, dict(_SYSV)[kind])(ident, _IPC_RMID, None)

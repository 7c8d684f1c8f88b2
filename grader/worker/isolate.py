"""A forked worker's own world, set up by the zygote's child before any student code runs.

Standard library only (ctypes for the Linux calls Python 3.10 lacks): the zygote imports it
inside the sandbox, beside remote.py and the protocol package.

Two ways to keep a forked worker away from the zygote, the grader and the next worker:

``namespaces`` (the bwrap level): the worker is the first process (pid 1) of a pid namespace
of its own, with its own mount and IPC namespaces: a fresh ``/proc`` that shows only its own
processes (so no pid of the zygote or of anything else can be named: no signal, ptrace,
``/proc/<pid>/mem``, ``process_vm_writev`` or ``prlimit`` can reach them), fresh size-capped
tmpfs ``/tmp`` (its home and working folder) and ``/dev/shm``, fresh System V IPC, and when it
ends the kernel kills every process it left. Then it drops to the slot's uid (or, in a user
namespace, just drops its capabilities).

``uid`` (the process level, run by root): the zygote is root and each worker drops to the
slot's uid in a fresh home and working folder the grader made for it, a tmpfs capped at
``tmp_bytes`` in a mount namespace of its own: it cannot signal, trace, write or limit a
process of another uid. The grader kills what it left and removes its
files before the next worker starts.
"""

from __future__ import annotations

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 36, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
#: keyctl(2): the special keyrings and operations used to empty what a uid keeps in the kernel
_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
KEY_SPEC_SESSION_KEYRING, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -3, -4, -5
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_CLEAR, KEYCTL_GET_PERSISTENT = 1, 7, 22
#: /proc entries bubblewrap keeps read-only; a worker's own /proc keeps them so too
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus")
_CAP_FIELDS = ("CapInh", "CapPrm", "CapEff", "CapAmb")

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationError(Exception):
    """The worker's world could not be set up: the zygote reports it, no student code runs."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(f"{what}: {os.strerror(errno)}")


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    def raw(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    _check(_libc.mount(raw(source), raw(target), raw(fstype), ctypes.c_ulong(flags), raw(data)),
           f"mount {target}")


def new_pid_namespace() -> None:
    """The caller's next child is pid 1 of a new pid namespace."""
    unshare(CLONE_NEWPID)


def pid_namespace_return() -> int | None:
    """A descriptor to come back to this process's own pid namespace with
    :func:`back_to_pid_namespace` after :func:`new_pid_namespace` made one for its next child
    (so one fork per worker); None where that is not allowed (in a user namespace: the worker
    then comes from a throwaway child, one fork more)."""
    fd = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    if _libc.setns(fd, CLONE_NEWPID) != 0:  # to where it already is: only tests the right
        os.close(fd)
        return None
    return fd


def back_to_pid_namespace(fd: int) -> None:
    _check(_libc.setns(fd, CLONE_NEWPID), "setns")


def new_ipc_namespace() -> None:
    """System V shared memory, message queues, semaphores and POSIX message queues of its
    own: they vanish with the worker's last process (the process level, as root)."""
    unshare(CLONE_NEWIPC)


def fresh_keyrings() -> None:
    """Empty what the worker's uid keeps in the kernel's keyrings, and give the worker an
    anonymous session keyring of its own.

    Keys live per uid (per user namespace), not per process: a key an earlier worker of the
    same uid added to the user (``@u``), user-session (``@us``) or persistent keyring would
    otherwise be there for the next student. Called as the worker's own uid (it then
    possesses those keyrings), before any student code, in every worker that has a uid or a
    user namespace of its own (never as the instructor's own uid). Keys not built into the
    kernel (no keyctl): nothing to clear."""
    if _SYS_KEYCTL is None:
        return
    keyctl = _libc.syscall
    if keyctl(_SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None) < 0:
        errno = ctypes.get_errno()
        if errno == 38:  # ENOSYS: a kernel without keys
            return
        raise IsolationError(f"a session keyring of its own: {os.strerror(errno)}")
    for ring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
        _check(keyctl(_SYS_KEYCTL, KEYCTL_CLEAR, ring), "clearing the uid's keyrings")
    # linked into its own session keyring, the persistent keyring is possessed: clearable
    persistent = keyctl(_SYS_KEYCTL, KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_SESSION_KEYRING)
    if persistent > 0:  # (-1 where the kernel has no persistent keyrings: nothing to clear)
        _check(keyctl(_SYS_KEYCTL, KEYCTL_CLEAR, persistent), "clearing the persistent keyring")


def own_home(home: str, tmp_bytes: int, uid: int | None) -> None:
    """uid mode: own mount and IPC namespaces, and the home a fresh tmpfs of ``tmp_bytes``
    owned by ``uid``: all the worker's files together are capped, not only each one."""
    unshare(CLONE_NEWNS | CLONE_NEWIPC)
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here shows outside
    owner = f",uid={uid},gid={uid}" if uid is not None else ""
    mount("tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0700,size={tmp_bytes}{owner}")


def own_mounts(tmp_bytes: int) -> None:
    """In pid 1 of a new pid namespace: own mount and IPC namespaces, a fresh /proc for this
    pid namespace, and fresh tmpfs /tmp and /dev/shm; the working folder is the new /tmp."""
    unshare(CLONE_NEWNS | CLONE_NEWIPC)
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here shows outside
    for folder in ("/tmp", "/dev/shm"):
        os.makedirs(folder, exist_ok=True)
        kept = _submounts(folder)  # what the sandbox bound inside (a Python under /tmp)
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={tmp_bytes}")
        _bind_again(kept)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_READ_ONLY:
        path = f"/proc/{name}"
        if os.path.exists(path):
            mount(path, path, None, MS_BIND | MS_REC)
            mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)
    os.chdir("/tmp")  # the old working folder is the zygote's /tmp, hidden now


def _submounts(folder: str) -> dict[str, int]:
    """The outermost mounts strictly inside ``folder``, each held open (O_PATH) so that it can
    be bound again once ``folder`` is covered."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mountinfo:
        for line in mountinfo:
            point = _unescape(line.split()[4])
            if point.startswith(folder.rstrip("/") + "/"):
                points.append(point)
    outer = [p for p in sorted(set(points))
             if not any(p != q and p.startswith(q + "/") for q in points)]
    return {point: os.open(point, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for point in outer
            if os.path.isdir(point)}


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code in ("040", "011", "012", "134"):
        field = field.replace("\\" + code, chr(int(code, 8)))
    return field


def _bind_again(kept: dict[str, int]) -> None:
    for point, fd in kept.items():
        try:
            os.makedirs(point, mode=0o755, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", point, None, MS_BIND | MS_REC)
            mount(None, point, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        finally:
            os.close(fd)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _clear_capabilities() -> None:
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def drop_privileges(uid: int | None) -> None:
    """Become ``uid`` (its own gid, no groups) when given, with no capability left, none to
    regain (empty bounding set, no new privileges), and verify it from /proc/self/status."""
    for capability in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(capability), 0, 0, 0) != 0:
            break  # EINVAL: past the last capability this kernel knows
    _libc.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    _clear_capabilities()
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    status = _status()
    left = [name for name in _CAP_FIELDS if int(status.get(name, "1"), 16) != 0]
    if left or status.get("NoNewPrivs") != "1":
        raise IsolationError(f"privileges left after dropping them: {left or 'NoNewPrivs'}")
    if uid is not None and {int(u) for u in status.get("Uid", "").split()} != {uid}:
        raise IsolationError(f"still not uid {uid}: {status.get('Uid')}")
    prctl(PR_SET_DUMPABLE, 1)  # as a cold worker: it may read its own /proc/self files


def check_imports_readable(paths: list[str]) -> None:
    """A forked worker imports what the zygote did not from where the zygote found modules
    (``paths``: the folders on sys.path that exist): as its own uid it must be able to read
    them, else it would fail where a cold worker would not."""
    for path in paths:
        if not os.access(path, os.R_OK | os.X_OK):
            raise IsolationError(f"uid {os.getuid()} cannot read {path}, where this Python "
                                 "imports from")


def _status() -> dict[str, str]:
    fields = {}
    with open("/proc/self/status", encoding="ascii", errors="replace") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def close_descriptors(keep: set[int]) -> None:
    """Close every descriptor but ``keep``: nothing of the zygote's reaches the worker."""
    highest = max(keep | {2}) + 1
    for fd in range(3, highest):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    os.closerange(highest, os.sysconf("SC_OPEN_MAX"))

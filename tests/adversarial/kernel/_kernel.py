# Kernel objects a worker can make that belong to its uid, not to its process: keys in the
# uid's keyrings, System V shared memory, message queues and semaphore sets, and POSIX
# message queues. Prepended (like cross/_common.py) to every file of this folder.
# ruff: noqa
import ctypes
import os

import numpy as np

_libc = ctypes.CDLL(None, use_errno=True)
_SYS_ADD_KEY, _SYS_KEYCTL = 248, 250  # x86-64
_KEY_SPEC_SESSION, _KEY_SPEC_USER, _KEY_SPEC_USER_SESSION = -3, -4, -5
_KEYCTL_GET_PERSISTENT, _KEYCTL_SEARCH, _KEYCTL_LINK = 22, 10, 8
_IPC_CREAT, _IPC_NOWAIT = 0o1000, 0o4000
_NAME = "@@RUN@@"
_IPC_KEY = int("@@RUN@@"[:7], 16) | 0x1000000  # one System V key per test process


def _key_description(where):
    return f"grader-test-{_NAME}-{where}"


def _persistent():
    return _libc.syscall(_SYS_KEYCTL, _KEYCTL_GET_PERSISTENT, -1, _KEY_SPEC_SESSION)


def plant_keys():
    """A key in the uid's user keyring, user session keyring and persistent keyring."""
    planted = []
    targets = [("user", _KEY_SPEC_USER), ("user-session", _KEY_SPEC_USER_SESSION)]
    persistent = _persistent()
    if persistent > 0:
        targets.append(("persistent", persistent))
    for where, ring in targets:
        payload = b"a secret for the next student"
        key = _libc.syscall(_SYS_ADD_KEY, b"user", _key_description(where).encode(),
                            payload, len(payload), ring)
        if key > 0:
            planted.append(where)
    return planted


def find_keys():
    found = []
    for where in ("user", "user-session", "persistent"):
        for ring in (_KEY_SPEC_USER, _KEY_SPEC_USER_SESSION, _persistent()):
            if ring == -1 or ring == 0:
                continue
            if _libc.syscall(_SYS_KEYCTL, _KEYCTL_SEARCH, ring, b"user",
                             _key_description(where).encode(), 0) > 0:
                found.append(where)
                break
    return found


def plant_sysv():
    planted = []
    if _libc.shmget(_IPC_KEY, 1 << 20, _IPC_CREAT | 0o666) >= 0:
        planted.append("shm")
    if _libc.msgget(_IPC_KEY + 1, _IPC_CREAT | 0o666) >= 0:
        planted.append("msg")
    if _libc.semget(_IPC_KEY + 2, 4, _IPC_CREAT | 0o666) >= 0:
        planted.append("sem")
    return planted


def find_sysv():
    found = []
    if _libc.shmget(_IPC_KEY, 0, 0) >= 0:
        found.append("shm")
    if _libc.msgget(_IPC_KEY + 1, 0) >= 0:
        found.append("msg")
    if _libc.semget(_IPC_KEY + 2, 0, 0) >= 0:
        found.append("sem")
    return found


def _mq_open(flags, mode=0o666):
    librt = ctypes.CDLL("librt.so.1", use_errno=True)
    librt.mq_open.restype = ctypes.c_int
    return librt, librt.mq_open(f"/grader-test-{_NAME}".encode(), flags, mode, None)


def plant_mq():
    librt, mq = _mq_open(os.O_CREAT | os.O_RDWR)
    return ["mq"] if mq >= 0 else []


def find_mq():
    librt, mq = _mq_open(os.O_RDONLY)
    return ["mq"] if mq >= 0 else []

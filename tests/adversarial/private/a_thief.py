# levels: process-root
# A student at the process level tries to read what is not theirs: the course's solutions
# (the reference notebook, the hidden suite, the course secret), a classmate's notebook in the
# submissions folder, something in the output folder, and the grader's argv in /proc. It
# prints what it could read; its own code is worth 0 (relu is right, nothing else is).
# ruff: noqa
import os

import numpy as np


def _read(path):
    try:
        with open(path, "rb") as handle:
            return len(handle.read(64)) > 0
    except OSError:
        return False


def _listed(path):
    try:
        return len(os.listdir(path)) > 0
    except OSError:
        return False


def _argv_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def relu(x):
    stolen = []
    if _read("@@SOLUTIONS@@/activations.ipynb") or _listed("@@SOLUTIONS@@"):
        stolen.append("solutions")
    if _read("@@SOLUTIONS@@/hidden/test_activations.py"):
        stolen.append("hidden suite")
    if _read("@@CLASSMATE@@") or _listed("@@SUBMISSIONS@@"):
        stolen.append("classmate")
    if _listed("@@OUT@@"):
        stolen.append("output folder")
    if _argv_of("@@GRADER_PID@@"):
        stolen.append("grader argv")
    seen = [p for p in os.listdir("/proc") if p.isdigit()]
    print(f"STOLEN {sorted(stolen)} PROCESSES SEEN {len(seen)}")
    return np.maximum(0, x)

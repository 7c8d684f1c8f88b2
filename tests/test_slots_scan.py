"""The /proc scans behind a worker's process limit (grader.sandbox.slots): ``uid_tasks`` counts
what RLIMIT_NPROC counts for a uid (every thread of every process whose real uid it is,
zombies included) and ``uid_processes`` finds that uid's processes, checked against psutil as
an independent reader of the same files."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
from helpers.resources import ROOT_PROBLEM, needs

from grader.sandbox import slots

UID = 61977  # no slot uses it: slots count from their own base
# started as root (the uid cannot read this Python), then every thread becomes UID: glibc
# changes the ids of all threads of the process together
THREADS = ("import os, threading, time\n"
           "for _ in range(3): threading.Thread(target=time.sleep, args=(60,), daemon=True)"
           ".start()\n"
           f"os.setgroups([]); os.setresgid({UID}, {UID}, {UID})\n"
           f"os.setresuid({UID}, {UID}, {UID})\n"
           "print('ready', flush=True); time.sleep(60)\n")

pytestmark = needs(ROOT_PROBLEM, "root (it starts processes as another uid)")


def _oracle(uid: int) -> tuple[int, set[int]]:
    tasks, pids = 0, set()
    for process in psutil.process_iter():
        try:
            if process.uids().real != uid:
                continue
            tasks += process.num_threads()
            if process.status() != psutil.STATUS_ZOMBIE:
                pids.add(process.pid)
        except psutil.NoSuchProcess:
            continue
    return tasks, pids


def test_a_uids_threads_and_processes_are_counted_as_psutil_counts_them() -> None:
    assert slots.uid_tasks(UID) == 0 and slots.uid_processes(UID) == []
    started = [subprocess.Popen([sys.executable, "-c", THREADS], stdout=subprocess.PIPE,
                                text=True) for _ in range(2)]
    # a zombie of the uid: exited, not yet reaped by its parent (this test)
    zombie = subprocess.Popen(["/bin/true"], user=UID, group=UID, extra_groups=[])
    try:
        for process in started:
            assert process.stdout is not None and process.stdout.readline() == "ready\n"
        deadline = time.monotonic() + 10
        while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        tasks, pids = _oracle(UID)
        assert tasks == 2 * 4 + 1  # each main thread and its three, and the zombie
        assert slots.uid_tasks(UID) == tasks
        assert set(slots.uid_processes(UID)) == pids == {p.pid for p in started}
        assert zombie.pid in slots.uid_processes(UID, include_zombies=True)
    finally:
        for process in started:
            process.kill()
            process.wait()
        zombie.wait()
    assert slots.uid_tasks(UID) == 0


def test_a_process_name_cannot_pose_as_a_field() -> None:
    """The first line of a status is the name the process chose: a name made to look like a
    Uid line is escaped by the kernel and never read as the field."""
    fake = "x\nUid:\t61977"
    process = subprocess.Popen([sys.executable, "-c",
                                "import ctypes, sys, time; ctypes.CDLL(None).prctl("
                                f"15, ctypes.c_char_p({fake.encode()!r}), 0, 0, 0); "
                                "print('ready', flush=True); time.sleep(60)"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        assert process.pid not in slots.uid_processes(UID)
        assert slots.uid_tasks(UID) == 0
    finally:
        process.kill()
        process.wait()

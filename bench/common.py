"""What the bench scripts share: a run's process tree, a sampler of it, the machine's busy
CPU, and a work folder.

(bench/run.py keeps its own copy for now: issue 11 edits it.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants; [] once it is gone."""
    try:
        top = psutil.Process(pid)
        return [top, *top.children(recursive=True)]
    except psutil.Error:
        return []


def tree_pss(pid: int) -> int:
    """Summed PSS (shared pages counted once, as a container's limit counts them) of the
    process and its descendants; members that are gone count 0."""
    total = 0
    for member in process_tree(pid):
        try:
            total += member.memory_full_info().pss
        except psutil.Error:
            pass
    return total


class TreeSampler:
    """Calls :meth:`sample` with the process tree of ``pid`` every ``every_s`` seconds, on a
    thread of its own, until :meth:`stop` or the process is gone."""

    def __init__(self, pid: int, every_s: float = 0.05) -> None:
        self.pid, self.every_s = pid, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self, procs: list[psutil.Process]) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            procs = process_tree(self.pid)
            if not procs:
                return
            self.sample(procs)
            self._stop.wait(self.every_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def machine_cpu() -> float:
    """Seconds of CPU the whole machine spent busy since boot (user, nice, system, irq,
    softirq: /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / os.sysconf("SC_CLK_TCK")


@contextmanager
def work_folder(work: Path | None, prefix: str) -> Iterator[Path]:
    """``work`` (created, kept), or a temporary folder removed afterwards."""
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)
        yield work
        return
    temporary = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield temporary
    finally:
        shutil.rmtree(temporary, ignore_errors=True)

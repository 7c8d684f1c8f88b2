"""Benchmark: the hostile class of issue 10 against its honest students alone, and how
extraction scales on hostile files.

    python bench/hostile.py [--jobs 2] [--work DIR] [--n 2000] [--scaling-only]

1. Extraction scaling: each hostile shape (a reversed chain of assignments, a name defined
   n times, n stubs beside one definition, a call chain, a cell with a syntax error on every
   line, a notebook of n cells) extracted at n and at 4n statements, side by side; the ratio
   is about 4 for linear work (16 for quadratic).
2. The hostile class (tests/hostile_corpus.py: links, a FIFO, a 1.5 GB sparse file, JSON
   nested 100,000 deep, a 13 MB notebook of 100,000 cells, forged worker frames, names aimed
   at every output) and, side by side, only its honest students, each graded by

       /usr/bin/time -v python -m grader.cli.main run SUBS --out OUT --sandbox process \\
           --jobs N --assignment activations

   while psutil samples the process tree: the grader's own processes (the CLI, its pool
   workers, the readers it forks: largest RSS of one, and their summed PSS) apart from the
   sandboxed workers and their zygotes (the tree: everything, PSS).
   Prints wall time, the grader's peak memory and the ratios hostile / honest.

Exits 0 whatever the figures (it is a report); 1 when a run failed or scored wrong.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import psutil  # noqa: E402
from common import TreeSampler, work_folder  # noqa: E402
from helpers.hostile_corpus import HONEST, write_class  # noqa: E402

from grader.core.text import csv_cell  # noqa: E402
from grader.extract.parse import MAX_CHUNKS  # noqa: E402
from grader.extract.pipeline import extract_module  # noqa: E402
from grader.extract.read import MAX_CELLS, Cell, read_cells  # noqa: E402

MiB = 1024 * 1024


# --------------------------------------------------------------------------- scaling


def _shapes(n: int, max_n: int) -> dict[str, list[Cell]]:
    def cells(*sources: str) -> list[Cell]:
        return [Cell(i + 1, s, None) for i, s in enumerate(sources)]

    chain = [f"v{n} = 0"] + [f"v{i} = v{i + 1} + 1" for i in reversed(range(n))]
    half = n // 2
    return {
        "reversed chain": cells("\n".join(chain), "def relu(x):\n    return x + v0"),
        "one name n times": cells(*(f"def relu(x):\n    return x + {i}" for i in range(n))),
        "n stubs, one def": cells(*(["def relu(x):\n    raise NotImplementedError"] * n),
                                  "def relu(x):\n    return x"),
        "call chain": cells(*(f"def f{i}():\n    return f{i + 1}()" for i in range(half)),
                            *(f"y{i} = f{half - 1}()" for i in range(half)),
                            "def relu(x):\n    return y0"),
        # (fewer: a cell of more than MAX_CHUNKS broken chunks is skipped whole)
        "syntax error per line": cells("\n".join(f"v{i} = (" for i in range(
            n * MAX_CHUNKS // (4 * max_n + 1)))),
    }


def _timed(action: Callable[[], object], repeat: int = 3) -> float:
    """The best of ``repeat`` runs (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def scaling(n: int, work: Path) -> None:
    print(f"Extraction of hostile shapes at n = {n} and 4n statements, best of 3 "
          "(linear: ratio ~4)")
    small, large = _shapes(n, 4 * n), _shapes(4 * n, 4 * n)
    for name in small:
        a = _timed(lambda name=name: extract_module(small[name], ("relu",)))
        b = _timed(lambda name=name: extract_module(large[name], ("relu",)))
        print(f"  {name:24s} {a:7.3f} s  {b:7.3f} s   ratio {b / a:5.1f}")
    few = min(n, MAX_CELLS // 4)
    for cells in (few, 4 * few):
        path = work / f"cells-{cells}.ipynb"
        path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                    "cells": [{"cell_type": "code", "source": "x = 1",
                                               "metadata": {}, "outputs": [],
                                               "execution_count": None}] * cells}))
    a = _timed(lambda: read_cells(work / f"cells-{few}.ipynb"))
    b = _timed(lambda: read_cells(work / f"cells-{4 * few}.ipynb"))
    print(f"  {'read a notebook':24s} {a:7.3f} s  {b:7.3f} s   ratio {b / a:5.1f}")


# --------------------------------------------------------------------------- class runs


class GraderMemory(TreeSampler):
    """Samples the grader's own processes (not the sandboxed workers): the largest RSS of one
    of them, and the sum of their PSS (pages a forked reader shares count once)."""

    def __init__(self, pid: int, every_s: float = 0.05) -> None:
        self.peak_process = self.peak_sum = self.peak_tree = 0
        super().__init__(pid, every_s)

    @staticmethod
    def _is_worker(proc: psutil.Process) -> bool:
        """A sandboxed worker or zygote (remote.py, zygote.py, or a slot's own uid)."""
        try:
            return proc.uids().real != os.getuid() or any(
                part.endswith(("/remote.py", "/zygote.py")) or part.endswith("setpriv")
                or part.endswith("bwrap") for part in proc.cmdline())
        except psutil.Error:
            return True

    def sample(self, procs: list[psutil.Process]) -> None:
        workers: set[int] = set()
        for proc in procs:  # a worker's descendants are workers too
            if proc.pid in workers or self._is_worker(proc):
                workers.add(proc.pid)
                try:
                    workers.update(p.pid for p in proc.children(recursive=True))
                except psutil.Error:
                    pass
        total = grader = 0
        for proc in procs:
            try:
                info = proc.memory_full_info()  # PSS: forked readers share their pages
            except psutil.Error:
                continue
            pss = getattr(info, "pss", info.rss)
            total += pss
            if proc.pid not in workers and proc.pid != self.pid:  # /usr/bin/time itself
                grader += pss
                self.peak_process = max(self.peak_process, info.rss)
        self.peak_sum = max(self.peak_sum, grader)
        self.peak_tree = max(self.peak_tree, total)


@dataclass
class ClassRun:
    wall_s: float
    time_max_rss_mb: float
    peak_process_mb: float
    peak_grader_mb: float
    peak_tree_mb: float
    scores: dict[str, float]


def grade_class(subs: Path, out: Path, jobs: int) -> ClassRun:
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "grader.cli", "run", str(subs),
               "--out", str(out), "--sandbox", "process", "--jobs", str(jobs),
               "--assignment", "activations", "--force", "--quiet"]
    print("  $ " + " ".join(command[:3]) + " -m grader.cli.main " + " ".join(command[5:]))
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    memory = GraderMemory(process.pid)
    stdout, stderr = process.communicate(timeout=3600)
    wall = time.monotonic() - started
    memory.stop()
    if process.returncode != 0:
        raise RuntimeError(f"grading failed:\n{stdout[-2000:]}\n{stderr[-3000:]}")
    max_rss = next((int(line.split()[-1]) for line in stderr.splitlines()
                    if "Maximum resident set size" in line), 0)
    with (out / "grades.csv").open(encoding="utf-8", newline="") as handle:
        scores = {row["student"]: float(row["score"]) for row in csv.DictReader(handle)}
    return ClassRun(wall, max_rss / 1024, memory.peak_process / MiB, memory.peak_sum / MiB,
                    memory.peak_tree / MiB, scores)


def classes(jobs: int, work: Path) -> bool:
    hostile = work / "hostile"
    expected = write_class(hostile)
    honest = work / "honest"
    honest.mkdir()
    for name in HONEST:
        shutil.copytree(hostile / name, honest / name, symlinks=True)
    print(f"\nThe hostile class ({len(expected)} student folders, {len(HONEST)} honest) and "
          f"its honest students alone, --jobs {jobs}")
    runs = {}
    for label, subs in (("honest only", honest), ("hostile class", hostile)):
        print(f" {label}:")
        runs[label] = grade_class(subs, work / f"out-{label.split()[0]}", jobs)
    ok = all(runs["hostile class"].scores.get(csv_cell(name)) == (score or 0.0)
             for name, score in expected.items())
    print(f"\n{'':16s}{'wall s':>9s}{'grader process MB':>19s}{'grader total MB':>17s}"
          f"{'tree MB':>10s}{'time -v max RSS MB':>20s}")
    for label, run in runs.items():
        print(f"{label:16s}{run.wall_s:9.1f}{run.peak_process_mb:19.0f}"
              f"{run.peak_grader_mb:17.0f}{run.peak_tree_mb:10.0f}{run.time_max_rss_mb:20.0f}")
    base, attacked = runs["honest only"], runs["hostile class"]
    print(f"{'ratio':16s}{attacked.wall_s / base.wall_s:9.2f}"
          f"{attacked.peak_process_mb / base.peak_process_mb:19.2f}"
          f"{attacked.peak_grader_mb / base.peak_grader_mb:17.2f}")
    print(f"scores as expected (honest 100, hostile 0 or not graded): {'yes' if ok else 'NO'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--n", type=int, default=2000, help="statements at the small size")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--scaling-only", action="store_true")
    args = parser.parse_args()
    try:
        with work_folder(args.work, "bench-hostile-") as work:
            scaling(args.n, work)
            return 0 if args.scaling_only or classes(args.jobs, work) else 1
    finally:
        print(f"(machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    sys.exit(main())

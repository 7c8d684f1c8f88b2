"""Benchmark: ``grade similarity`` on a large class, and its pair scoring against copydetect's.

    python bench/similarity.py [--students 500] [--jobs N] [--work DIR] [--pairs 2000]

1. Builds a synthetic class: N students, one notebook per assignment, each drawn from the
   similarity test corpus (tests/similarity_corpus.py: the reference, the equivalents and
   their planted copies) with some contract functions swapped for another implementation's,
   so most pairs share some code (the slow case: a pair sharing nothing costs least).
2. Runs ``grade similarity CLASS --out OUT --jobs N`` (a subprocess) and times it.
3. On ``--pairs`` pairs of one assignment, times copydetect's own ``compare_files`` against
   the grader's bit-mask overlap on the same fingerprints, and checks both give the same
   similarity for every pair.
4. Prints the class time against the 60 s target (PASS/FAIL) and the CPU time it took, the
   ratio, the machine's cores and load average (other work on the machine slows the wall
   time; the CPU time says what an idle machine would need: about CPU / cores).

Exits 0 whatever the figures (it is a report); 1 only when something crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from common import work_folder  # noqa: E402
from copydetect import compare_files  # noqa: E402
from helpers.similarity_corpus import _definitions, corpus  # noqa: E402

from grader.core.course import Assignment, load_course  # noqa: E402
from grader.similarity.code import boilerplate_texts, submission_code  # noqa: E402
from grader.similarity.fingerprint import boilerplate_hashes, fingerprint, overlap  # noqa: E402

TARGET_S = 60.0
#: Chance that a student's contract function comes from another implementation.
SWAP = 0.3


def student_cells(members: list, assignment: Assignment, rng: random.Random) -> list[str]:
    """One student's code cells: a corpus member with some functions from other ones."""
    cells = list(rng.choice(members).cells)
    for name in assignment.functions:
        if rng.random() >= SWAP:
            continue
        ours = _definitions(tuple(cells))
        theirs = _definitions(rng.choice(members).cells)
        if name in ours and name in theirs:
            cells = [cell.replace(ours[name], theirs[name]) for cell in cells]
    return cells


def write_notebook(path: Path, cells: list[str], student: str) -> None:
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "by", "metadata": {}, "source": f"By {student}"},
        *({"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None,
           "outputs": [], "source": source} for i, source in enumerate(cells))]}
    path.write_text(json.dumps(notebook), encoding="utf-8")


def build_class(folder: Path, students: int, seed: int = 0) -> int:
    course = load_course(ROOT)
    rng = random.Random(seed)
    members = {a.id: corpus(a, ROOT) for a in course.assignments}
    for i in range(students):
        student = f"s{i:04d}"
        (folder / student).mkdir(parents=True)
        for a in course.assignments:
            write_notebook(folder / student / f"{a.id}.ipynb",
                           student_cells(members[a.id], a, rng), student)
    return len(course.assignments)


def time_class(folder: Path, out: Path, jobs: int) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and its workers, its output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "grader.cli", "similarity", str(folder),
                           "--out", str(out), "--jobs", str(jobs)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"grade similarity failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, cpu, done.stdout


def compare_pairs(folder: Path, pairs: int, seed: int = 0) -> tuple[float, float, int, int]:
    """(copydetect seconds, ours seconds, pairs, pairs whose similarities differ)."""
    assignment = load_course(ROOT).assignments[0]
    boilerplate = boilerplate_hashes(boilerplate_texts(assignment))
    paths = sorted(folder.glob(f"*/{assignment.id}.ipynb"))
    prints = [fingerprint(submission_code(p), boilerplate) for p in paths]
    rng = random.Random(seed)
    chosen = [tuple(rng.sample(range(len(prints)), 2)) for _ in range(pairs)]
    start = time.perf_counter()
    theirs = [compare_files(prints[i], prints[j])[1] for i, j in chosen]
    copydetect_s = time.perf_counter() - start
    start = time.perf_counter()
    ours = [overlap(prints[i], prints[j]) for i, j in chosen]
    ours_s = time.perf_counter() - start
    differ = sum(1 for (a, b), o in zip(theirs, ours, strict=True)
                 if abs(a - o.share_a) > 1e-9 or abs(b - o.share_b) > 1e-9)
    return copydetect_s, ours_s, len(chosen), differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the class and the reports here")
    args = parser.parse_args()
    with work_folder(args.work, "similarity-bench-") as work:
        folder, out = work / "class", work / "out"
        assignments = build_class(folder, args.students)
        load_before = os.getloadavg()[0]
        elapsed, cpu, output = time_class(folder, out, args.jobs)
        load_after = os.getloadavg()[0]
        theirs_s, ours_s, pairs, differ = compare_pairs(folder, args.pairs)
    print(output.rstrip())
    verdict = "PASS" if elapsed < TARGET_S else "FAIL"
    print(f"machine: {os.cpu_count()} cores, load average {load_before:.1f} before and "
          f"{load_after:.1f} after the run, --jobs {args.jobs}")
    print(f"class: {args.students} students x {assignments} assignments compared in "
          f"{elapsed:.1f} s (target < {TARGET_S:.0f} s): {verdict}; {cpu:.1f} s of CPU "
          f"({cpu / max(1, min(args.jobs, os.cpu_count() or 1)):.1f} s a core)")
    ratio = theirs_s / ours_s if ours_s else float("inf")
    print(f"pair scoring: copydetect compare_files {1e6 * theirs_s / pairs:.0f} us a pair, "
          f"bit-mask overlap {1e6 * ours_s / pairs:.0f} us a pair: {ratio:.1f}x copydetect's "
          f"speed; "
          f"similarities equal on {pairs - differ}/{pairs} pairs")


if __name__ == "__main__":
    main()

"""Benchmark: two versions of the grader on the same class, alternately, side by side.

    python bench/pairs.py BEFORE AFTER [--rounds 4] [--students 50] [--jobs N] [--work DIR]

BEFORE and AFTER are git revisions of this repository (``HEAD~3``, a commit, a branch). Each
is checked out in a worktree of its own; bench/run.py's class (``--students`` students, one
file per assignment with a hidden suite, each file unique) is built once; then, ``--rounds``
times, each version grades it from a fresh output folder with the defaults
(``python -m grader.cli CLASS --out OUT --quiet``, run in its worktree with its worktree first
on ``PYTHONPATH``, so the grader, its zygotes and workers are that version's), BEFORE then
AFTER. Each run prints its wall time and the CPU the whole machine spent busy meanwhile
(/proc/stat: the grader, its pool, zygotes, workers and reader children, with whatever else
runs, so run it on an otherwise idle machine).

On a machine whose speed moves by a fifth within minutes, one run of each says little; runs
alternated in the same minutes compare like with like. It prints each round, the medians, and
AFTER's medians as a ratio to BEFORE's, and checks that both versions gave every student the
same grades (grades.csv), which a change of speed must not move.

Exits 0 whatever the figures; 1 when a run failed, 2 when the grades differ.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "demo")]

from common import machine_cpu, work_folder  # noqa: E402
from run import build_class, templates  # noqa: E402

from grader.core.course import load_course  # noqa: E402


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float


def worktree(revision: str, folder: Path) -> Path:
    """``revision`` checked out (detached) in ``folder``; a bad revision is a RuntimeError
    with git's own message."""
    done = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--force", "--detach",
                           str(folder), revision], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{revision}: {done.stderr.strip().splitlines()[-1]}")
    return folder


def remove_worktree(folder: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
                   check=False, capture_output=True)


def grade(tree: Path, cls: Path, out: Path, jobs: int | None) -> Run:
    """One timed run of the version in ``tree`` on ``cls``, from an empty ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "grader.cli", str(cls), "--out", str(out), "--quiet"]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tree), *filter(None, [os.environ.get("PYTHONPATH")])])}
    busy, started = machine_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True,
                          check=False)
    wall, cpu = time.perf_counter() - started, machine_cpu() - busy
    if done.returncode != 0:
        raise RuntimeError(f"{tree.name}: grade exited {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-500:]}")
    return Run(wall, cpu)


def grades(out: Path) -> list[tuple[str, ...]]:
    """(student, assignment, score) of every row of ``out``'s grades.csv."""
    with open(out / "grades.csv", encoding="utf-8", newline="") as rows:
        return sorted((r["student"], r["assignment"], r["score"]) for r in csv.DictReader(rows))


def report(names: tuple[str, str], runs: dict[str, list[Run]]) -> list[str]:
    lines = [f"{'round':>5}  {names[0] + ' wall / CPU':>26}  {names[1] + ' wall / CPU':>26}"]
    for k, (a, b) in enumerate(zip(runs[names[0]], runs[names[1]], strict=True), 1):
        lines.append(f"{k:>5}  {a.wall_s:16.1f} / {a.cpu_s:5.1f} s  "
                     f"{b.wall_s:16.1f} / {b.cpu_s:5.1f} s")
    median = {name: (statistics.median(r.wall_s for r in runs[name]),
                     statistics.median(r.cpu_s for r in runs[name])) for name in names}
    (wall_a, cpu_a), (wall_b, cpu_b) = median[names[0]], median[names[1]]
    lines.append(f"{'median':>6} {wall_a:16.1f} / {cpu_a:5.1f} s  "
                 f"{wall_b:16.1f} / {cpu_b:5.1f} s")
    lines.append(f"{names[1]} / {names[0]}: wall {wall_b / wall_a:.2f}x, "
                 f"CPU {cpu_b / cpu_a:.2f}x")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=None,
                        help="grade's --jobs [default: grade's own, the number of cores]")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the trees, the class and outputs [default: temporary]")
    args = parser.parse_args(argv)
    names = (f"before ({args.before})", f"after ({args.after})")
    course = load_course(ROOT)
    assignments = [a for a in course.assignments if a.hidden_suite.exists()]
    with work_folder(args.work, "nn-grader-pairs-") as work:
        import make_demo

        make_demo.build(course, work / "demo")
        build_class(work / "class", args.students, assignments,
                    templates(assignments, work / "demo"))
        trees: dict[str, Path] = {}
        try:
            trees[names[0]] = worktree(args.before, work / "tree_before")
            trees[names[1]] = worktree(args.after, work / "tree_after")
            runs: dict[str, list[Run]] = {name: [] for name in names}
            for k in range(args.rounds):
                for name, tree in trees.items():
                    print(f"pairs: round {k + 1}, {name} ...", file=sys.stderr, flush=True)
                    runs[name].append(grade(tree, work / "class", tree / "out", args.jobs))
            same = grades(trees[names[0]] / "out") == grades(trees[names[1]] / "out")
        except RuntimeError as exc:
            print(f"pairs: {exc}", file=sys.stderr)
            return 1
        finally:
            for tree in trees.values():
                remove_worktree(tree)
    print(f"{args.students} students x {len(assignments)} assignments, "
          f"{args.rounds} rounds alternated, load average {os.getloadavg()[0]:.1f} at the end")
    print("\n".join(report(names, runs)))
    print("grades: the same for every student" if same else "grades: DIFFERENT")
    return 0 if same else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

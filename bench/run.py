"""Benchmark: the grader against a naive grader, nbgrader's way and an in-process floor.

    python bench/run.py [--students 200] [--sample 40] [--jobs N] [--work DIR]

1. Builds a synthetic class: N students, one submission per assignment that has a hidden
   suite, drawn from the demo class (demo/make_demo.py: correct, buggy, stub, syntax error,
   messy, .py) and the mutants (tests/mutants/<assignment>/*.py); each file carries its
   student's id, so no two students hand in the same bytes.
2. Grades it with the project (``grade CLASS --out OUT --force --jobs N``, a subprocess),
   at N/4 and at N students; then the realistic class (bench/realistic.py: the same N
   students, where some have endless functions, blow the memory cap or exit at import) at
   the same --jobs; then the three again, sampling the memory of the whole process tree (the
   sampling costs CPU, so the timed runs do none); and a per-phase breakdown of a clean
   submission's core time.
3. On a sample of about ``--sample`` submissions (evenly spread; the messy notebooks, whose
   endless demo loop and input() only the grader survives, left out), all with ``--jobs``
   at a time:
     naive      a fresh ``python -m pytest`` per submission: the same hidden suite, the
                student's extracted module imported in that process (bench/naive_plugin.py)
     nbconvert  ``jupyter nbconvert --to notebook --execute`` of the notebook with a cell
                appended that runs the hidden suite in the kernel (what nbgrader does)
     floor      the same suites in warm processes, module in-process (no isolation), on
                ``--floor-sample`` submissions (default 40) in the class's mix of suites
4. Prints per-submission wall time, throughput, peak memory, the ratios, and each target.

Exits 0 whatever the figures (it is a report); 1 only when something crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "demo")]

import psutil  # noqa: E402
from baselines import Baseline, Entry, floor, naive, nbconvert  # noqa: E402
from realistic import Phases, make_realistic, phase_lines, phases, waits_of  # noqa: E402

from grader.core.course import Assignment, load_course  # noqa: E402
from grader.core.settings import read_secret  # noqa: E402

#: Demo variants (file in the demo class per assignment id) and whether they go in the sample.
DEMO = [("alice", "{a}.ipynb", True), ("bob", "{a}_final.ipynb", True),
        ("carol", "{a}.ipynb", True), ("dave", "{a}.ipynb", True),
        ("erin", "{A} (1).ipynb", False), ("frank", "{a}.py", True)]
TARGET_SPEEDUP = 10.0
TARGET_OVERHEAD_MS = 50.0
TARGET_CLASS_S = 300.0
TARGET_REALISTIC_RATIO = 1.5
TARGET_CORE_MS = 100.0
TARGET_FLOOR_RATIO = 1.25


# --------------------------------------------------------------------------- the class

def templates(course_assignments: list[Assignment], demo: Path) -> dict[str, list[tuple]]:
    """Per assignment: (file name, bytes, sampleable) of every variant."""
    found: dict[str, list[tuple]] = {}
    for a in course_assignments:
        variants = []
        for who, pattern, ok in DEMO:
            name = pattern.format(a=a.id, A=a.id.capitalize())
            variants.append((name, (demo / who / name).read_bytes(), ok))
        for mutant in sorted((ROOT / "tests" / "mutants" / a.id).glob("*.py")):
            variants.append((f"{a.id}.py", mutant.read_bytes(), True))
        found[a.id] = variants
    return found


def mark(name: str, data: bytes, student: str) -> bytes:
    """The file with its student's id in it (a comment or a Markdown cell)."""
    if name.endswith(".py"):
        return f"# handed in by {student}\n".encode() + data
    nb = json.loads(data)
    cell = {"cell_type": "markdown", "metadata": {}, "source": f"Handed in by {student}"}
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
        cell["id"] = f"by-{student}"
    nb["cells"].insert(0, cell)
    return json.dumps(nb, indent=1).encode()


def build_class(folder: Path, students: int, assignments: list[Assignment],
                variants: dict[str, list[tuple]]) -> list[Entry]:
    entries = []
    for i in range(students):
        student = f"s{i:04d}"
        for k, a in enumerate(assignments):
            name, data, ok = variants[a.id][(i * 5 + k * 3) % len(variants[a.id])]
            path = folder / student / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(mark(name, data, student))
            entries.append(Entry(student, a, path, ok))
    return entries


# --------------------------------------------------------------------------- measuring

class TreeMemory:
    """Samples the summed PSS of a process and all its descendants (a page shared by a warm
    zygote and its workers counted once, as the memory cgroup counts it; a sum of RSS counted
    it once per process) and the grading process's own RSS."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        self.pid, self.every_s = pid, every_s
        self.peak_tree = self.peak_main = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                main = psutil.Process(self.pid)
                procs = [main, *main.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for proc in procs:
                try:
                    total += proc.memory_full_info().pss
                    if proc.pid == self.pid:
                        self.peak_main = max(self.peak_main, proc.memory_info().rss)
                except psutil.Error:
                    continue
            self.peak_tree = max(self.peak_tree, total)
            self._stop.wait(self.every_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class GraderRun:
    students: int
    submissions: int
    wall_s: float
    peak_tree_mb: float
    peak_main_mb: float
    durations: dict[tuple[str, str], float]
    scores: dict[tuple[str, str], float]
    load: float  # the 1-minute load average when it ended


def run_grader(folder: Path, out: Path, students: int, jobs: int,
               memory_of: GraderRun | None = None) -> GraderRun:
    """Grade ``folder`` into ``out`` with a fresh ``grade`` process and time it.

    Timed runs sample no memory: reading each process's PSS (/proc/PID/smaps_rollup, about
    5 ms for a process that imported torch) ten times a second took a third of a core from
    the grader on 2 cores (a 200-submission run: 22.6-26.4 s sampled, 21.0 s not, back to
    back). ``memory_of``: this run only measures the memory of that (timed) run, grading the
    same class again into ``out``; the result is that run with its peaks filled in."""
    command = [sys.executable, "-m", "grader.cli", str(folder), "--out", str(out), "--force",
               "--jobs", str(jobs), "--quiet"]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    memory = TreeMemory(process.pid) if memory_of is not None else None
    output, _ = process.communicate()
    wall = time.monotonic() - started
    if memory is not None:
        memory.stop()
    if process.returncode != 0:
        raise RuntimeError(f"grade failed ({process.returncode}):\n{output}")
    durations, scores = {}, {}
    for path in out.glob("*/*/results.json"):
        data = json.loads(path.read_text())
        key = (data["extra_data"]["student"], data["extra_data"]["assignment"])
        durations[key] = float(data.get("execution_time", 0.0))
        scores[key] = float(data["score"])
    if memory_of is not None:
        assert memory is not None
        return replace(memory_of, peak_tree_mb=memory.peak_tree / 2**20,
                       peak_main_mb=memory.peak_main / 2**20)
    return GraderRun(students, len(durations), wall, 0.0, 0.0, durations, scores,
                     os.getloadavg()[0])


# --------------------------------------------------------------------------- report

def pick_sample(entries: list[Entry], size: int) -> list[Entry]:
    """At most ``size`` sampleable entries, as many of each assignment (the class holds one
    submission per assignment and student): the floor then has the class's mix of suites.
    (An even spread over the whole list could miss an assignment: at 50 students and 8
    samples it took no training submission, the suite with the most reference work.)"""
    by_assignment: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.sampleable:
            by_assignment.setdefault(entry.assignment.id, []).append(entry)
    each = max(1, -(-size // max(1, len(by_assignment))))  # ceil(size / assignments)
    picked = [spread(group, each) for group in by_assignment.values()]
    rounds = [group[i] for i in range(each) for group in picked if i < len(group)]
    return rounds[:size]  # (fewer than one per assignment: the first assignments')


def spread(pool: list[Entry], size: int) -> list[Entry]:
    """About ``size`` entries of ``pool``, evenly spread."""
    if len(pool) <= size:
        return pool
    step = len(pool) / size
    return [pool[int(i * step)] for i in range(size)]


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:9.0f} ms"


@dataclass
class Realistic:
    run: GraderRun
    defects: dict[str, int]
    waits: int
    phases: Phases


def report(args: argparse.Namespace, assignments: list[Assignment], small: GraderRun,
           full: GraderRun, sample: list[Entry], baselines: list[Baseline],
           realistic: Realistic) -> str:
    jobs = args.jobs
    lines = [f"nn-grader benchmark: {full.students} students x {len(assignments)} notebooks "
             f"({', '.join(a.id for a in assignments)}) = {full.submissions} submissions, "
             f"--jobs {jobs} on {os.cpu_count()} cores; sample of {len(sample)}",
             "   (walls from runs that sample no memory; peaks from the same runs repeated)",
             "",
             f"{'':34} {'per submission':>14} {'throughput':>12} {'wall':>9}  peak memory",
             "   (per submission = wall x jobs / submissions: core time each)"]
    thr_grader = full.submissions / full.wall_s

    def row(name: str, n: int, wall: float, memory: str = "") -> str:
        return (f"{name:34} {fmt_ms(wall * jobs / n):>14} {n / wall:8.2f} /s {wall:8.1f}s"
                f"  {memory}")

    for run, name in ((small, f"grader ({small.students} students)"),
                      (full, f"grader ({full.students} students)"),
                      (realistic.run, f"grader, realistic ({full.students})")):
        lines.append(row(name, run.submissions, run.wall_s,
                         f"{run.peak_tree_mb:.0f} MB tree (PSS), {run.peak_main_mb:.0f} MB grader"
                         f"; load average {run.load:.1f}"))
    for b in baselines:
        if b.available:
            lines.append(f"{b.name:34} unavailable: {b.available}")
        else:
            lines.append(row(b.name, len(b.durations), b.wall_s))
    lines.append("")
    by_name = {b.name.split()[0]: b for b in baselines}
    for name in ("naive", "nbconvert"):
        b = by_name.get(name)
        if b is None or b.available or not b.durations:
            continue
        ratio = thr_grader / (len(b.durations) / b.wall_s)
        lines.append(f"grader throughput / {name}: {ratio:6.1f}x")
        agree = sum(1 for k, s in b.scores.items() if s == full.scores.get(k))
        lines.append(f"  scores equal to the grader's on {agree}/{len(b.scores)} sampled")
    floor_run = by_name.get("in-process")
    overhead = None
    floor_ratio = float("nan")
    if floor_run is not None and floor_run.durations:
        matched = [full.durations[k] - d for k, d in floor_run.durations.items()
                   if k in full.durations]
        # the median pair: a slot's one-off zygote start (seconds, once per process) would
        # otherwise be charged to whichever sampled submission came first
        overhead = statistics.median(matched)
        mean_overhead = sum(matched) / len(matched)
        core_per_sub = full.wall_s * jobs / full.submissions
        floor_per_sub = floor_run.wall_s * jobs / len(floor_run.durations)
        graded_ms = 1000 * sum(full.durations[k] for k in floor_run.durations
                               if k in full.durations) / len(matched)
        floor_ms = 1000 * sum(floor_run.durations.values()) / len(floor_run.durations)
        lines.append(f"isolation overhead, same submissions: median {overhead * 1000:.0f} ms, "
                     f"mean {mean_overhead * 1000:.0f} ms (grader's mean time per submission "
                     f"{graded_ms:.0f} ms - in-process {floor_ms:.0f} ms; the mean includes "
                     "each process's one-off zygote start)")
        lines.append(f"  whole run, core time per submission: grader {core_per_sub * 1000:.0f} ms"
                     f", floor {floor_per_sub * 1000:.0f} ms ({len(floor_run.durations)} "
                     "submissions): "
                     f"{core_per_sub / floor_per_sub:.2f}x")
        lines += marginal_lines(small, full, jobs, floor_per_sub)
        lines.append("  floor per suite (its tests, the reference work and the student's code, "
                     "in-process; mean of the sampled): " + floor_per_suite(floor_run))
        floor_ratio = core_per_sub / floor_per_sub
    core_ms = 1000 * full.wall_s * jobs / full.submissions
    ratio = realistic.run.wall_s / full.wall_s
    lines.append("")
    lines.append(f"realistic class: the same {full.students} students, "
                 + ", ".join(f"{n} with {kind}" for kind, n in realistic.defects.items())
                 + f"; the grader waited out {realistic.waits} budgets")
    lines.append(f"  wall {realistic.run.wall_s:.1f} s vs the clean class's {full.wall_s:.1f} s "
                 f"at --jobs {jobs}: {ratio:.2f}x")
    lines += phase_lines(realistic.phases, core_ms)
    lines.append("")
    lines.append("targets")
    lines.append(_target(f"realistic class wall <= {TARGET_REALISTIC_RATIO}x the clean class's",
                         ratio <= TARGET_REALISTIC_RATIO, f"{ratio:.2f}x"))
    lines.append(_target(f"clean class core time per submission <= {TARGET_CORE_MS:.0f} ms",
                         core_ms <= TARGET_CORE_MS,
                         f"{core_ms:.0f} ms (load average {full.load:.1f})"))
    naive_run = by_name.get("naive")
    if naive_run is not None and naive_run.durations:
        ratio = thr_grader / (len(naive_run.durations) / naive_run.wall_s)
        lines.append(_target(f">= {TARGET_SPEEDUP:.0f}x the naive baseline's throughput",
                             ratio >= TARGET_SPEEDUP, f"{ratio:.1f}x"))
    if overhead is not None:
        lines.append(_target(f"whole run core time per clean submission <= "
                             f"{TARGET_FLOOR_RATIO}x the in-process floor's",
                             floor_ratio <= TARGET_FLOOR_RATIO, f"{floor_ratio:.2f}x"))
        lines.append(_target(f"isolation overhead < {TARGET_OVERHEAD_MS:.0f} ms",
                             overhead * 1000 < TARGET_OVERHEAD_MS, f"{overhead * 1000:.0f} ms"))
    projected = full.wall_s / full.submissions * 800 * jobs / 2
    exact = full.students == 200 and len(assignments) == 4 and jobs == 2
    lines.append(_target("200 students x 4 notebooks < 5 min on 2 cores",
                         projected < TARGET_CLASS_S,
                         f"{projected:.0f} s" + ("" if exact else
                                                 " (projected from this run: 800 submissions"
                                                 " at its rate per core, on 2 cores)")))
    flat = full.peak_tree_mb <= small.peak_tree_mb * 1.25 + 64
    lines.append(_target("grader memory flat in N", flat,
                         f"{small.peak_tree_mb:.0f} MB at {small.students} students, "
                         f"{full.peak_tree_mb:.0f} MB at {full.students}"))
    return "\n".join(lines)


def _target(text: str, ok: bool, value: str) -> str:
    return f"  [{'PASS' if ok else 'FAIL'}] {text}: {value}"


def marginal_lines(small: GraderRun, full: GraderRun, jobs: int,
                   floor_per_sub: float) -> list[str]:
    """What one more submission costs, apart from a run's fixed start (each pool process's
    imports and warm zygote, the reports drawn once): from the small and the full class's
    walls, a straight line through both. The floor's processes are warm before they are
    timed, so this is the figure that compares with it like for like."""
    extra = full.submissions - small.submissions
    if extra <= 0 or full.wall_s <= small.wall_s:
        return []
    per_sub = (full.wall_s - small.wall_s) / extra  # wall seconds per submission
    start = small.wall_s - per_sub * small.submissions
    core = per_sub * jobs
    return [f"  beyond the run's start ({small.students} and {full.students} students' walls): "
            f"grader {core * 1000:.0f} ms per submission, {core / floor_per_sub:.2f}x the floor;"
            f" the start itself {start:.1f} s of wall (pool processes' imports and zygotes, "
            "the reports once)"]


def floor_per_suite(floor_run: Baseline) -> str:
    """The in-process floor's mean per assignment, as 'activations 150 ms, ...'."""
    per: dict[str, list[float]] = {}
    for (_, assignment), seconds in floor_run.durations.items():
        per.setdefault(assignment, []).append(seconds)
    return ", ".join(f"{name} {1000 * statistics.mean(times):.0f} ms (n={len(times)})"
                     for name, times in sorted(per.items()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the class and outputs [default: a temporary one]")
    parser.add_argument("--no-nbconvert", action="store_true", help="skip that baseline")
    parser.add_argument("--floor-sample", type=int, default=40,
                        help="submissions the in-process floor grades (at least --sample): "
                             "on 8, one process's last submission left the other core idle "
                             "for a tenth of its wall")
    args = parser.parse_args(argv)
    course = load_course(ROOT)
    assignments = [a for a in course.assignments if a.hidden_suite.exists()]
    skipped = [a.id for a in course.assignments if not a.hidden_suite.exists()]
    secret = read_secret(course.secret_file)
    temporary = None
    if args.work is None:
        temporary = tempfile.TemporaryDirectory(prefix="nn-grader-bench-")
        args.work = Path(temporary.name)
    work: Path = args.work
    try:
        import make_demo

        make_demo.build(course, work / "demo")
        variants = templates(assignments, work / "demo")
        small_n = max(1, args.students // 4)
        say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
        if skipped:
            say(f"bench: no hidden suite yet for {', '.join(skipped)}: left out")
        build_class(work / "class_small", small_n, assignments, variants)
        entries = build_class(work / "class", args.students, assignments, variants)
        say(f"bench: grading {small_n} students ...")
        small = run_grader(work / "class_small", work / "out_small", small_n, args.jobs)
        say(f"bench: grading {args.students} students ...")
        full = run_grader(work / "class", work / "out", args.students, args.jobs)
        defects = make_realistic(entries, assignments, args.students, work / "class",
                                 work / "class_realistic")
        say(f"bench: grading the realistic class ({args.students} students) ...")
        real = run_grader(work / "class_realistic", work / "out_realistic", args.students,
                          args.jobs)
        say("bench: the same three runs again, sampling memory (timed runs sample none) ...")
        small = run_grader(work / "class_small", work / "out_small_memory", small_n, args.jobs,
                           memory_of=small)
        full = run_grader(work / "class", work / "out_memory", args.students, args.jobs,
                          memory_of=full)
        real = run_grader(work / "class_realistic", work / "out_realistic_memory",
                          args.students, args.jobs, memory_of=real)
        say("bench: phases of a clean submission ...")
        phased = phases(course, work / "class", spread(entries, args.sample), secret,
                        work / "out_phases")
        realistic = Realistic(real, defects, waits_of(work / "out_realistic"), phased)
        sample = pick_sample(entries, args.sample)
        say(f"bench: naive baseline on {len(sample)} ...")
        baselines = [naive(sample, work, secret, args.jobs)]
        if not args.no_nbconvert:
            say("bench: nbconvert baseline ...")
            baselines.append(nbconvert(sample, work, secret, args.jobs))
        floor_sample = pick_sample(entries, max(args.floor_sample, len(sample)))
        say(f"bench: in-process floor on {len(floor_sample)} ...")
        baselines.append(floor(floor_sample, secret, args.jobs))
        print(report(args, assignments, small, full, sample, baselines, realistic))
    finally:
        if temporary is not None:
            temporary.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

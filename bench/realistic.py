"""The benchmark's realistic class and its per-phase breakdown of a clean submission.

Realistic class: the clean class's N students, where (of the students)

    2%    have one endless function       (a ``while True`` in one contract function)
    0.5%  have every function endless
    2%    blow the memory cap in one function (touched pages, until the worker dies)
    1%    exit at import                  (``os._exit`` while the notebook loads)

each in one of their notebooks (a code cell, or lines of a .py file, appended: the student's
own code is otherwise unchanged). At least one student of each kind, whatever N.

Phases: a sample of clean submissions graded in this process, one at a time, with the
grader's own code path (``grade_job`` reports extract, worker start/load/stop and suite; discover,
reports and the cache write are timed around the same calls ``grade`` makes).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from baselines import Entry

from grader.core.course import Assignment, Course
from grader.core.paths import TEMPLATES_DIR
from grader.core.results import RunResult
from grader.core.settings import Settings
from grader.report import write_reports
from grader.run.cache import ResultCache, cache_key
from grader.run.discover import discover
from grader.run.grading import kept_sandbox
from grader.submission.grade import Job, grade_job
from grader.suite.files import suite_hash

#: (defect, share of the students)
DEFECTS = (("one endless function", 0.02), ("every function endless", 0.005),
           ("memory cap in one function", 0.02), ("exit at import", 0.01))
PHASES = ("discover", "extract", "worker", "suite", "reports", "cache")
PHASE_NAMES = {"discover": "discover (reads and extracts)", "extract": "extract (left to grading)",
               "worker": "worker start, load and stop", "suite": "suite",
               "reports": "reports", "cache": "cache write (key and entry)"}


def endless(name: str) -> str:
    return f"def {name}(*args, **kwargs):\n    while True:\n        pass\n"


def memory_hog(name: str) -> str:
    return (f"def {name}(*args, **kwargs):\n    hoard = []\n    while True:\n"
            "        hoard.append(b'\\x01' * (1 << 24))\n")


EXIT_AT_IMPORT = "import os\n\n\ndef _leave(_now=os._exit(1)):\n    pass\n"


def defect_code(defect: str, assignment: Assignment, k: int) -> str:
    function = assignment.functions[k % len(assignment.functions)]
    if defect == "one endless function":
        return endless(function)
    if defect == "every function endless":
        return "\n\n".join(endless(name) for name in assignment.functions)
    if defect == "memory cap in one function":
        return memory_hog(function)
    return EXIT_AT_IMPORT


def plan(students: int, assignments: int) -> list[tuple[int, int, str]]:
    """(student index, assignment index, defect): distinct submissions, students spread."""
    kinds = [kind for kind, share in DEFECTS for _ in range(math.ceil(share * students))]
    step = max(1, students // max(1, len(kinds)))
    chosen: list[tuple[int, int, str]] = []
    taken: set[tuple[int, int]] = set()
    for k, kind in enumerate(kinds):
        student, assignment = (k * step + k // students) % students, k % assignments
        while (student, assignment) in taken:
            student = (student + 1) % students
        taken.add((student, assignment))
        chosen.append((student, assignment, kind))
    return chosen


def append_code(path: Path, code: str) -> None:
    """The student's file with ``code`` after everything else (a cell, or .py lines)."""
    if path.suffix == ".py":
        path.write_text(path.read_text(encoding="utf-8") + "\n\n" + code, encoding="utf-8")
        return
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": code}
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
        cell["id"] = f"defect-{len(nb['cells'])}"
    nb["cells"].append(cell)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def make_realistic(entries: list[Entry], assignments: list[Assignment], students: int,
                   clean: Path, folder: Path) -> dict[str, int]:
    """Copy the clean class to ``folder`` and plant the defects; how many of each."""
    import shutil

    shutil.copytree(clean, folder)
    by_key = {(e.student, e.assignment.id): e for e in entries}
    counts: dict[str, int] = {}
    for k, (student, index, kind) in enumerate(plan(students, len(assignments))):
        entry = by_key[(f"s{student:04d}", assignments[index].id)]
        append_code(folder / entry.path.relative_to(clean), defect_code(
            kind, assignments[index], k))
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def waits_of(out: Path) -> int:
    """The waits of every submission graded into ``out`` (from its cache entries)."""
    total = 0
    for entry in out.glob(".cache/*/*/*.json"):
        total += int(json.loads(entry.read_text(encoding="utf-8")).get("waits", 0))
    return total


@dataclass
class Phases:
    per_submission_ms: dict[str, float]
    submissions: int
    load: float  # the 1-minute load average at the end
    #: reports split: feedback pages per submission, and the run's summary, gradebook and
    #: template compilation (once per run) shared over the class's submissions
    reports_split_ms: tuple[float, float, int] = (0.0, 0.0, 0)
    #: once per grading process, outside the sum like the zygote's start: a first report
    #: (the templates compiled)
    one_off_reports_ms: float = 0.0


def _timed_reports(run: RunResult, out: Path, course: Course) -> tuple[float, float]:
    """write_reports as ``grade`` calls it; (whole call, its feedback pages alone) in seconds.
    The pages are timed by wrapping grader.report.write's per-submission writer."""
    from grader.report import write

    pages = 0.0
    page_writer = write._write_submission

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal pages
        started = time.perf_counter()
        try:
            return page_writer(*args, **kwargs)
        finally:
            pages += time.perf_counter() - started

    write._write_submission = timed
    try:
        started = time.perf_counter()
        write_reports(run, out, TEMPLATES_DIR,
                      titles={a.id: a.title for a in course.assignments})
        return time.perf_counter() - started, pages
    finally:
        write._write_submission = page_writer


def phases(course: Course, clean: Path, sample: list[Entry], secret: str,
           out: Path) -> Phases:
    """Mean ms per clean submission of each phase, graded one at a time in this process.

    Work done once per run is shared over the class's submissions (discover; the reports'
    summary, gradebook and templates); work once per process is left out of the sum and
    printed apart (the zygote's and pytest's start, matplotlib's import)."""
    settings = Settings(course_root=course.root, secret=secret)
    sandbox = kept_sandbox(settings.sandbox, settings.warm)
    jobs = [Job(e.student, e.assignment, e.path, "file name") for e in sample]
    first = grade_job(jobs[0], settings, sandbox)  # the process's one-off starts: zygote, pytest
    one_off, _ = _timed_reports(RunResult(results=(first,)), out / "first", course)
    started = time.perf_counter()
    found = discover(clean, course.assignments)
    files = max(1, len(found.submissions))
    totals = {"discover": (time.perf_counter() - started) / files * len(jobs)}
    # each file as the run grades it (grader.run.grading.plan_jobs): with what discovery
    # extracted (nothing is read again) and its suite's hash computed once for the run
    read = {s.path.resolve(): s.extraction for s in found.submissions}
    hashes = {a.id: suite_hash(a) for a in course.assignments}
    jobs = [replace(job, extraction=read.get(job.path.resolve()),
                    suite_hash=hashes[job.assignment.id]) if job.path else job for job in jobs]
    results = []
    for job in jobs:
        results.append(grade_job(job, settings, sandbox, totals))
    whole, pages = _timed_reports(RunResult(results=tuple(results)), out, course)
    totals["reports"] = pages + (whole - pages) / files * len(jobs)
    cache = ResultCache(out)
    started = time.perf_counter()
    for job, result in zip(jobs, results, strict=True):
        key = cache_key(job, settings, sandbox.level)
        if key is not None:
            cache.put(job, key, result)
    totals["cache"] = time.perf_counter() - started
    per = {name: 1000 * totals.get(name, 0.0) / len(jobs) for name in PHASES}
    return Phases(per, len(jobs), os.getloadavg()[0],
                  (1000 * pages / len(jobs), 1000 * (whole - pages), files), 1000 * one_off)


def phase_lines(result: Phases, core_ms: float) -> list[str]:
    total = sum(result.per_submission_ms.values())
    lines = [f"clean submission, core time per phase (mean of {result.submissions}, one at a "
             f"time in one process; load average {result.load:.1f}):"]
    for name in PHASES:
        ms = result.per_submission_ms[name]
        lines.append(f"  {PHASE_NAMES[name]:30} {ms:7.1f} ms  {100 * ms / max(total, 1e-9):3.0f}%")
    lines.append(f"  {'sum':30} {total:7.1f} ms   (the whole clean run: {core_ms:.0f} ms of "
                 "core time per submission)")
    pages, per_run, files = result.reports_split_ms
    lines.append(f"  reports = feedback pages {pages:.1f} ms + summary, gradebook and templates "
                 f"{per_run:.0f} ms once per run / {files} submissions")
    lines.append(f"  once per process, not in the sum: a first report (its templates compiled) "
                 f"{result.one_off_reports_ms:.0f} ms (and the zygote's start)")
    return lines

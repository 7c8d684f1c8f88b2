"""Benchmark: rendering every report of a class against grading it, side by side in one run.

    python bench/reports.py [--students 200] [--jobs N] [--roster]

Builds bench/run.py's synthetic class (N students x every assignment with a hidden suite,
drawn from the demo class and the mutants), grades it in this process (``grade_folder``, the
sandboxed workers, as ``grade`` does), then renders every report of that run
(``write_reports``: grades.csv, gradebook.csv, summary with its histograms, and per submission
results.json, feedback.md, feedback.html) into a fresh folder, and prints both wall times and
their ratio against the target (rendering at most 10% of grading). It is a report: exits 0
whatever the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "demo"), str(BENCH)]

from run import build_class, templates  # noqa: E402

from grader.core.course import load_course  # noqa: E402
from grader.core.roster import RosterEntry  # noqa: E402
from grader.core.settings import Settings, read_secret  # noqa: E402
from grader.report import write_reports  # noqa: E402
from grader.report.calls import reference_calls  # noqa: E402
from grader.run.grading import close_sandboxes, grade_folder  # noqa: E402

TARGET = 0.10


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    course = load_course(ROOT)
    assignments = [a for a in course.assignments if a.hidden_suite.exists()]
    with tempfile.TemporaryDirectory(prefix="nn-grader-bench-reports-") as name:
        work = Path(name)
        import make_demo

        make_demo.build(course, work / "demo")
        build_class(work / "class", args.students, assignments,
                    templates(assignments, work / "demo"))
        settings = Settings(course_root=ROOT, secret=read_secret(course.secret_file),
                            jobs=args.jobs)
        started = time.monotonic()
        try:
            run = grade_folder(work / "class", course, settings)
        finally:
            close_sandboxes()
        grading = time.monotonic() - started
        roster = tuple(RosterEntry(f"s{i:04d}", name=f"Student {i}", email=f"s{i}@uni.edu")
                       for i in range(args.students))
        started = time.monotonic()
        paths = write_reports(run, work / "out", titles={a.id: a.title for a in assignments},
                              calls=reference_calls(course), roster=roster)
        rendering = time.monotonic() - started
    ratio = rendering / grading
    print(f"reports bench: {args.students} students x {len(assignments)} assignments = "
          f"{len(run.results)} submissions, --jobs {args.jobs} on {os.cpu_count()} cores")
    print(f"  grading   {grading:8.1f} s")
    print(f"  rendering {rendering:8.1f} s  ({len(paths.files)} files)")
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"  rendering / grading = {100 * ratio:.1f}% (target <= {100 * TARGET:.0f}%: "
          f"{verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Screenshots of summary.html's first screen for docs/reports.md (PNG, 1280 x 900).

    python bench/screenshots.py [--out docs/img] [--students 200] [--variants N] [--jobs N]

Two classes:

- ``summary-demo.png``: the demo class, graded as README's demo command grades it (``grade
  demo/submissions --out OUT``, a subprocess).
- ``summary-class.png``: a generated class of ``--students`` students (a roster of them; every
  40th handed in nothing), each handing in, per assignment, one of bench/run.py's variants (the
  demo class's notebooks and the mutants in tests/mutants/), drawn as bench/run.py's
  ``build_class`` draws them. Each distinct variant is graded once, for real (``grade_folder``,
  the sandboxed workers); every student holding it gets that result (grading is deterministic;
  bench/run.py's copies differ only by a comment naming the student), and the reports of the
  whole class are written by ``write_reports``, as ``grade`` writes them.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright; nothing is downloaded.
``--variants`` keeps only the first N variants per assignment (the test runs it small).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "demo"), str(BENCH)]

from run import templates  # noqa: E402

from grader.core.course import load_course  # noqa: E402
from grader.core.roster import RosterEntry  # noqa: E402
from grader.core.settings import Settings, read_secret  # noqa: E402
from grader.report import write_reports  # noqa: E402
from grader.report.calls import reference_calls  # noqa: E402
from grader.run.grading import close_sandboxes, grade_folder  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 900}
MISSING_EVERY = 40


def demo_summary(work: Path) -> Path:
    out = work / "demo-out"
    done = subprocess.run([sys.executable, "-m", "grader.cli", str(ROOT / "demo" / "submissions"),
                           "--out", str(out), "-q"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if done.returncode not in (0, 1):  # 1: some submission failed, which the demo means to show
        raise SystemExit(f"grade on the demo class failed ({done.returncode}): {done.stderr}")
    return out / "summary.html"


def class_summary(work: Path, students: int, variants: int | None, jobs: int) -> Path:
    course = load_course(ROOT)
    assignments = [a for a in course.assignments if a.hidden_suite.exists()]
    import make_demo

    make_demo.build(course, work / "demo")
    found = {a: v[:variants] if variants else v
             for a, v in templates(assignments, work / "demo").items()}
    # one folder per distinct variant, graded once
    unique = work / "variants"
    for a in assignments:
        for k, (name, data, _) in enumerate(found[a.id]):
            path = unique / f"v{k:03d}_{a.id}" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    settings = Settings(course_root=ROOT, secret=read_secret(course.secret_file), jobs=jobs)
    try:
        graded = grade_folder(unique, course, settings)
    finally:
        close_sandboxes()
    by_variant = {(r.assignment, r.student): r for r in graded.results}
    # the class: student i hands in variant (5i + 3k) mod n of assignment k (bench/run.py's
    # draw); every MISSING_EVERY-th student hands in nothing
    results = []
    for i in range(students):
        if i % MISSING_EVERY == MISSING_EVERY - 1:
            continue
        for k, a in enumerate(assignments):
            variant = (i * 5 + k * 3) % len(found[a.id])
            source = by_variant[(a.id, f"v{variant:03d}_{a.id}")]
            results.append(dataclasses.replace(source, student=f"s{i:04d}"))
    run = dataclasses.replace(graded, results=tuple(results))
    roster = tuple(RosterEntry(f"s{i:04d}", name=f"Student {i}", email=f"s{i}@uni.edu")
                   for i in range(students))
    out = work / "class-out"
    write_reports(run, out, titles={a.id: a.title for a in assignments},
                  calls=reference_calls(course), roster=roster)
    return out / "summary.html"


def shoot(page_path: Path, png: Path) -> Path:
    from playwright.sync_api import sync_playwright

    png.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(page_path.resolve().as_uri())
            page.screenshot(path=str(png), full_page=False)
        finally:
            browser.close()
    return png


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--variants", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nn-grader-screenshots-") as name:
        work = Path(name)
        for png, page in (("summary-demo.png", demo_summary(work)),
                          ("summary-class.png", class_summary(work, args.students,
                                                              args.variants, args.jobs))):
            print(f"wrote {shoot(page, args.out / png)} from {page.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

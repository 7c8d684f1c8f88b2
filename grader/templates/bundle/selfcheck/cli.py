"""``python -m selfcheck``: the public checks of notebooks, from a terminal or CI."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from grader.core.text import md_fence
from selfcheck.kernel import CheckResult
from selfcheck.public import (
    ASSIGNMENTS,
    BUNDLE,
    Outcome,
    assignment_of,
    check_file,
    find_notebook,
    functions_of,
)


def markdown_report(outcomes: list[Outcome]) -> str:
    """The public checks' results as Markdown (for a CI step summary)."""
    lines = ["## Public checks (advisory)", "",
             "These are the easy public tests only; the course grader decides the score.", ""]
    for outcome in outcomes:
        passed = sum(t.status == "passed" for t in outcome.tests)
        where = f"`{outcome.notebook.name}`" if outcome.notebook else "no notebook found"
        lines.append(f"### {outcome.assignment}: {passed}/{len(outcome.tests)} passed ({where})")
        lines.append("")
        text = CheckResult(outcome.assignment, outcome.tests, notes=outcome.notes,
                           functions=functions_of(outcome.assignment)).details()
        fence = md_fence(text)
        lines += [fence, text, fence, ""]
    return "\n".join(lines)


def targets(names: list[str], parser: argparse.ArgumentParser) -> list[tuple[str, Path | None]]:
    """(assignment, notebook) per argument: an assignment id, or a notebook or .py file."""
    if not names:
        return [(a, find_notebook(BUNDLE / a, a)) for a in ASSIGNMENTS if (BUNDLE / a).is_dir()]
    found: list[tuple[str, Path | None]] = []
    for name in names:
        path = Path(name)
        if name in ASSIGNMENTS:
            found.append((name, find_notebook(BUNDLE / name, name)))
        elif path.is_file():
            assignment = assignment_of(path)
            if assignment not in ASSIGNMENTS:
                parser.error(f"{name}: cannot tell its assignment; put it in an assignment "
                             "folder")
            found.append((str(assignment), path))
        else:
            parser.error(f"{name}: neither an assignment ({', '.join(ASSIGNMENTS)}) "
                         "nor a notebook file")
    return found


def show(outcome: Outcome) -> None:
    """The grader's own words (grader.core.feedback): one cause line per function, the
    functions not attempted yet on one line, the notes on loading the notebook."""
    where = f" ({outcome.notebook.name})" if outcome.notebook else ""
    passed = sum(t.status == "passed" for t in outcome.tests)
    print(f"{outcome.assignment}{where}: {passed}/{len(outcome.tests)} public checks passed")
    if outcome.error:
        print(f"  {outcome.error}")
    print(CheckResult(outcome.assignment, outcome.tests, notes=outcome.notes,
                      functions=functions_of(outcome.assignment)).details())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m selfcheck",
        description="Run the public checks on your notebooks, loaded as the grader loads them.")
    parser.add_argument("targets", nargs="*", metavar="ASSIGNMENT_OR_NOTEBOOK",
                        help="assignment folders or notebook files (default: every folder)")
    parser.add_argument("--strict", action="store_true",
                        help="kept for old workflows: a failed check always exits 1 now")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE",
                        help="also write every result to FILE as JSON")
    options = parser.parse_args(argv)
    outcomes: list[Outcome] = []
    for assignment, notebook in targets(options.targets, parser):
        if notebook is None:
            print(f"{assignment}: no notebook found in {assignment}/")
            outcomes.append(Outcome(assignment, None))
            continue
        outcome = check_file(notebook, assignment)
        outcomes.append(outcome)
        show(outcome)
    failed = any(not o.passed or o.notebook is None for o in outcomes)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(markdown_report(outcomes) + "\n")
    if options.json is not None:
        options.json.write_text(json.dumps([o.as_json() for o in outcomes], indent=1),
                                encoding="utf-8")
    return 1 if failed else 0

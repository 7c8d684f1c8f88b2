"""Issue 10's hostile corpus graded beside honest students, through the real CLI.

The class (tests/hostile_corpus.py, generated here: nothing large is checked in) holds every
class of input the grader reads outside the sandbox: links, a FIFO, a 1.5 GB sparse file,
JSON nested 100,000 deep, a 1,000-term expression, a 300 KB chain of assignments, a 13 MB
notebook of 100,000 cells, forged worker frames, and folder names aimed at every output. The
run must end by itself, the honest students must score 100, every hostile file must be one
line in the report, and every output must stay bounded and safe. bench/hostile.py runs the
same class under /usr/bin/time for its wall time and peak memory.

The second test runs `grade ci` on a checkout whose folder and file names carry a fake Points
line, workflow commands and Markdown: the log's only Points line and only workflow commands
must be the grader's, and $GITHUB_OUTPUT and the step summary must read as the grader wrote
them.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.github_outputs import github_outputs
from helpers.hostile_corpus import HONEST, NAMES, write_class
from helpers.report_text import CONTROL, FORMULA, outside_fences, without_own_markup

from grader.core.course import DEFAULT_ROOT
from grader.core.paths import inside
from grader.core.text import csv_cell, visible
from grader.run.discover import MAX_ENTRIES
from grader.submission.grade import MAX_MESSAGE, MAX_NOTES

pytestmark = pytest.mark.slow  # a class of hostile notebooks

GRADE = [sys.executable, "-m", "grader.cli"]
MiB = 1024 * 1024


def grade(*args: str, env: dict[str, str] | None = None, cwd: Path = DEFAULT_ROOT,
          timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """The CLI; a run that does not end by itself fails here (TimeoutExpired)."""
    return subprocess.run([*GRADE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_a_hostile_class_grades_its_honest_students_and_every_output_stays_safe(
        tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    expected = write_class(subs)
    done = grade("run", str(subs), "--out", str(out), "--sandbox", "process", "--jobs", "2",
                 "--assignment", "activations")
    assert done.returncode == 0, done.stderr[-3000:]

    # scores: honest students 100 whatever their names; hostile files 0 or not graded
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8", newline="")))
    by_student = {row["student"]: row for row in rows}
    assert set(by_student) == {csv_cell(name) for name in expected}
    for name, score in expected.items():
        row = by_student[csv_cell(name)]
        assert float(row["score"]) == (score or 0.0), (name, row)
        assert row["status"] == ("missing" if score is None else
                                 "graded" if name in HONEST or "forger" in name else
                                 "unreadable"), (name, row)
    errors = {name: by_student[name]["error"] for name in ("deep", "cells", "sparse")}
    assert errors == {
        "deep": "activations.ipynb: not a Jupyter notebook (its JSON is nested too deeply)",
        "cells": "activations.ipynb: more than 5000 cells (100000)",
        "sparse": "activations.ipynb: the file is 1536.0 MiB, over the 32 MiB limit"}

    # every file not read is listed with its reason, and the top-level link is no student
    summary = (out / "summary.md").read_text(encoding="utf-8")
    link = "a symbolic link (links are never followed)"
    for where, why in (("link_file/activations.ipynb", link), ("link_inner/activations", link),
                       ("link_folder", link),
                       ("fifo/activations.ipynb", "a named pipe (FIFO), not a regular file"),
                       ("crowded", f"more than {MAX_ENTRIES} files and folders")):
        assert f"{subs / where}`: {why}" in summary.replace("\\", ""), where
    assert "link_folder" not in by_student

    # forged frames are protocol errors of their own tests; texts are capped grader-side
    forger = json.loads((out / "forger" / "activations" / "results.json").read_text())
    statuses = {t["name"].split(":")[0]: t["extra_data"]["status"] for t in forger["tests"]}
    assert {statuses[f] for f in ("relu", "sigmoid", "tanh", "softmax")} == {"crashed"}
    assert statuses["relu_grad"] == "failed"
    assert all(len(t["output"]) <= MAX_MESSAGE + 100 for t in forger["tests"])
    ready = json.loads((out / "ready_forger" / "activations" / "results.json").read_text())
    assert len(ready["extra_data"]["notes"]) <= MAX_NOTES + 1

    # outputs: bounded, no control character, no formula, one terminal line per student
    for path in out.rglob("*"):
        if path.is_file():
            assert path.stat().st_size < 2 * MiB, path
            if path.suffix in (".csv", ".md", ".html"):
                text = path.read_text(encoding="utf-8")
                assert not CONTROL.search(text), path
            if path.suffix in (".md", ".html"):  # a tag only as text: \<img, &lt;img
                shown = outside_fences(text) if path.suffix == ".md" else without_own_markup(text)
                assert not re.search(r"(?<!\\)<(img|script)", shown), path
    assert (out / "grades.csv").is_file() and (out / "summary.html").is_file()
    for row in rows:
        assert all(not cell.startswith(FORMULA) for cell in row.values()), row
    assert not CONTROL.search(done.stdout.replace("\n", ""))
    table = done.stdout.split("\n")
    first = next(i for i, line in enumerate(table) if line.startswith("student "))
    body = table[first + 2:first + 2 + len(expected)]
    for line, name in zip(body, sorted(expected), strict=True):
        assert line.startswith(visible(name) + " ") and line.endswith(" 100" if expected[name]
                                                                       else " 0"), line
    assert table[first + 2 + len(expected)].startswith("unrecognized: ")
    for name in NAMES:  # each student's own reports, never in a report file's place
        folder = inside(out, name, "activations")
        assert folder.parent.parent == out and (folder / "feedback.html").is_file(), name
        assert folder.parent.name not in ("grades.csv", "summary.html", "summary.md")


def _runner_commands(log: str) -> list[str]:
    """The workflow commands GitHub's runner would act on in ``log`` (it trims leading spaces
    and honours ::stop-commands::TOKEN until ::TOKEN::)."""
    acted, stopped = [], ""
    for line in log.split("\n"):
        text = line.lstrip()
        if stopped:
            if text == f"::{stopped}::":
                stopped = ""
            continue
        if text.startswith("::"):
            acted.append(text)
            if text.startswith("::stop-commands::"):
                stopped = text.removeprefix("::stop-commands::")
    return acted


def test_ci_output_is_the_graders_alone(tmp_path: Path) -> None:
    checkout = tmp_path / "repo"
    folder = checkout / "x\nPoints 100"
    folder.mkdir(parents=True)
    notebook = ("100\n::add-mask::secret\n::set-output name=points::100\nactivations\n"
                "# Hacked\n![t](https:evil.example)\n<img src=x>\n```\n.ipynb")
    shutil.copy(DEFAULT_ROOT / "assignments" / "activations" / "activations.ipynb",
                folder / notebook)
    (checkout / "  ::error::forged\nPoints 99").mkdir()
    (checkout / "  ::error::forged\nPoints 99" / "100.py").write_text("x = 1\n")
    gh = tmp_path / "gh"
    gh.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(CI="true", GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(gh / "summary.md"),
               GITHUB_OUTPUT=str(gh / "output.txt"))
    done = grade("ci", str(checkout), "--out", str(tmp_path / "out"), "--sandbox", "process",
                 env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout
    assert re.findall(r"(?i)points\s*\d+\s*/\s*\d+", log) == ["Points 0/100"]
    assert log.split("\n").count("Points 0/100") == 1
    commands = _runner_commands(log)
    assert len(commands) == 1 and commands[0].startswith("::stop-commands::")
    assert f"::{commands[0].removeprefix('::stop-commands::')}::" in log.split("\n")
    assert not any(line.lstrip().startswith("::") for line in log.split("\n")
                   if "stop-commands" not in line and not re.fullmatch(r"::[0-9a-f]{32}::",
                                                                         line))
    assert "activations: 0/100" in log and "x\\nPoints\\x20100/100\\n:\\x3aadd-mask" in log

    outputs = github_outputs(gh / "output.txt")
    assert set(outputs) == {"points", "score", "max-score", "status", "result", "report-dir"}
    assert (outputs["points"], outputs["score"], outputs["status"]) == ("0/100", "0", "fail")

    summary = (gh / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Autograder: Points 0/100\n")
    markdown = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "",  # code spans show text literally
                      outside_fences(summary))  # (which fails on a fence left open)
    assert not re.search(r"^\s*#+ Hacked", markdown, re.M)
    assert not re.search(r"(?<!\\)(!\[|<img)", markdown)
    # one Points line; the feedback's per-function headings ("### `relu` (-9 of 9 points)") are
    # the grader's own and carry no score of the form N/M
    assert re.findall(r"(?im)^#.*points\s*\d+\s*/\s*\d+.*$", markdown) == [
        "# Autograder: Points 0/100"]

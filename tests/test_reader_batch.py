"""One reader child reads all of a student's files (grader.extract.children.Reading,
grader.extract.isolate.read_submissions; issue 32: a fork per file was most of discovery's
cost), and answers exactly as a child per file would: for any sequence of files that read,
fail, crash their reader or leave state behind that breaks the next, each answer is the one
that file gets alone; a file that runs out of time is read once, and the files after it are
still read. Discovery keeps two students' readers under way at once (the next student's
folder is walked and its reader started before this one's answers are awaited)."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.core.course import Assignment
from grader.core.files import ReadLimits
from grader.extract import children
from grader.extract.children import Reading, run_isolated
from grader.extract.isolate import read_submission, read_submissions
from grader.run.discover import discover

Job = Callable[[], dict[str, Any]]
#: state a job leaves in its reader child (a fresh child starts without it)
_LEFT: dict[str, bool] = {}
LIMITS = ReadLimits(timeout_s=5.0)


def _job(kind: str, index: int, log: Path | None = None) -> Job:
    def job() -> dict[str, Any]:
        if log is not None:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{index}\n")
        if kind == "litter":  # reads fine, and leaves what breaks a "fussy" file after it
            _LEFT["litter"] = True
        elif kind == "fussy" and _LEFT.get("litter"):
            raise MemoryError
        elif kind == "broken":
            raise RecursionError
        elif kind == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        elif kind == "slow":
            time.sleep(30)
        return {"file": index, "pid_is_child": os.getpid() != _PARENT}
    return job


_PARENT = os.getpid()
KINDS = st.sampled_from(["ok", "litter", "fussy", "broken", "crash"])


@settings(max_examples=30, deadline=None)
@given(kinds=st.lists(KINDS, max_size=7))
def test_each_answer_is_the_one_its_file_gets_alone(kinds: list[str]) -> None:
    jobs = [_job(kind, i) for i, kind in enumerate(kinds)]
    together = Reading(jobs, LIMITS).answers()
    alone = [run_isolated(job, LIMITS) for job in jobs]
    assert together == alone
    assert all(answer.get("pid_is_child", True) for answer in together)  # never in the grader


def test_files_that_read_share_one_child(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []  # each child, with how many files it was given
    real = children._start_child
    monkeypatch.setattr(children, "_start_child",
                        lambda jobs, limits: started.append(len(jobs)) or real(jobs, limits))
    answers = Reading([_job(kind, i) for i, kind in
                        enumerate(["ok", "litter", "ok", "ok"])], LIMITS).answers()
    assert [a["file"] for a in answers] == [0, 1, 2, 3]
    assert started == [4]
    started.clear()
    # a file that fails after another is read again first in a fresh child, with the rest
    answers = Reading([_job(kind, i) for i, kind in
                        enumerate(["litter", "fussy", "ok"])], LIMITS).answers()
    assert [a.get("file") for a in answers] == [0, 1, 2]
    assert started == [3, 2]


def test_a_file_that_runs_out_of_time_is_read_once_and_the_rest_still_are(
        tmp_path: Path) -> None:
    log = tmp_path / "started"
    limits = ReadLimits(timeout_s=0.5)
    answers = Reading([_job(kind, i, log) for i, kind in
                        enumerate(["ok", "slow", "ok"])], limits).answers()
    assert answers[0]["file"] == 0 and answers[2]["file"] == 2
    assert answers[1] == {"failed": "reading it took longer than 0.5 s; it was stopped"}
    assert log.read_text().split() == ["0", "1", "2"]


def test_a_reader_that_crashes_is_named_for_the_file_it_was_on() -> None:
    answers = Reading([_job("crash", 0), _job("ok", 1)], LIMITS).answers()
    assert answers[0] == {"failed": "too large or too complex to read (the reader stopped: "
                                    "signal 9)"}
    assert answers[1]["file"] == 1


FUNCTIONS = {"activations": ("relu", "sigmoid"), "forward": ("forward", "mse_loss")}
GOOD = st.sampled_from(["def relu(x):\n    return x\n", "def forward(x):\n    return x\n",
                        "def sigmoid(x):\n    raise NotImplementedError\n", "def broken(:\n"])
#: what a hostile student hands in beside good files: JSON nested too deep to read, cells
#: that are not text, a file that is not JSON at all
HOSTILE = st.sampled_from(["[" * 100_000 + "]" * 100_000,
                           json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                       "cells": [{"cell_type": "code", "source": 7}]}),
                           "\x00\xff not a notebook"])


@settings(max_examples=12, deadline=None)
@given(files=st.lists(st.one_of(GOOD.map(lambda s: ("good", s)),
                                HOSTILE.map(lambda s: ("hostile", s))), min_size=1, max_size=5))
def test_discovery_reads_a_students_files_as_each_alone(files: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        assignments = tuple(Assignment(id=name, title=name, functions=functions, root=root)
                            for name, functions in FUNCTIONS.items())
        folder = root / "class" / "s1"
        folder.mkdir(parents=True)
        for i, (kind, text) in enumerate(files):
            path = folder / f"activations_{i}.ipynb"
            if kind == "good":
                text = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                   "cells": [{"cell_type": "code", "metadata": {},
                                              "source": text, "outputs": [],
                                              "execution_count": None}]})
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
        found = discover(root / "class", assignments)
        by_name = {s.path.name: s.extraction for s in found.submissions}
        assert len(by_name) == len(files)  # each named by its file name: graded, none lost
        each = read_submissions([(folder / name, "activations") for name in sorted(by_name)],
                                FUNCTIONS)
        for name, together in zip(sorted(by_name), each, strict=True):
            alone = read_submission(folder / name, FUNCTIONS, "activations")
            assert together == alone
            if by_name[name] is not None:
                assert by_name[name] == alone


def _class(root: Path, students: int) -> tuple[Path, tuple[Assignment, ...]]:
    assignments = tuple(Assignment(id=name, title=name, functions=functions, root=root)
                        for name, functions in FUNCTIONS.items())
    for i in range(students):
        folder = root / "class" / f"s{i}"
        folder.mkdir(parents=True)
        for name in FUNCTIONS:
            (folder / f"{name}.py").write_text("def relu(x):\n    return x\n")
    return root / "class", assignments


def test_the_next_students_reader_starts_before_this_ones_answers_are_awaited(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    start, finish = children._start_child, children._finish_child
    monkeypatch.setattr(children, "_start_child", lambda jobs, limits: events.append(
        f"start {len(jobs)}") or start(jobs, limits))
    monkeypatch.setattr(children, "_finish_child", lambda child, count, limits: events.append(
        "answers") or finish(child, count, limits))
    folder, assignments = _class(tmp_path, 3)
    found = discover(folder, assignments)
    assert events == ["start 2", "start 2", "answers", "start 2", "answers", "answers"]
    assert [(s.student, s.assignment) for s in found.submissions] == [
        (f"s{i}", name) for i in range(3) for name in sorted(FUNCTIONS)]


def test_no_reader_child_outlives_an_interrupted_discovery(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.run import discover as discovering

    pids: list[int] = []
    start = children._start_child

    def recorded(jobs: Any, limits: ReadLimits) -> Any:
        child = start(jobs, limits)
        pids.append(child.pid)
        return child

    walked: list[int] = []
    real_start_files = discovering._start_files

    def interrupted(*args: Any) -> Any:
        walked.append(1)
        if len(walked) == 2:  # the first student's reader is still under way
            raise KeyboardInterrupt
        return real_start_files(*args)

    monkeypatch.setattr(children, "_start_child", recorded)
    monkeypatch.setattr(discovering, "_start_files", interrupted)
    folder, assignments = _class(tmp_path, 3)
    with pytest.raises(KeyboardInterrupt):
        discover(folder, assignments)
    assert len(pids) == 1
    with pytest.raises(ChildProcessError):  # killed and reaped: not even a zombie is left
        os.waitpid(pids[0], os.WNOHANG)

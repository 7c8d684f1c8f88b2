"""The benchmark's baselines, run on a sample of the synthetic class at ``--jobs`` at a time.

    naive      a fresh ``python -m pytest`` per submission (bench/naive_plugin.py)
    nbconvert  ``jupyter nbconvert --execute`` of the notebook with the suite appended
    floor      the grader's own grade_job with the in-process double, in warm processes

Each runs the same hidden suite with the grader's fixtures, seeds and scoring, so its scores
equal the grader's; only how it runs differs.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.core.course import Assignment
from grader.extract.pipeline import extract_module
from grader.extract.read import read_cells
from grader.submission.plugin import derive_seed

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

@dataclass(frozen=True)
class Entry:
    """One file of the synthetic class."""

    student: str
    assignment: Assignment
    path: Path
    sampleable: bool



@dataclass
class Baseline:
    name: str
    wall_s: float
    durations: dict[tuple[str, str], float]
    scores: dict[tuple[str, str], float | None]
    available: str = ""  # why not, when it could not run


def _score(text: str) -> float | None:
    for line in reversed(text.splitlines()):
        if line.startswith("BENCH_SCORE "):
            return float(line.split()[1])
    return None


def pytest_args(a: Assignment) -> list[str]:
    hidden = a.hidden_suite.parent
    return ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore",
            "--rootdir", str(hidden), "-c", str(hidden / "pytest.ini"), str(a.hidden_suite)]


def run_pool(name: str, sample: list[Entry], jobs: int, one) -> Baseline:
    durations: dict[tuple[str, str], float] = {}
    scores: dict[tuple[str, str], float | None] = {}

    def timed(entry: Entry) -> None:
        started = time.monotonic()
        score = one(entry)
        durations[(entry.student, entry.assignment.id)] = time.monotonic() - started
        scores[(entry.student, entry.assignment.id)] = score

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(timed, sample))
    return Baseline(name, time.monotonic() - started, durations, scores)


def prepare(entry: Entry, work: Path, secret: str) -> tuple[Path, int]:
    module = extract_module(read_cells(entry.path), entry.assignment.functions)
    statements = work / "modules" / f"{entry.student}-{entry.assignment.id}.json"
    statements.parent.mkdir(parents=True, exist_ok=True)
    statements.write_text(json.dumps(list(module.statements)))
    return statements, derive_seed(secret, entry.student, entry.assignment.id)


def naive(sample: list[Entry], work: Path, secret: str, jobs: int) -> Baseline:
    prepared = {id(e): prepare(e, work, secret) for e in sample}

    def one(entry: Entry) -> float | None:
        statements, seed = prepared[id(entry)]
        env = {**os.environ, "BENCH_STUDENT": str(statements), "BENCH_SEED": str(seed),
               "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)])}
        run = subprocess.run([sys.executable, "-m", "pytest", "-p", "naive_plugin",
                              *pytest_args(entry.assignment)], env=env, cwd=work,
                             capture_output=True, text=True, timeout=300, check=False)
        return _score(run.stdout)

    return run_pool("naive (fresh python -m pytest)", sample, jobs, one)


def nbconvert_problem() -> str:
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists() and shutil.which("jupyter") is None:
        return "jupyter is not installed"
    try:
        import ipykernel  # noqa: F401
        import nbconvert  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed"
    return ""


def as_notebook(entry: Entry) -> nbformat.NotebookNode:
    if entry.path.suffix == ".ipynb":
        return nbformat.read(entry.path, as_version=4)
    blocks = entry.path.read_text().split("\n# %%\n")
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(b) for b in blocks])


def nbconvert(sample: list[Entry], work: Path, secret: str, jobs: int) -> Baseline:
    problem = nbconvert_problem()
    if problem:
        return Baseline("nbconvert --execute", 0.0, {}, {}, available=problem)
    jupyter = Path(sys.executable).with_name("jupyter")
    command = str(jupyter) if jupyter.exists() else "jupyter"
    folder = work / "nbconvert"
    folder.mkdir(parents=True, exist_ok=True)
    prepared = {}
    for entry in sample:
        nb = as_notebook(entry)
        seed = derive_seed(secret, entry.student, entry.assignment.id)
        statements = list(extract_module(read_cells(entry.path),
                                         entry.assignment.functions).statements)
        nb.cells.append(nbformat.v4.new_code_cell(
            "import sys\n"
            f"sys.path[:0] = [{str(BENCH)!r}, {str(ROOT)!r}]\n"
            "import naive_plugin, pytest\n"
            f"naive_plugin.STATEMENTS = {statements!r}\n"
            f"naive_plugin.SEED = {seed}\n"
            f"pytest.main({['-p', 'naive_plugin', *pytest_args(entry.assignment)]!r})\n"))
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        path = folder / f"{entry.student}-{entry.assignment.id}.ipynb"
        nbformat.write(nb, path)
        prepared[id(entry)] = path

    def one(entry: Entry) -> float | None:
        path = prepared[id(entry)]
        executed = path.with_suffix(".out.ipynb")
        subprocess.run([command, "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
                        "--ExecutePreprocessor.timeout=120", "--output", executed.name,
                        str(path)], cwd=folder, capture_output=True, text=True, timeout=600,
                       check=False)
        if not executed.exists():
            return None
        last = nbformat.read(executed, as_version=4).cells[-1]
        text = "".join(o.get("text", "") for o in last.get("outputs", ()))
        return _score(text)

    return run_pool("nbconvert --execute (nbgrader)", sample, jobs, one)


# The floor: warm processes, the grader's own grade_job with the in-process sandbox double.
_FLOOR: dict = {}


def _floor_init(secret: str, warm: list[tuple[str, str, str]]) -> None:
    from grader.core.course import load_course as load
    from grader.core.settings import Settings
    from grader.sandbox.inprocess import InProcessSandbox
    from grader.submission.grade import Job, grade_job

    _FLOOR["course"] = load(ROOT)
    _FLOOR["settings"] = Settings(course_root=ROOT, sandbox="inprocess", secret=secret)
    _FLOOR["sandbox"] = InProcessSandbox()
    _FLOOR["Job"], _FLOOR["grade_job"] = Job, grade_job
    for entry in warm:  # first use of each suite: imports, pytest's collection, and
        _floor_one(*entry)  # (training) an optimizer's first step, as a long run has them


def _floor_one(student: str, assignment_id: str, path: str) -> tuple[float, float]:
    job = _FLOOR["Job"](student, _FLOOR["course"].get(assignment_id), Path(path), "file name")
    started = time.monotonic()
    result = _FLOOR["grade_job"](job, _FLOOR["settings"], _FLOOR["sandbox"])
    return time.monotonic() - started, result.score


def floor(sample: list[Entry], secret: str, jobs: int) -> Baseline:
    import multiprocessing

    firsts = {e.assignment.id: e for e in reversed(sample)}  # each assignment's first entry
    warm = [(e.student, e.assignment.id, str(e.path)) for e in firsts.values()]
    context = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context,
                                                initializer=_floor_init,
                                                initargs=(secret, warm)) as pool:
        list(pool.map(time.sleep, [0.2] * jobs))  # every process started and warm
        started = time.monotonic()
        outcomes = list(pool.map(_floor_one, [e.student for e in sample],
                                 [e.assignment.id for e in sample], [str(e.path) for e in sample]))
        wall = time.monotonic() - started
    keys = [(e.student, e.assignment.id) for e in sample]
    return Baseline("in-process floor (no isolation)", wall,
                    {k: d for k, (d, _) in zip(keys, outcomes, strict=True)},
                    {k: s for k, (_, s) in zip(keys, outcomes, strict=True)})

"""Benchmark: one student's grade from a cold start, as a ratio to importing torch.

    python bench/latency.py [--repeat 3] [--student alice] [--paths grade,ci,gradescope,selfcheck]
                            [--no-phases] [--work DIR]

What a student waits for is one submission graded from a cold start (a push, a Gradescope
upload, a self-check). Absolute seconds say little about a shared or slow machine, so every
path is measured against ``python -c "import torch, numpy"`` in the same run: the baseline
and each path are run in turn, ``--repeat`` rounds interleaved, and the median of each is
compared. The paths, each a fresh process on the demo student's four notebooks, with a fresh
output folder (no cache) each round:

    grade        ``grade CLASS --out OUT``, CLASS holding only that student
    ci           ``grade ci FOLDER --out OUT`` on a folder of the four notebooks
    gradescope   ``grade gradescope-run --root ROOT`` (what run_autograder calls), ROOT made
                 from ``grade gradescope``'s zip (setup.sh's venv is not built: this Python)
    selfcheck    ``python -m selfcheck`` in a ``grade release`` bundle, run the way a student
                 runs it (grader not installed: the bundle's vendored copy)

Then (unless ``--no-phases``) one more ``grade --jobs 1`` (``grade`` alone grades the four
notebooks in a pool of ``--jobs`` processes, whose phases a child cannot see) and ``grade ci``
run in a child that times
where the time goes: importing the CLI, reading the notebooks (discovery), starting the
zygote and importing numpy and torch meanwhile (prestart), waiting for the zygote, extracting
the notebooks, running the suites, writing the reports (of which drawing the class
histograms), and Python's start and exit around it all. Phases may
overlap (a zygote started while extraction runs), so they need not add up to the wall time.

Measured as installed: the commands' Python may write byte code (a pip install compiles the
grader; a first run caches the suites' assertion rewriting), and one untimed round runs first.

Prints /proc/loadavg before and after: ratios are comparable only between runs on a machine
equally loaded. Exits 0 whatever the figures; 1 only when a path failed to run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import work_folder

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "submissions"
BASELINE = "torch"
PATHS = ("grade", "ci", "gradescope", "selfcheck")
#: (phase name, module, attribute): the functions the phase child times
PHASES = (("discovery", "grader.run.discover", "discover_view"),  # every path's discovery
          # the zygote started (not awaited) and the suites' numpy and torch imported here
          ("prestart", "grader.run.local", "prestart"),
          ("zygote start", "grader.sandbox.zygote", "Zygote.__init__"),
          # the wait for a prestarted zygote's imports (inside the suites' time): what the
          # overlap with extraction and the suites' imports did not hide
          ("  zygote wait", "grader.sandbox.zygote", "Zygote.await_ready"),
          ("extraction", "grader.submission.grade", "load_student_module"),
          ("suites", "grader.submission.grade", "run_suite"),
          ("reports", "grader.report.write", "write_reports"),
          ("  class histograms", "grader.report.plots", "score_histogram"))
GRADER = [sys.executable, "-m", "grader.cli"]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


Command = Callable[[int], list[str]]  # round number -> command line


def prepare(work: Path, student: str, paths: tuple[str, ...]) -> dict[str, Command]:
    """The files each path needs (made once, untimed), and for each path a function from the
    round number to its command line."""
    source = DEMO / student
    (work / "class").mkdir()
    shutil.copytree(source, work / "class" / student)
    shutil.copytree(source, work / "ci")
    commands: dict[str, Command] = {
        BASELINE: lambda _: [sys.executable, "-c", "import torch, numpy"]}
    if "grade" in paths:
        commands["grade"] = lambda n: [*GRADER, str(work / "class"), "--out",
                                       str(work / f"out_grade{n}"), "--quiet"]
    if "ci" in paths:
        commands["ci"] = lambda n: [*GRADER, "ci", str(work / "ci"), "--student", student,
                                    "--out", str(work / f"out_ci{n}")]
    if "gradescope" in paths:
        root = gradescope_root(work, source, student)
        commands["gradescope"] = lambda n: [*GRADER, "gradescope-run", "--root", str(root)]
    if "selfcheck" in paths:
        bundle = work / "bundle"
        subprocess.run([*GRADER, "release", str(bundle)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        notebooks = []
        for notebook in sorted(source.glob("*.ipynb")):  # the student's work over the stubs
            target = bundle / notebook.stem / notebook.name
            shutil.copy(notebook, target)
            notebooks.append(str(target))
        commands["selfcheck"] = lambda n: selfcheck_command(bundle, notebooks, work / f"sc{n}.json")
    return commands


def gradescope_root(work: Path, source: Path, student: str) -> Path:
    """A Gradescope root with the course's autograder unpacked and ``student``'s upload."""
    root = work / "autograder"
    archive = work / "autograder.zip"
    subprocess.run([*GRADER, "gradescope", str(archive)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root / "source")
    shutil.copytree(source, root / "submission")
    (root / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"email": f"{student}@example.edu", "id": 1}]}))
    return root


def selfcheck_command(bundle: Path, notebooks: list[str], report: Path) -> list[str]:
    """``python -m selfcheck --json REPORT NOTEBOOKS`` as a student runs it: no site
    processing (the grader is not installed), only the site-packages folders."""
    import site

    prelude = (f"import sys, runpy; sys.path[:0] = [{str(bundle)!r}]; "
               f"sys.path += {site.getsitepackages()!r}; "
               f"sys.argv = ['selfcheck', '--json', {str(report)!r}, *{notebooks!r}]; "
               "runpy.run_module('selfcheck', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-S", "-c", prelude]


#: The measured commands' environment: this one, but that Python may write byte code (as a
#: pip install compiles the grader's modules, and a first run caches the suites' assertion
#: rewriting; a PYTHONDONTWRITEBYTECODE left in a shell would have every run compile them)
ENVIRONMENT = {name: value for name, value in os.environ.items()
               if name != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False, env=ENVIRONMENT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}...: exit {done.returncode}: "
                           f"{done.stderr[-600:]}")
    return wall


def measure(commands: dict[str, Command], repeat: int,
            cwd: Path) -> dict[str, list[float]]:
    """Wall seconds of each command, ``repeat`` rounds, the commands interleaved, after one
    round untimed (round -1: what a first run caches, and the page cache)."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    for n in range(-1, repeat):
        for name, command in commands.items():
            wall = timed(command(n), cwd)
            if n >= 0:
                walls[name].append(wall)
    return walls


# ---------------------------------------------------------------------------- phases
def phase_child(argv: list[str], report: str) -> None:
    """Run the grader CLI on ``argv`` in this process, timing each of PHASES; write the
    seconds (summed over calls) as JSON to ``report``. Runs in a child process of its own."""
    import importlib
    import importlib.util

    started = time.perf_counter()
    spent: dict[str, float] = {"import the CLI": 0.0, **{phase: 0.0 for phase, *_ in PHASES}}
    from grader.cli.main import main

    spent["import the CLI"] = time.perf_counter() - started
    for phase, module_name, attribute in PHASES:
        module = importlib.import_module(module_name)
        owner_name, _, name = attribute.rpartition(".")
        owner: Any = getattr(module, owner_name) if owner_name else module
        original = getattr(owner, name)
        wrapped = _timer(original, phase, spent)
        setattr(owner, name, wrapped)
        for loaded in list(sys.modules.values()):  # `from X import f` made before the patch
            if getattr(loaded, "__name__", "").startswith("grader") and not owner_name:
                for key, value in list(vars(loaded).items()):
                    if value is original:
                        setattr(loaded, key, wrapped)
    code: object = 0
    try:
        main(argv, standalone_mode=False)
    except SystemExit as exc:
        code = exc.code
    finally:
        spent["wall"] = time.perf_counter() - started
        Path(report).write_text(json.dumps(spent))
    if importlib.util.find_spec("grader.cli.exit") is not None:  # the console script's end
        importlib.import_module("grader.cli.exit").finish(code)  # (older trees: Python's own)
    sys.exit(code)  # type: ignore[arg-type]


def _timer(function: Callable[..., Any], phase: str,
           spent: dict[str, float]) -> Callable[..., Any]:
    def timed_call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[phase] = spent.get(phase, 0.0) + time.perf_counter() - started
    return timed_call


def phases_of(argv: list[str], work: Path) -> dict[str, float]:
    report = work / "phases.json"
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import latency; "
            f"latency.phase_child({argv!r}, {str(report)!r})")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env=ENVIRONMENT)
    outside = time.perf_counter() - started
    spent = json.loads(report.read_text())
    # Python's start and the process's exit (atexit: the zygote closed, threads joined)
    spent["start and exit"] = outside - spent["wall"]
    return spent


# ---------------------------------------------------------------------------- report
def report_lines(walls: dict[str, list[float]]) -> list[str]:
    base = statistics.median(walls[BASELINE])
    lines = [f"{'path':<12} {'median s':>9} {'x torch':>8}   runs (s)",
             f"{'torch':<12} {base:9.2f} {1.0:8.2f}   "
             + " ".join(f"{w:.2f}" for w in walls[BASELINE])]
    for name, values in walls.items():
        if name != BASELINE:
            median = statistics.median(values)
            lines.append(f"{name:<12} {median:9.2f} {median / base:8.2f}   "
                         + " ".join(f"{w:.2f}" for w in values))
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (median of them)")
    parser.add_argument("--student", default="alice", help="the demo student")
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated, of "
                        + ", ".join(PATHS))
    parser.add_argument("--no-phases", action="store_true", help="skip the phase runs")
    parser.add_argument("--work", type=Path, default=None, help="keep the files here")
    args = parser.parse_args(argv)
    paths = tuple(p for p in args.paths.split(",") if p)
    unknown = [p for p in paths if p not in PATHS]
    if unknown or not (DEMO / args.student).is_dir():
        parser.error(f"unknown path {unknown} or demo student {args.student!r}")
    print(f"latency: loadavg before {loadavg()} ({os.cpu_count()} cpus)", flush=True)
    with work_folder(args.work, "latency-") as work:
        try:
            commands = prepare(work, args.student, paths)
            walls = measure(commands, args.repeat, ROOT)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"latency: a path failed: {exc}", file=sys.stderr)
            return 1
        print("\n".join(report_lines(walls)))
        if not args.no_phases and not print_phases(commands, args.repeat, work):
            return 1
    print(f"latency: loadavg after {loadavg()}")
    return 0


def print_phases(commands: dict[str, Command], repeat: int, work: Path) -> bool:
    """Print the phases of one more grade --jobs 1 and grade ci; False when one failed."""
    for name in ("grade", "ci"):
        if name not in commands:
            continue
        argv = commands[name](repeat)[len(GRADER):]
        if name == "grade":  # pool processes would time their phases unseen
            argv += ["--jobs", "1"]
        try:
            spent = phases_of(argv, work)
        except subprocess.CalledProcessError as exc:
            print(f"latency: the phases of {name} failed: exit {exc.returncode}",
                  file=sys.stderr)
            return False
        label = f"{name} --jobs 1" if name == "grade" else name
        print(f"phases of {label}: " + ", ".join(
            f"{phase.strip()} {seconds:.2f}" for phase, seconds in spent.items()))
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

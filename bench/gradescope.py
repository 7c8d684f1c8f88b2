"""Benchmark: what one Gradescope run costs (memory and time), to choose its settings.

    python bench/gradescope.py [--root DIR] [--students alice,bob,...]

Without ``--root``: builds the autograder for every assignment (``grade gradescope``),
unpacks it into a temporary Gradescope root and runs setup.sh there (torch from
``$GRADER_TORCH_INDEX`` when set, as setup.sh reads it). With ``--root``: uses that root,
already set up. Then, for each demo student, uploads their files, runs run_autograder and
samples its whole process tree: the peak of the summed proportional set size (PSS: shared
pages counted once, as a container's memory limit counts them) and the wall time.
Prints one line per student and the largest peak. Exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from common import tree_pss

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "submissions"


def set_up(base: Path) -> Path:
    """A Gradescope root under ``base`` with the full course's autograder installed."""
    root = base / "autograder"
    (root / "source").mkdir(parents=True)
    archive = base / "autograder.zip"
    subprocess.run([sys.executable, "-m", "grader.cli", "gradescope", str(archive)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    started = time.monotonic()
    subprocess.run(["bash", str(root / "source" / "setup.sh")], check=True,
                   env={**os.environ, "GRADER_GRADESCOPE_ROOT": str(root)},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"setup.sh: {time.monotonic() - started:.0f} s")
    return root


def measure(root: Path, student: str) -> tuple[float, float, int]:
    """(score, wall seconds, peak PSS bytes) of run_autograder on ``student``'s demo files."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.copytree(DEMO / student, root / "submission")
    (root / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"email": f"{student}@example.edu", "id": 1}]}))
    started = time.monotonic()
    child = subprocess.Popen([str(root / "run_autograder")], stdout=subprocess.DEVNULL,
                             env={**os.environ, "GRADER_GRADESCOPE_ROOT": str(root)})
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_pss(child.pid))
        time.sleep(0.05)
    wall = time.monotonic() - started
    document = json.loads((root / "results" / "results.json").read_text())
    return float(document["score"]), wall, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None,
                        help="a Gradescope root where setup.sh has run")
    parser.add_argument("--students", default="alice,bob,carol,dave,erin,frank")
    args = parser.parse_args()
    base = None
    root = args.root
    if root is None:
        base = Path(tempfile.mkdtemp(prefix="bench-gradescope-"))
        base.chmod(0o755)  # the worker's uid must reach the virtual environment
        root = set_up(base)
    try:
        peaks = []
        for student in args.students.split(","):
            score, wall, peak = measure(root, student)
            peaks.append(peak)
            print(f"{student}: score {score:g}, run_autograder {wall:.1f} s, "
                  f"peak memory {peak / 2**20:.0f} MiB (PSS of the process tree)")
        print(f"largest peak memory: {max(peaks) / 2**20:.0f} MiB")
    finally:
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Classroom 50 autograder for nn-grader, written by `grade classroom50 build`; do not edit.

Classroom 50's runner starts this script once per submission, in the student's checkout. It
finds or installs the bundled grader (nn-grader/, with CPU torch, in a virtual environment under
$RUNNER_TEMP), makes the bubblewrap sandbox usable where it can, and runs
`grade classroom50 grade`, which grades the checkout exactly as `grade ci` does and writes
./result.json, ./release-body.md and status/summary to $GITHUB_OUTPUT.

Exit 0: graded (the score is in result.json). Anything else is an infrastructure error:
Classroom 50 then posts an error status, never a score.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = json.loads((HERE / "nn-grader.json").read_text(encoding="utf-8"))
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
USERNS_SWITCH = Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
BWRAP_PROBE = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]


def has_grader(python: str) -> bool:
    """Whether ``python`` already imports this bundle's grader version."""
    probe = subprocess.run([python, "-c", "import grader; print(grader.__version__)"],
                           capture_output=True, text=True, check=False)
    return probe.returncode == 0 and probe.stdout.strip() == CONFIG["grader_version"]


def grader_python() -> str:
    """This Python when it has the grader (a local run, a prepared runner); else a new venv."""
    if has_grader(sys.executable):
        return sys.executable
    where = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / "nn-grader-venv"
    venv.create(where, with_pip=True, clear=True)
    python = str(where / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, f"torch=={CONFIG['torch']}", "--index-url", TORCH_INDEX], check=True)
    subprocess.run([*pip, str(HERE / "nn-grader")], check=True)
    return python


def as_root(*command: str) -> bool:
    """Run ``command`` as root (directly, or with passwordless sudo); True when it worked."""
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and shutil.which("sudo") is None:
        return False
    return subprocess.run([*prefix, *command], check=False).returncode == 0


def sandbox_level() -> str:
    """'bwrap' when bubblewrap works here (installing it and allowing user namespaces where
    this job may), else 'process' after saying why on the log."""
    if shutil.which("bwrap") is None:
        as_root("apt-get", "update", "-qq")
        as_root("apt-get", "install", "-y", "-qq", "bubblewrap")
    if USERNS_SWITCH.exists() and USERNS_SWITCH.read_text().strip() != "0":
        as_root("sysctl", "-w", "kernel.apparmor_restrict_unprivileged_userns=0")
    if shutil.which("bwrap") is not None:
        probe = subprocess.run(BWRAP_PROBE, capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return "bwrap"
        why = probe.stderr.strip()[:200]
    else:
        why = "bubblewrap is not installed"
    print(f"::warning::nn-grader: the bubblewrap sandbox does not work here ({why}); student "
          "code runs at the process level (docs/threat-model.md)", flush=True)
    return "process"


def main() -> int:
    python = grader_python()
    command = [python, "-m", "grader.cli", "classroom50", "grade",
               "--course", str(HERE / "course"), "--sandbox", sandbox_level()]
    for assignment in CONFIG["assignments"]:
        command += ["--assignment", assignment]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

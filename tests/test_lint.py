"""README's development rule: `ruff check .` is clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from grader.core.course import DEFAULT_ROOT


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    run = subprocess.run([*command, "check", "."], cwd=DEFAULT_ROOT, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stdout[-3000:]

"""bench/screenshots.py (docs/img's pictures of summary.html's first screen) runs end to end on
a small class in Debian's Chromium and writes two PNGs of the first screen, 1280 x 900, of a
size fit for the docs; docs/reports.md shows the committed ones."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.resources import needs

from grader.core.course import DEFAULT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.slow,
              needs(None if CHROMIUM.exists() else "not found (Debian package chromium)",
                    "Chromium")]
PICTURES = ("summary-demo.png", "summary-class.png")


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_the_screenshot_script_writes_the_first_screens(tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api")
    run = subprocess.run([sys.executable, str(DEFAULT_ROOT / "bench" / "screenshots.py"),
                          "--out", str(tmp_path), "--students", "12", "--variants", "2"],
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    for name in PICTURES:
        assert png_size(tmp_path / name) == (1280, 900)
        assert 20_000 < (tmp_path / name).stat().st_size < 600_000


def test_the_committed_screenshots_are_shown_in_the_docs() -> None:
    docs = (DEFAULT_ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    for name in PICTURES:
        committed = DEFAULT_ROOT / "docs" / "img" / name
        assert png_size(committed) == (1280, 900) and committed.stat().st_size < 600_000
        assert f"](img/{name})" in docs

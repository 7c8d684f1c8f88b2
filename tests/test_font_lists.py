"""A zygote that preloads matplotlib reads the font list the grader's matplotlib cached instead
of scanning the system's fonts (grader/sandbox/zygote.py: font_lists; grader/worker/warm.py:
write_font_lists): only files named as a font list, bounded, never a path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers.resources import needs_bwrap

from grader.core.settings import Limits
from grader.sandbox import make_sandbox
from grader.sandbox.zygote import font_lists
from grader.submission.proxy import StudentProxy
from grader.submission.session import WorkerSession
from grader.worker import warm

MARK = "GraderHandedFontList"


def _cache(tmp_path: Path) -> Path:
    """A matplotlib cache folder holding a real font list with one entry renamed to MARK."""
    import matplotlib
    from matplotlib import font_manager

    version = font_manager.FontManager.__version__
    source = Path(matplotlib.get_cachedir()) / f"fontlist-v{version}.json"
    if not source.is_file():
        font_manager.json_dump(font_manager.fontManager, source)
    data = json.loads(source.read_text(encoding="utf-8"))
    data["ttflist"][0]["name"] = MARK
    folder = tmp_path / "mplcache"
    folder.mkdir()
    (folder / source.name).write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_only_font_lists_are_handed_over_and_only_up_to_the_bound(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "fontlist-v390.json").write_text('{"a": 1}')
    (folder / "fontlist-v3.11.0.json").write_text("x" * 50)
    (folder / "tex.cache").mkdir()
    (folder / "notes.json").write_text("{}")
    (folder / "fontlist-v1.json.bak").write_text("{}")
    monkeypatch.setenv("MPLCONFIGDIR", str(folder))
    assert font_lists() == {"fontlist-v3.11.0.json": "x" * 50, "fontlist-v390.json": '{"a": 1}'}
    assert font_lists(max_chars=55) == {"fontlist-v3.11.0.json": "x" * 50}
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "none"))
    assert font_lists() == {}


def test_the_zygote_writes_only_font_lists_into_its_own_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "fontlist-v2.json").write_text("kept")
    monkeypatch.setenv("MPLCONFIGDIR", str(home))
    warm.write_font_lists({"fontlist-v1.json": "one", "../fontlist-v3.json": "out",
                                  "fontlist-v2.json": "over", "matplotlibrc": "backend: x",
                                  "fontlist-v4.json": 4})
    assert sorted(os.listdir(home)) == ["fontlist-v1.json", "fontlist-v2.json"]
    assert (home / "fontlist-v2.json").read_text() == "kept"
    assert not (tmp_path / "fontlist-v3.json").exists()
    warm.write_font_lists(["fontlist-v5.json"])  # not a mapping: nothing
    assert sorted(os.listdir(home)) == ["fontlist-v1.json", "fontlist-v2.json"]


@pytest.mark.slow  # a warm zygote that imports matplotlib
@needs_bwrap
def test_a_warm_worker_has_the_font_list_the_grader_cached(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLCONFIGDIR", str(_cache(tmp_path)))
    limits = Limits(memory_mb=1024, processes=32, test_timeout_s=20, load_timeout_s=30)
    module = ["from matplotlib import font_manager",
              "def fonts():\n    return sorted({f.name for f in font_manager.fontManager.ttflist})"]
    sandbox = make_sandbox("bwrap", warm=True, preload=("numpy", "matplotlib.pyplot"))
    try:
        session = WorkerSession(sandbox, limits, module)
        try:
            session.start_test()
            names = StudentProxy(session).fonts()
        finally:
            session.close()
    finally:
        sandbox.close()
    assert MARK in names and "DejaVu Sans" in names

"""Fixtures for ``python -m pytest``: each public test runs on its own folder's notebook.

``student`` holds the definitions of ``<assignment>/<assignment>.ipynb`` (or the newest other
notebook in that folder), loaded once per test session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selfcheck import ASSIGNMENTS, Student, find_notebook, load_notebook, seed_for

_loaded: dict[str, Student] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points the test is worth")


@pytest.fixture
def student(request: pytest.FixtureRequest) -> Student:
    folder = Path(str(request.path)).resolve().parent.parent
    assignment = folder.name
    if assignment not in ASSIGNMENTS:
        pytest.fail(f"{request.path}: not in an assignment's public/ folder")
    if assignment not in _loaded:
        notebook = find_notebook(folder, assignment)
        if notebook is None:
            pytest.fail(f"no notebook found in {folder}")
        _loaded[assignment] = Student(vars(load_notebook(notebook)), notebook.name)
    return _loaded[assignment]


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    return seed_for(request.node.name)


@pytest.fixture
def rng(seed: int) -> Any:
    import numpy as np

    return np.random.default_rng(seed)


@pytest.fixture
def device() -> str:
    return "cpu"

"""``python -m pytest`` here: each public test on its own folder's notebook, loaded and tested
with the grader's own code (selfcheck/plugin.py)."""

from __future__ import annotations

import pytest
from selfcheck.plugin import FolderPlugin


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(FolderPlugin(), "selfcheck-folders")

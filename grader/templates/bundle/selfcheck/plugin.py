"""``python -m pytest`` in the bundle: the grader's fixtures, each test on its folder's notebook.

``conftest.py`` registers :class:`FolderPlugin`, the grader's own suite plugin
(``grader.submission.plugin.SuitePlugin``) whose ``student`` is the notebook of the test's
assignment folder, loaded once as the grader loads it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.submission.plugin import PUBLIC_SEED, SuitePlugin
from grader.submission.proxy import StudentProxy
from grader.submission.student import load_student_module
from selfcheck.local import LocalSession
from selfcheck.public import ASSIGNMENTS, find_notebook, functions_of


class FolderPlugin(SuitePlugin):
    def __init__(self) -> None:
        super().__init__(PUBLIC_SEED, "cpu")
        self.sessions: dict[Path, LocalSession | None] = {}
        self.proxies: dict[Path, StudentProxy] = {}

    @staticmethod
    def folder_of(item: pytest.Item) -> Path:
        return Path(str(item.path)).resolve().parent.parent

    def session_for(self, item: pytest.Item) -> LocalSession | None:
        folder = self.folder_of(item)
        if folder not in self.sessions:
            notebook = find_notebook(folder, folder.name)
            if folder.name not in ASSIGNMENTS or notebook is None:
                self.sessions[folder] = None
            else:
                module, _ = load_student_module(notebook, functions_of(folder.name))
                self.sessions[folder] = LocalSession(list(module.statements))
        return self.sessions[folder]

    def proxy_for(self, item: pytest.Item) -> StudentProxy:
        folder = self.folder_of(item)
        session = self.session_for(item)
        if session is None:
            where = ("not in an assignment's public/ folder" if folder.name not in ASSIGNMENTS
                     else f"no notebook found in {folder}")
            pytest.fail(f"{item.path}: {where}")
        return self.proxies.setdefault(folder, StudentProxy(session))

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        for session in self.sessions.values():
            if session is not None:
                session.close()

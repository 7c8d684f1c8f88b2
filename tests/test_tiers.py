"""The test suite's own rules: what a missing machine resource does, and where skips may stand.

On CI (``CI=true``) a test that needs bubblewrap, cgroups, Chromium, root or a second user fails
where that is missing; elsewhere it is skipped (tests/helpers/resources.py). No test skips for
one of these by itself, which would bypass that rule.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import resources

HERE = Path(__file__).resolve().parent
#: a skip whose condition or reason names a machine resource
RESOURCE_SKIP = re.compile(r"(pytest\.skip\(|skipif\()[^)]*(bwrap|bubblewrap|cgroup|chromium"
                           r"|geteuid|IS_ROOT|root)", re.I | re.S)


def test_a_missing_resource_skips_here_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    resources.require(None, "bubblewrap")  # nothing missing: the test goes on
    monkeypatch.setattr(resources, "ON_CI", False)
    with pytest.raises(pytest.skip.Exception, match="needs bubblewrap: not found"):
        resources.require("not found", "bubblewrap")
    monkeypatch.setattr(resources, "ON_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true, and this test needs bubblewrap"):
        resources.require("not found", "bubblewrap")


def test_the_needs_mark_carries_what_require_is_given() -> None:
    mark = resources.needs("no writable cgroup tree", "cgroups").mark
    assert mark.name == "needs" and mark.args == ("no writable cgroup tree", "cgroups")


def test_no_test_skips_for_a_machine_resource_by_itself() -> None:
    offenders = []
    for path in sorted(HERE.rglob("*.py")):
        if path.parent.name in ("submissions", "cross", "honest") or path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(HERE)}: {m.group(0)[:60]!r}"
                      for m in RESOURCE_SKIP.finditer(text)]
    assert offenders == []


def test_test_modules_import_shared_helpers_only_from_the_helpers_package() -> None:
    """A helper two test files need lives in tests/helpers/, never in a test module (importing a
    test module runs its fixtures' module code and ties unrelated tests together)."""
    import ast

    tests = Path(__file__).parent
    local = {p.stem for p in tests.glob("*.py")} - {"conftest"}
    wrong = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            wrong += [f"{path.name}:{node.lineno} imports {n}" for n in names
                      if n.split(".")[0] in local]
    assert not wrong, wrong

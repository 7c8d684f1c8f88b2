"""The suite hash (part of every cache key, checked by cluster tasks) changes with anything that
decides a verdict: the suite, a course helper it imports (transitively), its folder's
pytest.ini, grader/suite/__init__.py and the grader's version; not with an unrelated file."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

import grader
from grader.core.course import load_course
from grader.suite import files as suite_files
from grader.suite.files import suite_hash

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def course(tmp_path: Path) -> Path:
    for part in ("assignments", "solutions"):
        shutil.copytree(ROOT / part, tmp_path / part)
    hidden = tmp_path / "solutions" / "hidden"
    (hidden / "nets").mkdir()
    (hidden / "nets" / "__init__.py").write_text("from .sizes import LAYERS\n")
    (hidden / "nets" / "sizes.py").write_text("LAYERS = (10, 50, 1)\n")
    (hidden / "tolerance.py").write_text("import numpy\nfrom nets import LAYERS\nRTOL = 1e-5\n")
    suite = hidden / "test_forward.py"
    suite.write_text("import tolerance\n" + suite.read_text())
    return tmp_path


def forward_hash(root: Path) -> str:
    return suite_hash(load_course(root).get("forward"))


def test_the_suite_files_are_followed_import_by_import(course: Path) -> None:
    hidden = course / "solutions" / "hidden"
    files = suite_files.suite_files(load_course(course).get("forward"))
    assert {p.relative_to(course.resolve()).as_posix() for p in files} == {
        "solutions/hidden/test_forward.py", "solutions/hidden/pytest.ini",
        "solutions/hidden/tolerance.py", "solutions/hidden/nets/__init__.py",
        "solutions/hidden/nets/sizes.py"}
    assert hidden.joinpath("test_training.py").resolve() not in files


@pytest.mark.parametrize("changed", ["solutions/hidden/tolerance.py",
                                     "solutions/hidden/nets/sizes.py",
                                     "solutions/hidden/pytest.ini",
                                     "solutions/hidden/test_forward.py"])
def test_changing_what_the_suite_uses_changes_the_hash(course: Path, changed: str) -> None:
    before = forward_hash(course)
    with (course / changed).open("a") as file:
        file.write("\n# changed\n")
    assert forward_hash(course) != before


def test_an_unrelated_file_leaves_the_hash(course: Path) -> None:
    before = forward_hash(course)
    with (course / "solutions" / "hidden" / "test_training.py").open("a") as file:
        file.write("\n# changed\n")
    assert forward_hash(course) == before


def test_the_suite_api_and_the_version_count(course: Path, tmp_path_factory: pytest.TempPathFactory,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before = forward_hash(course)
    api = tmp_path_factory.mktemp("api") / "suite.py"
    api.write_text(suite_files.SUITE_API.read_text() + "\n# changed\n")
    monkeypatch.setattr(suite_files, "SUITE_API", api)
    changed_api = forward_hash(course)
    monkeypatch.setattr(grader, "__version__", grader.__version__ + ".post1")
    assert len({before, changed_api, forward_hash(course)}) == 3


def _every_import(tree: ast.AST) -> set[tuple[int, str]]:
    """The imports found by visiting every node of the tree (what _imported walked before)."""
    found: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((0, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.add((node.level, base))
            found.update((node.level, f"{base}.{a.name}".strip(".")) for a in node.names)
    return found


@pytest.mark.slow  # parses about 300 files, the standard library's top level among them
def test_the_statement_walk_finds_every_import_a_walk_of_every_node_finds() -> None:
    """Over the course's suites, the grader's sources and the standard library's (imports
    nested in functions, classes, loops, try/except/finally, with and match blocks)."""
    sources = [*(ROOT / "solutions").rglob("*.py"), *(ROOT / "grader").rglob("*.py"),
               *Path(ast.__file__).parent.glob("*.py")]
    nested = 0
    for path in sources:
        try:
            tree = ast.parse(path.read_bytes())
        except SyntaxError:
            continue
        expected = _every_import(tree)
        assert set(suite_files._imported(tree)) == expected, path
        nested += len(expected - _every_import(ast.Module(
            body=[n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)],
            type_ignores=[])))
    assert len(sources) > 300 and nested > 100  # the corpus has imports below the top level

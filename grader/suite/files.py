"""What decides a score besides the submission: the files behind an assignment's suite hash.

A result is reused (the cache) or checked (a cluster task) by its suite hash. It covers every
file that can change what the hidden suite decides:

* the hidden suite, and every course file it imports, followed import by import (a helper
  module next to it, a package of the course), with ``conftest.py`` and ``pytest.ini`` of its
  folder;
* ``grader/suite/__init__.py``, the public suite API the suites are written against;
* the grader's version (``grader.__version__``, written once).

Imports are read from the source (``ast``), never executed; a name that is not a file of the
course (numpy, torch) adds nothing, nor does a module of the ``grader`` package (where the
course root is this checkout): the grader counts by its version and by ``grader/suite/__init__.py``.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import grader
from grader.core.course import Assignment
from grader.core.errors import CourseError

PACKAGE = Path(grader.__file__).resolve().parent
SUITE_API = PACKAGE / "suite" / "__init__.py"
FOLDER_FILES = ("conftest.py", "pytest.ini")


def _statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of ``body`` and of the blocks within it (functions, classes, loops,
    ``if``/``with``/``try``/``match``): an import is always a statement, so the expressions
    around them need not be walked (ast.walk visits every node: 2-3x the time)."""
    for node in body:
        yield node
        for block in (getattr(node, "body", None), getattr(node, "orelse", None),
                      getattr(node, "finalbody", None)):
            if isinstance(block, list):
                yield from _statements(block)
        for part in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
            yield from _statements(part.body)


def _imported(tree: ast.Module) -> list[tuple[int, str]]:
    """(level, dotted name) of every import; ``from . import x`` gives (1, "x")."""
    found: list[tuple[int, str]] = []
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            found.extend((0, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.append((node.level, base))
            found.extend((node.level, f"{base}.{a.name}".strip(".")) for a in node.names)
    return found


def _module_file(folder: Path, dotted: str) -> Path | None:
    if not dotted:
        return folder / "__init__.py" if (folder / "__init__.py").is_file() else None
    path = folder.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CourseError(f"{path}: cannot read a file of the suite: {exc.strerror}") from None


#: The imports of each source seen, by its content's hash: parsing is what a suite hash costs
#: (milliseconds per suite, several times per submission); the same bytes import the same names.
_IMPORTS: dict[bytes, list[tuple[int, str]]] = {}


def _imports_of(path: Path) -> list[tuple[int, str]]:
    """``_imported`` of the file's source (none when it does not parse: pytest reports it)."""
    source = _read(path)
    key = hashlib.sha256(source).digest()
    if key not in _IMPORTS:
        try:
            _IMPORTS[key] = _imported(ast.parse(source, filename=str(path)))
        except SyntaxError:
            _IMPORTS[key] = []
    return _IMPORTS[key]


def suite_files(assignment: Assignment) -> list[Path]:
    """The hidden suite, the course files it imports (transitively) and its folder's config."""
    suite = assignment.hidden_suite
    root = assignment.root.resolve()
    search = [suite.parent.resolve(), root]
    seen: list[Path] = []
    pending = [suite.resolve()]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.append(path)
        if path.suffix != ".py":
            continue
        for level, dotted in _imports_of(path):
            bases = search if level == 0 else [path.parents[level - 1]]
            for base in bases:
                found = _module_file(base, dotted)
                if found is None:
                    continue
                found = found.resolve()
                # the grader itself counts by its version and its suite API, not file by file
                if found.is_relative_to(root) and not found.is_relative_to(PACKAGE):
                    pending.append(found)
                break
    extra = [suite.parent / name for name in FOLDER_FILES if (suite.parent / name).is_file()]
    return sorted(set(seen) | {p.resolve() for p in extra})


def suite_entries(assignments: Sequence[Assignment]) -> dict[str, Path]:
    """What a bundle ships so that these assignments' suites run (Gradescope, Classroom 50):
    each one's :func:`suite_files`, by POSIX path relative to the course root. A missing
    hidden suite is a CourseError naming it."""
    entries: dict[str, Path] = {}
    for assignment in assignments:
        if not assignment.hidden_suite.is_file():
            raise CourseError(f"{assignment.hidden_suite}: hidden suite not found")
        root = assignment.root.resolve()
        for path in suite_files(assignment):
            entries[path.relative_to(root).as_posix()] = path
    return dict(sorted(entries.items()))


def suite_hash(assignment: Assignment) -> str:
    """A short hash of everything that decides the suite's verdicts (see the module docstring)."""
    if not assignment.hidden_suite.is_file():
        raise CourseError(f"{assignment.hidden_suite}: cannot read the hidden suite")
    digest = hashlib.sha256(f"grader {grader.__version__}\n".encode())
    root = assignment.root.resolve()
    for path in suite_files(assignment):
        name = path.relative_to(root) if path.is_relative_to(root) else path.name
        digest.update(f"{name}\n".encode())
        digest.update(hashlib.sha256(_read(path)).digest())
    # the author API under the label the hash has always used (it moved to grader/suite/)
    digest.update(b"grader/suite.py\n" + hashlib.sha256(_read(SUITE_API)).digest())
    return digest.hexdigest()[:16]

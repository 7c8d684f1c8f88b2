"""The grader's own modules that the student bundle ships, so its self-check runs our code.

The self-check (grader/templates/bundle/selfcheck/) imports the grader's extraction, worker loop and
pytest plugin from ``selfcheck/vendor/grader/``. ``release`` copies there the modules in
:data:`ROOTS` and every grader module they import when imported (module-level imports,
including those inside ``if``/``try`` blocks; imports inside functions run only when called),
with their packages' ``__init__.py``: whole files, unchanged, whatever they become.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterable
from pathlib import Path

import grader

#: What the self-check imports from the grader (grader/templates/bundle/selfcheck/*.py).
ROOTS = ("grader.submission.student", "grader.submission.plugin", "grader.worker.remote",
         "grader.core.settings", "grader.core.feedback", "grader.core.text", "grader.suite")
PACKAGE = Path(grader.__file__).resolve().parent
VENDOR = Path("selfcheck") / "vendor"


def module_file(name: str, package: Path = PACKAGE) -> Path | None:
    """``grader.a.b`` -> ``<package>/a/b.py`` or ``<package>/a/b/__init__.py``; None if neither."""
    parts = name.split(".")[1:]
    base = package.joinpath(*parts)
    candidates = [base / "__init__.py"]
    if parts:
        candidates.insert(0, base.with_suffix(".py"))
    return next((c for c in candidates if c.is_file()), None)


def _top_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements that run at import: the module body and its ``if``/``try`` blocks."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body + [s for h in node.handlers for s in h.body]
                                  + node.orelse + node.finalbody)


def imported_modules(name: str, path: Path) -> set[str]:
    """The ``grader.*`` modules that module ``name`` (at ``path``) imports when imported."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _top_level(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: ``from . import protocol``
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] == "grader" and module_file(m) is not None}


def closure(roots: Iterable[str] = ROOTS, package: Path = PACKAGE) -> list[Path]:
    """Every file that importing ``roots`` runs, as paths relative to the package's parent."""
    todo = list(roots)
    files: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        if name in files:
            continue
        path = module_file(name, package)
        if path is None:
            raise FileNotFoundError(f"{name}: no such grader module to ship")
        files[name] = path
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages
        todo.extend(imported_modules(name, path))
    return sorted(p.relative_to(package.parent) for p in files.values())


def ship(out: Path, package: Path = PACKAGE) -> list[Path]:
    """Copy the closure into ``out/selfcheck/vendor/``; the bundle paths written."""
    written = []
    for relative in closure(package=package):
        target = out / VENDOR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package.parent / relative, target)
        written.append(target)
    return written

"""``grade new ID``: scaffold an assignment that ``grade validate`` passes as generated.

Writes, from ``grader/templates/new/`` (shipped in the package; the example is one function,
``double(x)``)::

    assignments/<id>/assignment.toml          title, order, functions, the demo's bug for bob
    solutions/<id>.ipynb                      reference notebook, one solution region
    solutions/hidden/test_<id>.py             hidden suite: one test, imports only grader.suite
    assignments/<id>/public/test_<id>_public.py
    tests/mutants/<id>/*.py                   12 single-bug variants (# mutant: / # breaks:)
    tests/equivalents/<id>/*.py               3 correct variants
    assignments/<id>/<id>.ipynb               the stub, generated as ``grade stubs`` does

Nothing is written when the id is malformed or any of these paths exists already.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat

from grader.core.course import load_course, read_meta
from grader.core.errors import ConfigError, CourseError
from grader.core.paths import TEMPLATES_DIR
from grader.extract.stub import stub_text

#: Shipped in the grader's package, like the report and bundle templates.
TEMPLATES = TEMPLATES_DIR / "new"
#: A Python identifier in lower case: it names files, a module (test_<id>) and a CSV cell.
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
_EXAMPLE = "import numpy as np\n\n\ndef double(x):\n    {body}\n"


@dataclass(frozen=True)
class NewAssignment:
    """What ``grade new`` was asked for."""

    id: str
    title: str


def check_id(course_root: Path, assignment_id: str) -> None:
    """A ConfigError unless ``assignment_id`` is well formed and new to the course."""
    if not ID_PATTERN.fullmatch(assignment_id):
        raise ConfigError(f"grade new: bad id {assignment_id!r}: use a lower-case letter, then "
                          f"up to 39 lower-case letters, digits or '_'")
    taken = [path for path in planned_paths(course_root, assignment_id) if path.exists()]
    if taken:
        raise ConfigError(f"grade new: assignment {assignment_id!r} exists already: {taken[0]}")


def planned_paths(root: Path, assignment_id: str) -> tuple[Path, ...]:
    return (root / "assignments" / assignment_id, root / "solutions" / f"{assignment_id}.ipynb",
            root / "solutions" / "hidden" / f"test_{assignment_id}.py",
            root / "tests" / "mutants" / assignment_id,
            root / "tests" / "equivalents" / assignment_id)


def reference_notebook(env: jinja2.Environment, new: NewAssignment) -> str:
    cells = [nbformat.v4.new_markdown_cell(render(env, "intro.md.j2", new)),
             nbformat.v4.new_code_cell("import numpy as np"),
             nbformat.v4.new_code_cell(render(env, "solution.py.j2", new))]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    return nbformat.writes(notebook) + "\n"


def render(env: jinja2.Environment, name: str, new: NewAssignment, order: int = 0) -> str:
    text = env.get_template(name).render(id=new.id, title=new.title, order=order)
    return text if text.endswith("\n") else text + "\n"


def example_files(kind: str, entries: dict[str, list[str]]) -> dict[str, str]:
    """``{file name: source}`` for tests/mutants (kind "mutant") or tests/equivalents."""
    files = {}
    for name, (what, body) in entries.items():
        header = f"# {kind}: {what}\n" + ("# breaks: double\n" if kind == "mutant" else "")
        files[f"{name}.py"] = header + _EXAMPLE.format(body=body)
    return files


def scaffold(root: Path, new: NewAssignment) -> dict[Path, str]:
    """Every file of the new assignment with its text (the stub last: it needs the reference)."""
    templates = TEMPLATES
    if not (templates / "examples.toml").is_file():
        raise CourseError(f"{templates}: the templates of `grade new` are missing")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates),
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    order = max(_orders(root), default=0) + 1
    folder = root / "assignments" / new.id
    files = {
        folder / "assignment.toml": render(env, "assignment.toml.j2", new, order),
        root / "solutions" / f"{new.id}.ipynb": reference_notebook(env, new),
        root / "solutions" / "hidden" / f"test_{new.id}.py": render(env, "test_hidden.py.j2",
                                                                    new),
        folder / "public" / f"test_{new.id}_public.py": render(env, "test_public.py.j2", new),
    }
    examples = tomllib.loads((templates / "examples.toml").read_text(encoding="utf-8"))
    for kind, folder_name in (("mutant", "mutants"), ("equivalent", "equivalents")):
        for name, text in example_files(kind, examples[folder_name]).items():
            files[root / "tests" / folder_name / new.id / name] = text
    return files


def _orders(root: Path) -> list[int]:
    """The ``order`` of every assignment (load_course has checked they are whole numbers)."""
    return [read_meta(meta).get("order", 99)
            for meta in (root / "assignments").glob("*/assignment.toml")]


def new_assignment(root: Path, new: NewAssignment,
                   echo: Callable[[str], None] = print) -> list[Path]:
    """Scaffold ``new`` in the course at ``root``; return the files written."""
    load_course(root)  # a ConfigError/CourseError when root is no course or a file is broken
    check_id(root, new.id)
    files = scaffold(root, new)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    stub = load_course(root).get(new.id).stub
    stub.write_text(stub_text(root / "solutions" / f"{new.id}.ipynb", new.id), encoding="utf-8")
    written = [*files, stub]
    for path in written:
        echo(f"wrote {path.relative_to(root)}")
    echo(f"next: edit solutions/{new.id}.ipynb and solutions/hidden/test_{new.id}.py, then "
         f"`grade stubs` and `grade validate`; python demo/make_demo.py adds it to the demo")
    return written

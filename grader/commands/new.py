"""``grade new ID [--functions f,g]``: scaffold an assignment.

Without ``--functions`` it is a worked example that ``grade validate`` passes as generated (one
function, ``double(x)``); with ``--functions f,g`` every file names the instructor's functions
and has a ``TODO(grade new)`` where only the author can write something (the reference's bodies
and docstrings, the tests' expected values), which ``grade validate`` lists until it is done.

Writes, from ``grader/templates/new/`` (shipped in the package; ``new/functions/`` with
--functions)::

    assignments/<id>/assignment.toml          title, order, functions, the demo's bug for bob
    solutions/<id>.ipynb                      reference notebook, one solution region
    solutions/hidden/test_<id>.py             hidden suite: one test, imports only grader.suite
    assignments/<id>/public/test_<id>_public.py
    tests/mutants/<id>/*.py                   the example only: 12 single-bug variants
    tests/equivalents/<id>/*.py               the example only: 3 correct variants
    assignments/<id>/<id>.ipynb               the stub, generated as ``grade stubs`` does

Nothing is written when the id is malformed or any of these paths exists already.
"""

from __future__ import annotations

import keyword
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
#: A contract name: an identifier without "__" (hidden tests are test_<function>__<aspect>).
FUNCTION_PATTERN = re.compile(r"(?!.*__)[A-Za-z][A-Za-z0-9_]{0,59}")
_EXAMPLE = "import numpy as np\n\n\ndef double(x):\n    {body}\n"


@dataclass(frozen=True)
class NewAssignment:
    """What ``grade new`` was asked for."""

    id: str
    title: str
    functions: tuple[str, ...] = ()  # empty: the worked example, double(x)


def check_id(course_root: Path, assignment_id: str) -> None:
    """A ConfigError unless ``assignment_id`` is well formed and new to the course."""
    if not ID_PATTERN.fullmatch(assignment_id):
        raise ConfigError(f"grade new: bad id {assignment_id!r}: use a lower-case letter, then "
                          f"up to 39 lower-case letters, digits or '_'")
    taken = [path for path in planned_paths(course_root, assignment_id) if path.exists()]
    if taken:
        raise ConfigError(f"grade new: assignment {assignment_id!r} exists already: {taken[0]}")


def parse_functions(text: str) -> tuple[str, ...]:
    """``"f,g"`` -> ``("f", "g")``; a ConfigError for a malformed, keyword or repeated name."""
    names = tuple(name.strip() for name in text.split(","))
    for name in names:
        if not FUNCTION_PATTERN.fullmatch(name) or keyword.iskeyword(name):
            raise ConfigError(f"grade new: --functions: bad name {name!r}: use a Python "
                              f"identifier without '__' (letters, digits and '_')")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"grade new: --functions: {repeated[0]!r} is named twice")
    return names


def planned_paths(root: Path, assignment_id: str) -> tuple[Path, ...]:
    return (root / "assignments" / assignment_id, root / "solutions" / f"{assignment_id}.ipynb",
            root / "solutions" / "hidden" / f"test_{assignment_id}.py",
            root / "tests" / "mutants" / assignment_id,
            root / "tests" / "equivalents" / assignment_id)


def reference_notebook(env: jinja2.Environment, new: NewAssignment) -> str:
    """The intro, the imports, then one solution cell per function (the example: one)."""
    solutions = [render(env, "solution.py.j2", new, name=name)
                 for name in new.functions or ("double",)]
    cells = [nbformat.v4.new_markdown_cell(render(env, "intro.md.j2", new)),
             nbformat.v4.new_code_cell("import numpy as np"),
             *map(nbformat.v4.new_code_cell, solutions)]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    return nbformat.writes(notebook) + "\n"


def render(env: jinja2.Environment, template: str, new: NewAssignment, order: int = 0,
           **more: object) -> str:
    text = env.get_template(template).render(id=new.id, title=new.title, order=order,
                                             functions=list(new.functions),
                                             tests=split_points(new.functions), **more)
    return text if text.endswith("\n") else text + "\n"


def split_points(functions: tuple[str, ...], total: int = 100) -> list[tuple[str, int]]:
    """100 points split evenly over the functions (the first ones get the remainder)."""
    share, extra = divmod(total, max(len(functions), 1))
    return [(name, share + (k < extra)) for k, name in enumerate(functions)]


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
    if new.functions:
        templates = templates / "functions"
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
    if new.functions:  # no example corpus: validate derives mutants from the reference
        return files
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
    for line in next_steps(root, new):
        echo(line)
    return written


def next_steps(root: Path, new: NewAssignment) -> list[str]:
    """What is left to do, file by file, in order."""
    i = new.id
    demo = (root / "demo" / "make_demo.py").is_file()
    if not new.functions:
        steps = [f"this is a worked example, double(x), that `grade validate --assignment {i}` "
                 f"passes now; for your own functions, start over with `grade new {i} "
                 f"--functions f,g` (delete the files above first) or replace double in "
                 f"assignments/{i}/assignment.toml, solutions/{i}.ipynb, "
                 f"solutions/hidden/test_{i}.py, assignments/{i}/public/test_{i}_public.py "
                 f"and tests/mutants/{i}/ (tests/equivalents/{i}/ may go), then run "
                 f"`grade stubs` and `grade validate --assignment {i}`: it names every file "
                 f"still out of step"]
        if demo:
            steps.append("`python demo/make_demo.py` adds it to the demo class ([demo] bug in "
                         "assignment.toml is bob's bug)")
        return ["next:", *(f"  {k}. {text}" for k, text in enumerate(steps, start=1))]
    names = ", ".join(new.functions)
    steps = [f"solutions/{i}.ipynb: write the docstring and the solution of {names}, with "
             f"their real arguments",
             f"solutions/hidden/test_{i}.py: write what each test expects, add tests for more "
             f"aspects (named test_<function>__<aspect>) and share out the 100 points",
             f"assignments/{i}/public/test_{i}_public.py: an answer worked out by hand per "
             f"function",
             "`grade stubs`: the student notebook, from your reference",
             f"`grade validate --assignment {i}`: lists every TODO(grade new) left and every "
             f"file out of step, then grades the reference (100), the stub (0) and mutants it "
             f"derives from your reference"]
    if demo:
        steps.append(f"for the demo class: uncomment [demo] bug in assignments/{i}/"
                     f"assignment.toml, then `python demo/make_demo.py`")
    return ["next:", *(f"  {k}. {text}" for k, text in enumerate(steps, start=1))]

"""``grade init DIR [--from PATH]``: a new course folder, ready for ``grade validate``.

Writes, into DIR (which must be new or empty)::

    course.toml                     id (DIR's name), title, the grader versions, defaults
    .gitignore                      keeps solutions/course_secret and outputs out of git
    solutions/course_secret         a fresh random secret (32 bytes, hex)
    solutions/hidden/pytest.ini     the hidden suites' own pytest configuration
    assignments/example/ ...        one assignment, written as ``grade new example`` does
    push-grading/                   grade.yml (the grading runner), public-checks.yml (the
                                    students'), fetch-records.sh, and what to do with them

``--from PATH`` starts from the course at PATH instead of the example: its course.toml (with the
new id), assignments/, solutions/ and tests/mutants|equivalents/ are copied, never its secret.
Nothing is written outside DIR.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

import grader
from grader.commands.new import NewAssignment, new_assignment
from grader.core.course import load_course
from grader.core.course_config import COURSE_FILE, CourseConfig, read_course_config
from grader.core.errors import ConfigError
from grader.core.paths import TEMPLATES_DIR

INIT_TEMPLATES = TEMPLATES_DIR / "init"
#: The push-grading files: name in DIR/push-grading/ -> template under grader/templates/.
PUSH_GRADING = {"grade.yml": Path("github") / "grading.yml",
                "public-checks.yml": Path("github") / "student.yml",
                "fetch-records.sh": Path("github") / "fetch-records.sh"}
#: What --from copies from the source course (the secret never).
COPIED = ("assignments", "solutions", "tests/mutants", "tests/equivalents")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "course_secret")
EXAMPLE = NewAssignment(id="example", title="Example: double(x)")


@dataclass(frozen=True)
class InitRequest:
    """What ``grade init`` was asked for."""

    target: Path
    source: Path | None = None
    title: str | None = None


def course_id(target: Path) -> str:
    """DIR's name as a course id: letters, digits, - and _ (others become -)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", target.resolve().name).strip("-_")
    return name or "course"


def grader_range(version: str) -> str:
    """The versions a new course declares: this minor release line (0.1.x: >=0.1,<0.2)."""
    major, minor = (int(part) for part in version.split(".")[:2])
    return f">={major}.{minor},<{major}.{minor + 1}" if major == 0 else \
        f">={major}.{minor},<{major + 1}"


def init_course(request: InitRequest, echo: Callable[[str], None] = print) -> list[Path]:
    """Create the course; return the files written (relative to DIR)."""
    target = request.target
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target}: exists and is not an empty folder; `grade init` only "
                          "creates new courses")
    source = load_course(request.source) if request.source is not None else None
    target.mkdir(parents=True, exist_ok=True)
    (target / COURSE_FILE).write_text(course_toml(request, source.root if source else None),
                                      encoding="utf-8")
    read_course_config(target / COURSE_FILE)  # what init writes, grade reads
    if source is not None:
        for part in COPIED:
            if (source.root / part).is_dir():
                shutil.copytree(source.root / part, target / part, ignore=_SKIP)
    hidden = target / "solutions" / "hidden"
    hidden.mkdir(parents=True, exist_ok=True)
    if not (hidden / "pytest.ini").exists():
        (hidden / "pytest.ini").write_text(
            "[pytest]\n# The hidden suites run with this config only, never the course's.\n",
            encoding="utf-8")
    (target / "solutions" / "course_secret").write_text(secrets.token_hex(32) + "\n",
                                                         encoding="utf-8")
    shutil.copyfile(INIT_TEMPLATES / "gitignore", target / ".gitignore")
    _write_push_grading(target / "push-grading")
    (target / "assignments").mkdir(exist_ok=True)
    if source is None:
        new_assignment(target, EXAMPLE, echo=lambda _: None)
    written = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
    echo(f"created the course {target} ({len(written)} files); the secret is in "
         "solutions/course_secret (git ignores it: keep a copy)")
    echo(f"next: cd {target} && grade validate" + ("" if source else
         "; `grade new ID` adds an assignment"))
    return written


def course_toml(request: InitRequest, source: Path | None) -> str:
    """The new course.toml: the source's with the new id, or the template's."""
    new_id = course_id(request.target)
    if source is not None and (source / COURSE_FILE).is_file():
        text = (source / COURSE_FILE).read_text(encoding="utf-8")
        text, count = re.subn(r'(?m)^id\s*=\s*"[^"\n]*"', f'id = "{new_id}"', text, count=1)
        if count != 1:
            raise ConfigError(f"{source / COURSE_FILE}: no `id = \"...\"` line to replace")
        if request.title is not None:
            title = f"title = {json.dumps(request.title)}"
            text = re.sub(r'(?m)^title\s*=\s*"[^"\n]*"', lambda _: title, text, count=1)
        return text
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(INIT_TEMPLATES),
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["toml_str"] = json.dumps  # a JSON string is a TOML basic string
    defaults = CourseConfig()
    return env.get_template("course.toml.j2").render(
        id=new_id, title=request.title or new_id, grader=grader_range(grader.__version__),
        jobs=defaults.jobs, memory_mb=defaults.memory_mb, device="cpu",
        test_visibility="after_due_date", student_torch="cpu")


def _write_push_grading(folder: Path) -> None:
    folder.mkdir()
    for name, template in PUSH_GRADING.items():
        shutil.copyfile(TEMPLATES_DIR / template, folder / name)
    (folder / "fetch-records.sh").chmod(0o755)
    text = (INIT_TEMPLATES / "push-grading.md").read_text(encoding="utf-8")
    (folder / "README.md").write_text(text.replace("{{ version }}", grader.__version__),
                                      encoding="utf-8")

"""``course.toml``: what marks a folder as a course, and the defaults the course sets once.

    [course]
    id = "nn-intro"                 # letters, digits, - and _
    title = "Neural networks from scratch"
    grader = ">=0.1,<0.2"           # the nn-grader versions this course works with (PEP 440)

    [defaults]                      # each optional; a flag or GRADER_* variable overrides it
    jobs = 4                        # submissions graded in parallel (grade run)
    memory_mb = 2048                # memory per student process
    device = "cpu"                  # cpu, cuda or auto: torch device for the training suites
    test_visibility = "after_due_date"   # deprecated: write [visibility] default (below)

    [bundle]
    torch = "cpu"                   # the student bundle pins a CPU build of torch; "gpu": not

    [late]                          # deadlines and late policy (grader.core.deadline_files)
    [validate]                      # mutation_score (grader.commands.generated)
    [practice]                      # cooldown_minutes (grader.core.cooldown)
    [visibility]                    # per-test visibility (grader.core.visibility)

[late], [validate], [practice] and [visibility] are kept as written (``CourseConfig.late``
holds [late]) for the code that reads them.

When students see each test's details is set in one place, ``[visibility]`` (``default`` and
per-test patterns, applied on every path: grader.core.visibility). ``[defaults]
test_visibility`` is the older, Gradescope-only way: still read (it is the Gradescope build's
default for a course without ``[visibility]``) with a deprecation notice
(``CourseConfig.deprecated``), and an error when ``[visibility] default`` is set too.

Every key is optional (id: the folder's name; title: the id). Every known key is checked (type and
value); an unknown key or table is an error naming the file and the key, so a typo never
silently becomes a default.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

import grader
from grader.core.errors import ConfigError

COURSE_FILE = "course.toml"
DEVICES = ("cpu", "cuda", "auto")
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
STUDENT_TORCH = ("cpu", "gpu")
#: Tables read by their own code, kept as written here: [late] (deadlines,
#: grader.core.deadline_files), [validate] (grade validate's mutation score,
#: grader.commands.generated), [practice] (the practice cooldown, grader.core.cooldown),
#: [visibility] (which tests students see before the due date, grader.core.visibility).
PASSTHROUGH_TABLES = ("late", "validate", "practice", "visibility")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class CourseConfig:
    """The parsed ``course.toml`` (defaults: a course folder without one)."""

    id: str = "course"
    title: str = "course"
    grader: str = ""  # a PEP 440 specifier; "" = any version
    jobs: int | None = None
    memory_mb: int | None = None
    device: str | None = None
    test_visibility: str | None = None
    student_torch: str = "cpu"
    late: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: one line per deprecated key in use, for the verbs that read it to print
    deprecated: tuple[str, ...] = ()

    def limit_defaults(self) -> dict[str, int]:
        """The Limits fields this course sets (grader.core.settings.limits_from's defaults)."""
        return {} if self.memory_mb is None else {"memory_mb": self.memory_mb}


def read_course_config(path: Path, version: str | None = None) -> CourseConfig:
    """Parse and check ``path``; every problem is a one-line ConfigError naming file and key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: cannot read: {reason}") from None
    reader = _Reader(path, data)
    course = reader.table("course", ("id", "title", "grader"))
    defaults = reader.table("defaults", ("jobs", "memory_mb", "device", "test_visibility"))
    bundle = reader.table("bundle", ("torch",))
    unknown = sorted(set(data) - {"course", "defaults", "bundle", *PASSTHROUGH_TABLES})
    if unknown:
        raise ConfigError(f"{path}: unknown table or key {unknown[0]!r} (known: course, "
                          f"defaults, bundle, {', '.join(PASSTHROUGH_TABLES)})")
    for name in PASSTHROUGH_TABLES:
        if not isinstance(data.get(name, {}), dict):
            raise ConfigError(f"{path}: {name} must be a table ([{name}])")
    late = data.get("late", {})
    deprecated = _visibility_deprecation(path, defaults, data.get("visibility", {}))
    course_id = reader.text(course, "course.id", pattern=_ID) or path.resolve().parent.name
    config = CourseConfig(
        id=course_id,
        title=reader.text(course, "course.title") or course_id,
        grader=reader.text(course, "course.grader"),
        jobs=reader.whole(defaults, "defaults.jobs"),
        memory_mb=reader.whole(defaults, "defaults.memory_mb"),
        device=reader.choice(defaults, "defaults.device", DEVICES),
        test_visibility=reader.choice(defaults, "defaults.test_visibility", VISIBILITIES),
        student_torch=reader.choice(bundle, "bundle.torch", STUDENT_TORCH) or "cpu",
        late=MappingProxyType(dict(late)),
        deprecated=deprecated,
    )
    check_grader_version(path, config.grader, version or grader.__version__)
    return config


def _visibility_deprecation(path: Path, defaults: Mapping[str, Any],
                            visibility: Mapping[str, Any]) -> tuple[str, ...]:
    """[defaults] test_visibility: an error beside [visibility] default, else deprecated."""
    if "test_visibility" not in defaults:
        return ()
    if "default" in visibility:
        raise ConfigError(f"{path}: [defaults] test_visibility and [visibility] default both "
                          "say when students see test details; keep [visibility] default "
                          "(test_visibility is deprecated)")
    return (f"{path}: [defaults] test_visibility is deprecated (it sets Gradescope's builds "
            f"only): write [visibility] default = {json.dumps(defaults['test_visibility'])}, "
            "which applies on every path, or pass --test-visibility to grade gradescope",)


def check_grader_version(path: Path, spec: str, version: str) -> None:
    """``[course] grader`` must be a PEP 440 specifier that includes ``version``."""
    if not spec:
        return
    try:
        specifier = SpecifierSet(spec)
    except InvalidSpecifier:
        raise ConfigError(f"{path}: course.grader: {spec!r} is not a version specifier "
                          "(example: \">=0.1,<0.2\")") from None
    if not specifier.contains(Version(version), prereleases=True):
        raise ConfigError(f"{path}: course.grader: this course needs nn-grader {spec}, "
                          f"this is {version}")


class _Reader:
    """Typed reads of one course.toml's values, each error naming the file and the key."""

    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        self.path = path
        self.data = data

    def table(self, name: str, known: tuple[str, ...]) -> Mapping[str, Any]:
        table = self.data.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{self.path}: {name} must be a table ([{name}])")
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ConfigError(f"{self.path}: unknown key {name}.{unknown[0]} "
                              f"(known: {', '.join(known)})")
        return table

    def _get(self, table: Mapping[str, Any], key: str) -> Any:
        return table.get(key.split(".", 1)[1])

    def text(self, table: Mapping[str, Any], key: str, required: bool = False,
             pattern: re.Pattern[str] | None = None) -> str:
        value = self._get(table, key)
        if value is None:
            if required:
                raise ConfigError(f"{self.path}: missing key {key}")
            return ""
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.path}: {key} must be a non-empty string, not {value!r}")
        if pattern is not None and not pattern.fullmatch(value):
            raise ConfigError(f"{self.path}: {key}: {value!r} may hold only letters, digits, "
                              "- and _")
        return value

    def whole(self, table: Mapping[str, Any], key: str) -> int | None:
        value = self._get(table, key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{self.path}: {key} must be a whole number >= 1, not {value!r}")
        return value

    def choice(self, table: Mapping[str, Any], key: str,
               choices: tuple[str, ...]) -> str | None:
        value = self._get(table, key)
        if value is None:
            return None
        if value not in choices:
            raise ConfigError(f"{self.path}: {key} must be one of {', '.join(choices)}, "
                              f"not {value!r}")
        return str(value)

"""``autograder.json``: what ``grade gradescope`` decided, read back by run_autograder.

Plain JSON in the zip's root. Every value is checked when it is read back, with the file's
path in the message, so a hand-edited file fails the build of the image, not a student.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.core.errors import ConfigError
from grader.core.settings import Limits, limits_from

CONFIG_NAME = "autograder.json"
#: Gradescope's visibility values (its autograder specification, "Controlling Test Case
#: Visibility"): never shown, shown after the (late) due date, after grades are published,
#: always.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
#: Sandbox levels for student code (``auto``: bubblewrap where the container allows it).
SANDBOXES = ("auto", "bwrap", "process")


@dataclass(frozen=True)
class AutograderConfig:
    """The choices baked into one autograder zip."""

    assignments: tuple[str, ...]
    grader_version: str
    test_visibility: str = "after_due_date"
    stdout_visibility: str = "hidden"
    sandbox: str = "auto"
    limits: Limits = Limits()

    def __post_init__(self) -> None:
        if not self.assignments:
            raise ConfigError("the autograder grades no assignment")
        for name, value in (("--test-visibility", self.test_visibility),
                            ("--stdout-visibility", self.stdout_visibility)):
            if value not in VISIBILITIES:
                raise ConfigError(f"{name}: expected one of {', '.join(VISIBILITIES)}, "
                                  f"got {value!r}")
        if self.sandbox not in SANDBOXES:
            raise ConfigError(f"--sandbox: expected one of {', '.join(SANDBOXES)}, "
                              f"got {self.sandbox!r}")

    def to_json(self) -> str:
        data = asdict(self)
        data["assignments"] = list(self.assignments)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def read_config(path: Path) -> AutograderConfig:
    """Read ``autograder.json``; a missing or malformed file is a ConfigError naming it."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the autograder's settings: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    try:
        limits = limits_from(dict(data.get("limits", {})), env={})
        assignments = data["assignments"]
        if not isinstance(assignments, list) or not all(isinstance(a, str)
                                                        for a in assignments):
            raise ConfigError("assignments: expected a list of assignment ids")
        return AutograderConfig(
            assignments=tuple(assignments), grader_version=str(data["grader_version"]),
            test_visibility=str(data.get("test_visibility", "after_due_date")),
            stdout_visibility=str(data.get("stdout_visibility", "hidden")),
            sandbox=str(data.get("sandbox", "auto")), limits=limits)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: missing or malformed key {exc}") from None

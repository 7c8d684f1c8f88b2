"""One frozen settings object for a grading run, validated where values come in.

Each limit can come from a command-line flag, an environment variable ``GRADER_<NAME>`` or the
default, in that order. A bad value is a ConfigError whose message names its source
(``--memory-mb`` or ``GRADER_MEMORY_MB``), like pytest-timeout does for its ini and env values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from grader.errors import ConfigError

SANDBOX_LEVELS = ("auto", "bwrap", "process", "inprocess")
#: A test's budget when neither a flag, a marker nor a measurement gives one (grader.budgets).
DEFAULT_TEST_BUDGET_S = 60.0
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Limits:
    """Resource limits for the process that runs one submission's code.

    ``test_timeout_s`` None: each test's budget comes from the reference's own time on it
    (grader.budgets); a value overrides every budget."""

    memory_mb: int = 2048
    processes: int = 64
    test_timeout_s: float | None = None
    submission_timeout_s: float = 120.0
    load_timeout_s: float = 60.0
    output_bytes: int = 1024 * 1024
    message_bytes: int = 64 * 1024 * 1024
    file_size_mb: int = 16
    open_files: int = 256

    def worker_rlimits(self) -> dict[str, int]:
        """The rlimits the worker sets on itself (see grader.worker.remote.apply_limits)."""
        return {
            "memory_bytes": self.memory_mb * 1024 * 1024,
            "cpu_seconds": int(self.submission_timeout_s) + 5,
            "file_bytes": self.file_size_mb * 1024 * 1024,
            "open_files": self.open_files,
            "processes": self.processes,
        }


#: Help text per limit, shared by the CLI and README.
LIMIT_HELP = {
    "memory_mb": "memory a submission's worker may use, MiB",
    "processes": "processes and threads a worker may run",
    "test_timeout_s": "seconds for every test, overriding the budgets measured from the "
                      "reference",
    "submission_timeout_s": "wall-clock seconds for one submission's whole suite",
    "load_timeout_s": "wall-clock seconds to load a notebook's definitions",
    "output_bytes": "bytes of student output kept for the report",
    "message_bytes": "largest message the worker may send",
    "file_size_mb": "largest file a worker may write, MiB",
    "open_files": "open files per worker",
}


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def env_name(field_name: str) -> str:
    return "GRADER_" + field_name.upper()


def _parse_limit(name: str, raw: object, source: str, kind: type) -> int | float:
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{source}: {name} must be positive, got {raw!r}")
    return value


def limits_from(flags: Mapping[str, object], env: Mapping[str, str] | None = None) -> Limits:
    """Build Limits from flag values (None = not given), then ``GRADER_*`` variables."""
    env = os.environ if env is None else env
    values: dict[str, int | float] = {}
    for spec in fields(Limits):
        kind = float if "float" in str(spec.type) else int
        if flags.get(spec.name) is not None:
            source = flag_name(spec.name)
            values[spec.name] = _parse_limit(spec.name, flags[spec.name], source, kind)
        elif env_name(spec.name) in env:
            source = f"{env_name(spec.name)} (environment)"
            values[spec.name] = _parse_limit(spec.name, env[env_name(spec.name)], source, kind)
    return Limits(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Settings:
    """Everything a grading run needs to know, fixed before the first submission."""

    course_root: Path
    limits: Limits = Limits()
    sandbox: str = "auto"
    device: str = "cpu"
    jobs: int = 1
    secret: str = ""
    seed: int | None = None
    warm: bool = True

    def __post_init__(self) -> None:
        if self.sandbox not in SANDBOX_LEVELS:
            raise ConfigError(f"--sandbox: expected one of {', '.join(SANDBOX_LEVELS)}, "
                              f"got {self.sandbox!r}")
        if self.device not in DEVICES:
            raise ConfigError(f"--device: expected one of {', '.join(DEVICES)}, "
                              f"got {self.device!r}")
        if self.jobs < 1:
            raise ConfigError(f"--jobs: must be at least 1, got {self.jobs}")


def read_secret(path: Path, env: Mapping[str, str] | None = None) -> str:
    """The course secret: ``GRADER_SECRET`` if set, else the first line of ``path``."""
    env = os.environ if env is None else env
    if env.get("GRADER_SECRET"):
        return env["GRADER_SECRET"]
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the course secret ({exc.strerror}); "
                          "set GRADER_SECRET or create the file") from None
    if not secret:
        raise ConfigError(f"{path}: the course secret is empty")
    return secret


def resolve_device(name: str) -> str:
    """"auto" becomes "cuda" where torch sees a GPU, else "cpu"; "cuda" without one is an error.

    Only asks torch.cuda.is_available(), which does not initialise CUDA in this process.
    """
    if name == "cpu":
        return name
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if name == "cuda":
        raise ConfigError("--device cuda: torch sees no CUDA device on this machine")
    return "cpu"

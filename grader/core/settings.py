"""One frozen settings object for a grading run, validated where values come in.

Each limit can come from a command-line flag, an environment variable ``GRADER_<NAME>`` or the
default, in that order. A bad value is a ConfigError whose message names its source
(``--memory-mb`` or ``GRADER_MEMORY_MB``), like pytest-timeout does for its ini and env values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from grader.core.errors import ConfigError
from grader.core.files import MIB, ReadLimits

SANDBOX_LEVELS = ("auto", "bwrap", "process", "inprocess")
#: A test's budget when neither a flag, a marker nor a measurement gives one (grader.suite.budgets).
DEFAULT_TEST_BUDGET_S = 60.0
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Limits:
    """Resource limits for the process that runs one submission's code.

    ``test_timeout_s`` None: each test's budget comes from the reference's own time on it
    (grader.suite.budgets); a value overrides every budget. ``student_timeout_s``: the total
    for all the files one student hands in for one assignment (None: the submission's)."""

    memory_mb: int = 2048
    processes: int = 64
    test_timeout_s: float | None = None
    submission_timeout_s: float = 120.0
    load_timeout_s: float = 60.0
    output_bytes: int = 1024 * 1024
    message_bytes: int = 64 * 1024 * 1024
    file_size_mb: int = 16
    open_files: int = 256
    source_mb: int = 32
    read_timeout_s: float = 30.0
    student_timeout_s: float | None = None

    def student_budget_s(self) -> float:
        """Seconds for all the files of one student and assignment together (CPU time where
        cgroups count it, with a wall-clock backstop: grader.sandbox.clock)."""
        return (self.student_timeout_s if self.student_timeout_s is not None
                else self.submission_timeout_s)

    def worker_rlimits(self) -> dict[str, int]:
        """The rlimits the worker sets on itself (see grader.worker.remote.apply_limits)."""
        return {
            "memory_bytes": self.memory_mb * 1024 * 1024,
            "cpu_seconds": int(self.submission_timeout_s) + 5,
            "file_bytes": self.file_size_mb * 1024 * 1024,
            "open_files": self.open_files,
            "processes": self.processes,
        }

    def reader(self) -> ReadLimits:
        """The limits for reading and extracting one student file before any sandbox: its
        size, the time, and the memory (16 times the size cap, at least 1 GiB)."""
        return ReadLimits(max_bytes=self.source_mb * MIB, timeout_s=self.read_timeout_s,
                          memory_bytes=max(1024, 16 * self.source_mb) * MIB)


#: Help text per limit, shared by the CLI and README.
LIMIT_HELP = {
    "memory_mb": "memory a submission's worker may use, MiB",
    "processes": "processes and threads a worker may run",
    "test_timeout_s": "seconds for every test, overriding the budgets measured from the "
                      "reference",
    "submission_timeout_s": "seconds for one submission's whole suite (CPU time where "
                            "cgroups count it, with a wall-clock backstop)",
    "load_timeout_s": "seconds to load a notebook's definitions (counted like the "
                      "submission's)",
    "output_bytes": "bytes of student output kept for the report",
    "message_bytes": "largest message the worker may send",
    "file_size_mb": "largest file a worker may write, MiB",
    "open_files": "open files per worker",
    "source_mb": "largest notebook or .py file the grader reads, MiB",
    "read_timeout_s": "wall-clock seconds to read and extract one notebook",
    "student_timeout_s": "seconds for all the files one student hands in for one assignment "
                         "together, counted like the submission's (each next file gets what "
                         "is left)",
}
#: The default shown for a limit whose default is None.
NONE_DEFAULT = {"test_timeout_s": "measured per test",
                "student_timeout_s": "the submission timeout"}


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


def limits_from(flags: Mapping[str, object], env: Mapping[str, str] | None = None,
                defaults: Mapping[str, int | float] | None = None) -> Limits:
    """Build Limits from flag values (None = not given), then ``GRADER_*`` variables, then
    ``defaults`` (course.toml's), then the built-in values."""
    env = os.environ if env is None else env
    values: dict[str, int | float] = dict(defaults or {})
    for spec in fields(Limits):
        kind = float if "float" in str(spec.type) else int
        if flags.get(spec.name) is not None:
            source = flag_name(spec.name)
            values[spec.name] = _parse_limit(spec.name, flags[spec.name], source, kind)
        elif env_name(spec.name) in env:
            source = f"{env_name(spec.name)} (environment)"
            values[spec.name] = _parse_limit(spec.name, env[env_name(spec.name)], source, kind)
    return Limits(**values)  # type: ignore[arg-type]


SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
#: TLS file settings: field -> (flag, environment variable)
TLS_FILES = {"tls_ca_file": ("--tls-ca-file", "GRADER_TLS_CA_FILE"),
             "tls_cert": ("--tls-cert", "GRADER_TLS_CERT"),
             "tls_key": ("--tls-key", "GRADER_TLS_KEY")}
_ADDRESS = re.compile(r"(?:(tcp|tls)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})")


@dataclass(frozen=True)
class ClusterSettings:
    """Where ``grade --scheduler`` sends submissions (a Dask scheduler) and how it connects."""

    scheduler: str  # tcp://HOST:PORT or tls://HOST:PORT
    tls_ca_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def tls(self) -> bool:
        return self.scheduler.startswith("tls://")


def cluster_from(scheduler: str | None, tls_files: Mapping[str, str | None],
                 env: Mapping[str, str] | None = None) -> ClusterSettings | None:
    """The cluster to grade on: ``--scheduler``, else DASK_SCHEDULER_ADDRESS; None: locally.

    ``--scheduler ''`` grades locally even when the variable is set. ``tls_files`` maps the
    TLS_FILES fields to flag values (None = not given, then ``GRADER_TLS_*``). A ``tls://``
    address needs all three files; a ``tcp://`` one none.
    """
    env = os.environ if env is None else env
    source = "--scheduler"
    if scheduler is None and env.get(SCHEDULER_ENV):
        scheduler, source = env[SCHEDULER_ENV], f"{SCHEDULER_ENV} (environment)"
    if not scheduler:
        for name, (flag, _) in TLS_FILES.items():
            if tls_files.get(name):
                raise ConfigError(f"{flag}: only used with --scheduler tls://HOST:PORT")
        return None
    match = _ADDRESS.fullmatch(scheduler.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise ConfigError(f"{source}: expected tls://HOST:PORT, "
                          f"got {scheduler!r}")
    scheme = match.group(1) or "tcp"
    address = f"{scheme}://{match.group(2)}:{int(match.group(3))}"
    if scheme != "tls":  # whoever reaches a Dask scheduler runs code on its workers
        raise ConfigError(f"{source}: {address} is not authenticated: a Dask scheduler runs "
                          "whatever any client sends, on the workers holding the hidden suites, "
                          "so use tls://HOST:PORT with the course's certificates (--tls-ca-file, "
                          "--tls-cert, --tls-key), even on the loopback interface")
    files: dict[str, Path] = {}
    for name, (flag, variable) in TLS_FILES.items():
        raw, where = tls_files.get(name), flag
        if raw is None and env.get(variable):
            raw, where = env[variable], f"{variable} (environment)"
        if not raw:
            continue
        if scheme != "tls":
            raise ConfigError(f"{where}: given, but the scheduler {address} ({source}) is not "
                              "tls://; use a tls:// address to connect with TLS")
        files[name] = _readable_file(Path(raw), where)
    missing = [TLS_FILES[name][0] for name in TLS_FILES if name not in files]
    if scheme == "tls" and missing:
        raise ConfigError(f"{source}: a tls:// scheduler needs {', '.join(missing)} "
                          "(or GRADER_TLS_CA_FILE, GRADER_TLS_CERT, GRADER_TLS_KEY)")
    return ClusterSettings(scheduler=address, **files)


def _readable_file(path: Path, source: str) -> Path:
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"{source}: {path}: cannot read it ({exc.strerror})") from None
    return path


def local_jobs(jobs: int | None, cluster: ClusterSettings | None) -> int:
    """``--jobs`` of a local run (default: the cores); with a cluster, giving it is an error."""
    if cluster is not None:
        if jobs is not None:
            raise ConfigError("--jobs: not used with --scheduler (each Dask worker process "
                              "grades one submission at a time: start more workers)")
        return 1
    return jobs or os.cpu_count() or 1


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
    cluster: ClusterSettings | None = None
    #: the modules a warm zygote imports before it forks workers (None: numpy, torch and
    #: matplotlib.pyplot); grading decides it from the course (grader.run.preload)
    preload: tuple[str, ...] | None = None
    #: folders no worker may read (the course's solutions, the submissions, the output):
    #: hidden from it at the process level where they can be (grader.sandbox.private)
    private_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.sandbox not in SANDBOX_LEVELS:
            raise ConfigError(f"--sandbox: expected one of {', '.join(SANDBOX_LEVELS)}, "
                              f"got {self.sandbox!r}")
        if self.device not in DEVICES:
            raise ConfigError(f"--device: expected one of {', '.join(DEVICES)}, "
                              f"got {self.device!r}")
        if self.jobs < 1:
            raise ConfigError(f"--jobs: must be at least 1, got {self.jobs}")
        if self.cluster is not None and self.device == "auto":
            raise ConfigError("--device auto: with --scheduler, say cpu or cuda (this machine "
                              "cannot see the workers' GPUs)")


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

"""The messages between the grader (controller) and a worker: typed dataclasses, one per kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Controller -> worker


@dataclass(frozen=True)
class Load:
    """Execute the student's module: top-level statements, each on its own."""

    statements: list[str]
    threads: int = 1
    device: str = "cpu"
    #: the submission's seed: ``random``, numpy's and torch's global RNGs start from it, so
    #: that code using them (nn.Linear's initial weights) behaves the same on every run
    seed: int = 0


@dataclass(frozen=True)
class Call:
    """Call ``module.<target>`` (handle None) or ``handle.<target>`` ("" calls the handle)."""

    target: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    handle: int | None = None
    return_args: bool = False


@dataclass(frozen=True)
class GetAttr:
    """Read ``module.<name>`` (handle None) or ``handle.<name>``."""

    name: str
    handle: int | None = None


@dataclass(frozen=True)
class Probe:
    """Run suite-defined probe code in the worker: ``source`` defines ``probe(*args)``."""

    source: str
    args: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    """The grader's answer to a CallbackRequest."""

    value: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Shutdown:
    """Exit cleanly."""


# Worker -> controller


@dataclass(frozen=True)
class Started:
    """The worker is up, before any student code: a channel that fails earlier is the
    grader's failure, never the student's."""


@dataclass(frozen=True)
class Ready:
    """The module is loaded: the names it defines and the statements that failed."""

    defined: list[str]
    errors: list[str]


@dataclass(frozen=True)
class Result:
    """A call's value, and the arguments as they are after the call when asked for."""

    value: Any = None
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None


@dataclass(frozen=True)
class Failure:
    """Student code raised. ``traceback`` holds only the student's own frames."""

    error_type: str
    message: str
    traceback: str = ""
    not_implemented: bool = False


@dataclass(frozen=True)
class CallbackRequest:
    """The worker asks the grader to evaluate callback ``id`` with these arguments."""

    id: int
    args: list[Any] = field(default_factory=list)


MESSAGES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Load, Call, GetAttr, Probe, Reply, Shutdown, Started, Ready, Result, Failure,
                CallbackRequest)
}
Message = Any  # one of the dataclasses in MESSAGES (or CONTROL_MESSAGES)


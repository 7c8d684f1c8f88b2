"""The warm zygote's control messages (grader/worker/zygote.py).

One message per datagram on the zygote's control socket, framed as a worker message without
the outer length. Each message checks its field types, so a malformed one decodes to a
WireError, never to a value the zygote or grader would trip on later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: The name of a matplotlib font list (``fontlist-v390.json``, ``fontlist-v3.11.0.json``): the
#: only files the zygote's config may hand it (``font_lists``: name -> text), written into its
#: own matplotlib folder before it imports matplotlib (grader/sandbox/zygote.py: font_lists).
FONT_LIST = re.compile(r"fontlist-v[0-9][0-9A-Za-z.]*\.json")


def _check(message: Any, **kinds: type | tuple[type, ...]) -> None:
    for name, kind in kinds.items():
        value = getattr(message, name)
        allowed = kind if isinstance(kind, tuple) else (kind,)
        if type(value) not in allowed:
            raise TypeError(f"{type(message).__name__}.{name} is a {type(value).__name__}")


@dataclass(frozen=True)
class ZygotePing:
    """Grader -> zygote: are you there? (Answer: ZygotePong.)"""


@dataclass(frozen=True)
class ZygoteSpawn:
    """Grader -> zygote: fork a worker on the three fds sent with it (read, write, output).
    Answer: ZygoteSpawned or ZygoteError."""

    limits: dict[str, int]
    home: str | None = None  # the worker's home and working folder (uid mode)
    tmp_bytes: int = 0  # size of its /tmp and /dev/shm (namespaces mode)

    def __post_init__(self) -> None:
        _check(self, limits=dict, home=(str, type(None)), tmp_bytes=int)
        if any(type(k) is not str or type(v) is not int for k, v in self.limits.items()):
            raise TypeError("ZygoteSpawn.limits maps names to ints")


@dataclass(frozen=True)
class ZygoteStatus:
    """Grader -> zygote: a worker's wait status, waiting up to ``wait`` s for it to exit."""

    pid: int
    wait: float = 0.0

    def __post_init__(self) -> None:
        _check(self, pid=int, wait=(int, float))


@dataclass(frozen=True)
class ZygoteKill:
    """Grader -> zygote: SIGKILL a worker (answer: its ZygoteExit, once it has exited; with
    ``wait`` false at once, the zygote waiting for the exit before it reads the next request)."""

    pid: int
    wait: bool = True

    def __post_init__(self) -> None:
        _check(self, pid=int, wait=bool)


@dataclass(frozen=True)
class ZygoteReady:
    """Zygote -> grader, once, unasked: imports done; ``isolation``: why workers cannot be
    isolated here (None: they can)."""

    missing: list[str] = field(default_factory=list)
    isolation: str | None = None

    def __post_init__(self) -> None:
        _check(self, missing=list, isolation=(str, type(None)))


@dataclass(frozen=True)
class ZygotePong:
    """Zygote -> grader: the answer to ZygotePing."""


@dataclass(frozen=True)
class ZygoteSpawned:
    pid: int

    def __post_init__(self) -> None:
        _check(self, pid=int)


@dataclass(frozen=True)
class ZygoteExit:
    """A worker's wait status (``os.waitpid``'s), None while it runs."""

    status: int | None

    def __post_init__(self) -> None:
        _check(self, status=(int, type(None)))


@dataclass(frozen=True)
class ZygoteError:
    """Zygote -> grader: the request could not be done (or was not understood)."""

    error: str

    def __post_init__(self) -> None:
        _check(self, error=str)


CONTROL_MESSAGES: dict[str, type] = {
    cls.__name__: cls
    for cls in (ZygotePing, ZygoteSpawn, ZygoteStatus, ZygoteKill, ZygoteReady, ZygotePong,
                ZygoteSpawned, ZygoteExit, ZygoteError)
}


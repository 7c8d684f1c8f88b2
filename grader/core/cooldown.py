"""A cooldown on practice gradings: a token bucket per student (Gradescope's
``previous_submissions`` recipe for rate limits).

course.toml's ``[practice]`` table: ``cooldown_minutes`` (one grading comes back every this many
minutes) and ``burst`` (how many can be used back to back; default 1). Only gradings before
the due date are practice; from the due date on, every grading is graded.

The bucket is replayed over the student's earlier gradings in time order (a refused one used
no token), so the same history always gives the same answer, wherever it is computed.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.core.deadline_files import COURSE_FILE
from grader.core.deadlines import is_finite_number
from grader.core.errors import ConfigError

_EPS = 1e-9


@dataclass(frozen=True)
class Cooldown:
    minutes: float  # one grading comes back every this many minutes
    burst: int = 1  # the bucket's size


@dataclass(frozen=True)
class Allowance:
    """Whether a grading at ``now`` may run, how many are left after it, and when the next
    one comes back (None while one is available)."""

    allowed: bool
    left: int
    next_at: dt.datetime | None


def read_cooldown(root: Path) -> Cooldown | None:
    """``[practice]`` of ``root/course.toml``; None without one."""
    path = root / COURSE_FILE
    if not path.is_file():
        return None
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("practice")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if table is None:
        return None
    where = f"{path}: [practice]"
    if not isinstance(table, dict) or set(table) - {"cooldown_minutes", "burst"}:
        raise ConfigError(f"{where}: only cooldown_minutes and burst are known")
    minutes, burst = table.get("cooldown_minutes"), table.get("burst", 1)
    if not is_finite_number(minutes) or minutes <= 0:  # type: ignore[operator]
        raise ConfigError(f"{where}: cooldown_minutes must be a number > 0")
    if not isinstance(burst, int) or isinstance(burst, bool) or burst < 1:
        raise ConfigError(f"{where}: burst must be a whole number >= 1")
    return Cooldown(minutes=float(minutes), burst=burst)  # type: ignore[arg-type]


def allowance(cooldown: Cooldown, previous: Sequence[dt.datetime],
              now: dt.datetime) -> Allowance:
    """Replay the bucket over the ``previous`` gradings (those before ``now``), then ask at
    ``now``."""
    period = dt.timedelta(minutes=cooldown.minutes)
    full = float(cooldown.burst)
    tokens, last = full, None
    for moment in sorted(t for t in previous if t < now):
        if last is not None:
            tokens = min(full, tokens + (moment - last) / period)
        last = moment
        if tokens >= 1 - _EPS:  # this grading ran and used a token; a refused one did not
            tokens -= 1
    if last is not None:
        tokens = min(full, tokens + (now - last) / period)
    if tokens < 1 - _EPS:
        return Allowance(False, 0, now + (1 - tokens) * period)
    after = max(0.0, tokens - 1)
    left = math.floor(after + _EPS)
    return Allowance(True, left, None if left >= 1 else now + (1 - after) * period)

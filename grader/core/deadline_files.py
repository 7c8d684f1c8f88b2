"""The files deadlines come from: ``due`` in assignment.toml, ``[late]`` in course.toml, and
the ``--times``, ``--extensions`` and overrides CSV files.

Every bad value is a one-line ConfigError naming the file (and the CSV line); nothing is
guessed. Times are ISO 8601 with a UTC offset (``2026-10-05T23:59:00+02:00``, ``...Z``): a time
without one is refused, except a ``due`` with an assignment's ``timezone`` (an IANA name).
Students are matched case-insensitively (GitHub names are).

    course.toml   [late] penalty_per_day, penalty_per_hour, max_penalty, max_days, grace_days,
                         grace_days_per_assignment, counts ("last" or "best")
    --times       student,assignment,submitted_at
    --extensions  student,assignment,due,reason      (due: a date-time, or "+N" days)
    overrides     student,assignment,points,reason,who[,test]
    grace ledger  student,assignment,grace_days_used  (grades.csv of `grade` or `grade collect`)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib
import zoneinfo
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from grader.core.deadlines import COUNTS, Extension, LatePolicy, Override, is_finite_number
from grader.core.errors import ConfigError, CourseError

COURSE_FILE = "course.toml"
TIMES_COLUMNS = ("student", "assignment", "submitted_at")
EXTENSION_COLUMNS = ("student", "assignment", "due", "reason")
OVERRIDE_COLUMNS = ("student", "assignment", "points", "reason", "who")
LEDGER_COLUMNS = ("student", "assignment", "grace_days_used")
_POLICY_KEYS = {"penalty_per_day", "penalty_per_hour", "max_penalty", "max_days", "grace_days",
                "grace_days_per_assignment", "counts"}
MAX_ROWS = 100_000


def parse_time(value: object, where: str, zone: str = "") -> dt.datetime:
    """An aware date-time from ISO 8601 text or a TOML date-time; ``zone`` (an IANA name)
    gives a time without an offset its zone. Else a ConfigError ``where: ...``."""
    moment = value
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not an ISO 8601 date-time "
                              "(like 2026-10-05T23:59:00+02:00)") from None
    if not isinstance(moment, dt.datetime):
        raise ConfigError(f"{where}: {value!r} is not a date-time")
    if moment.tzinfo is None:
        if not zone:
            raise ConfigError(f"{where}: {value!s} has no UTC offset (write it like "
                              "2026-10-05T23:59:00+02:00)")
        try:
            moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{where}: unknown time zone {zone!r}") from None
    return moment


def read_due(meta: Mapping[str, Any], meta_path: Path) -> dt.datetime | None:
    """assignment.toml's ``due`` (with its optional ``timezone``), None when not set."""
    if "due" not in meta:
        return None
    zone = meta.get("timezone", "")
    if not isinstance(zone, str):
        raise CourseError(f"{meta_path}: timezone must be a name like 'Europe/Berlin'")
    try:
        return parse_time(meta["due"], f"{meta_path}: due", zone)
    except ConfigError as exc:
        raise CourseError(str(exc)) from None


def read_policy(root: Path) -> LatePolicy:
    """The ``[late]`` table of ``root/course.toml``; no file or no table: no late policy."""
    path = root / COURSE_FILE
    if not path.is_file():
        return LatePolicy()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("late", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: cannot read: {reason}") from None
    return policy_from_table(table, f"{path}: [late]")


def policy_from_table(table: object, where: str) -> LatePolicy:
    """A LatePolicy from a parsed ``[late]`` table; unknown keys and bad values are errors."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(table) - _POLICY_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: "
                          f"{', '.join(sorted(_POLICY_KEYS))})")
    values: dict[str, Any] = {}
    for key in ("penalty_per_day", "penalty_per_hour", "max_penalty", "max_days"):
        if key in table:
            value = table[key]
            if not is_finite_number(value) or value < 0:
                raise ConfigError(f"{where}: {key} must be a number >= 0, not {value!r}")
            values[key] = float(value)
    if values.get("max_penalty", 0.0) > 100:
        raise ConfigError(f"{where}: max_penalty is a percent, at most 100")
    for key in ("grace_days", "grace_days_per_assignment"):
        if key in table:
            grace = table[key]
            if not isinstance(grace, int) or isinstance(grace, bool) or grace < 0:
                raise ConfigError(f"{where}: {key} must be a whole number >= 0, not {grace!r}")
            values[key] = grace
    if "counts" in table:
        if table["counts"] not in COUNTS:
            raise ConfigError(f"{where}: counts must be one of {', '.join(COUNTS)}, "
                              f"not {table['counts']!r}")
        values["counts"] = table["counts"]
    return LatePolicy(**values)


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file with a header naming at least ``required``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip().lower() for h in reader.fieldnames or ()]
    missing = [c for c in required if c not in header]
    if missing:
        raise ConfigError(f"{path}: no {missing[0]!r} column in the header (needs "
                          f"{','.join(required)})")
    reader.fieldnames = header
    for count, row in enumerate(reader):
        if count >= MAX_ROWS:
            raise ConfigError(f"{path}: more than {MAX_ROWS} rows")
        if None in row:
            raise ConfigError(f"{path}: line {reader.line_num}: more cells than the header")
        cells = {k: (v or "").strip() for k, v in row.items()}
        if any(cells.values()):
            yield reader.line_num, cells


def _key(path: Path, line: int, row: Mapping[str, str], known: Collection[str]
         ) -> tuple[str, str]:
    student, assignment = row["student"], row["assignment"]
    if not student:
        raise ConfigError(f"{path}: line {line}: empty student")
    if known and assignment not in known:
        raise ConfigError(f"{path}: line {line}: unknown assignment {assignment!r} (known: "
                          f"{', '.join(known)})")
    return student.lower(), assignment


def _keyed_rows(path: Path, required: tuple[str, ...], known: Collection[str]
                ) -> Iterator[tuple[int, dict[str, str], tuple[str, str]]]:
    """(line, row, key) of a CSV with one row per (student, assignment); a second row for
    the same key is an error naming both lines."""
    seen: dict[tuple[str, str], int] = {}
    for line, row in _rows(path, required):
        key = _key(path, line, row, known)
        if key in seen:
            raise ConfigError(f"{path}: line {line}: {row['student']}/{key[1]} again (first "
                              f"on line {seen[key]})")
        seen[key] = line
        yield line, row, key


def read_times(path: Path, known: Collection[str] = ()) -> dict[tuple[str, str], dt.datetime]:
    """``--times``: (student in lower case, assignment) -> when it was handed in."""
    return {key: parse_time(row["submitted_at"], f"{path}: line {line}: submitted_at")
            for line, row, key in _keyed_rows(path, TIMES_COLUMNS, known)}


def read_grace_ledger(path: Path, known: Collection[str] = ()
                      ) -> dict[tuple[str, str], int]:
    """The grace days each student already spent per assignment, from a grades.csv that
    ``grade`` or ``grade collect`` wrote (other columns are ignored; an empty cell is 0)."""
    spent: dict[tuple[str, str], int] = {}
    for line, row, key in _keyed_rows(path, LEDGER_COLUMNS, known):
        text = row["grace_days_used"] or "0"
        if not text.isdigit():
            raise ConfigError(f"{path}: line {line}: grace_days_used: {text!r} is not a whole "
                              "number of days")
        spent[key] = int(text)
    return spent


def write_times(times: Mapping[tuple[str, str], dt.datetime]) -> str:
    """The text of a times file holding ``times`` (what a rerun reads back)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TIMES_COLUMNS)
    writer.writerows((student, assignment, moment.isoformat())
                     for (student, assignment), moment in sorted(times.items()))
    return buffer.getvalue()


def read_extensions(path: Path, known: Collection[str] = ()
                    ) -> dict[tuple[str, str], Extension]:
    """``--extensions``: (student in lower case, assignment) -> the student's extension."""
    found: dict[tuple[str, str], Extension] = {}
    for line, row in _rows(path, EXTENSION_COLUMNS):
        key = _key(path, line, row, known)
        where = f"{path}: line {line}"
        if key in found:
            raise ConfigError(f"{where}: {row['student']}/{key[1]} has a second extension "
                              f"(first: {found[key].source})")
        if not row["reason"]:
            raise ConfigError(f"{where}: an extension needs a reason")
        due, extra = row["due"], 0.0
        moment = None
        if due.startswith("+"):
            try:
                extra = float(due[1:].removesuffix("d").removesuffix(" days").strip())
            except ValueError:
                raise ConfigError(f"{where}: due {due!r} is neither a date-time nor +N days") \
                    from None
            if not is_finite_number(extra) or extra < 0:
                raise ConfigError(f"{where}: due {due!r}: the days must be >= 0")
        else:
            moment = parse_time(due, f"{where}: due")
        found[key] = Extension(student=row["student"], assignment=key[1], reason=row["reason"],
                               due=moment, extra_days=extra, source=f"{path.name} line {line}")
    return found


def read_overrides(path: Path, known: Collection[str] = ()) -> tuple[Override, ...]:
    """The overrides file: points set by a person, each with a reason and who set it."""
    found: list[Override] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in _rows(path, OVERRIDE_COLUMNS):
        key = _key(path, line, row, known)
        where = f"{path}: line {line}"
        test = row.get("test", "")
        try:
            value = float(row["points"])
        except ValueError:
            raise ConfigError(f"{where}: points {row['points']!r} is not a number") from None
        if not is_finite_number(value) or value < 0:
            raise ConfigError(f"{where}: points must be a number >= 0")
        for column in ("reason", "who"):
            if not row[column]:
                raise ConfigError(f"{where}: an override needs a {column}")
        if (*key, test) in seen:
            raise ConfigError(f"{where}: overrides {row['student']}/{key[1]}"
                              f"{'/' + test if test else ''} again (first on line "
                              f"{seen[(*key, test)]})")
        seen[(*key, test)] = line
        found.append(Override(student=row["student"], assignment=key[1], points=value,
                              reason=row["reason"], who=row["who"], test=test,
                              source=f"{path.name} line {line}"))
    return tuple(found)

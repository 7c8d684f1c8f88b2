"""Rosters: who is in the class, with what name, e-mail and LMS id.

``--roster FILE`` takes a CSV with a header in one of two forms:

- the course contract's: a ``student`` column (the submissions folder's name or the GitHub
  name) and any of ``name``, ``email``, ``lms_id``;
- Classroom 50's (``CLASSROOM/roster.csv``, ``students.csv`` before Classroom 50 renamed it):
  ``username,first_name,last_name,email,section,github_id,role``. ``username`` becomes the
  student (lowercased: Classroom 50 names repositories ``<classroom>-<assignment>-<username>``
  in lower case, so the autograder sees the lowercase name), ``first_name last_name`` the name;
  rows whose ``role`` is ``instructor``, ``ta`` or ``hta`` are staff, not students, and are
  left out. Classroom 50 keeps no LMS id: ``lms_id`` stays empty.

A file in neither form, a row without a student, or the same student twice is a ConfigError
naming the file and the line. Text is kept as written; whoever writes it into a CSV or a page
escapes it there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.core.errors import ConfigError

CONTRACT_COLUMNS = ("student", "name", "email", "lms_id")
CLASSROOM50_COLUMNS = ("username", "first_name", "last_name", "email", "section", "github_id",
                       "role")
CLASSROOM50_STAFF_ROLES = frozenset({"instructor", "teacher", "ta", "hta"})
#: A roster bigger than this is not a class list.
MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster, in the course contract's terms, with what an LMS export
    adds (``sis_id``: Canvas's SIS User ID or Moodle's ID number; ``username``: Canvas's SIS
    Login ID or Moodle's username; ``section``)."""

    student: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    sis_id: str = ""
    username: str = ""
    section: str = ""


def read_roster(path: Path) -> tuple[RosterEntry, ...]:
    """The students of ``path`` (either form above), in file order."""
    rows, header = _read_rows(path)
    if "student" in header:
        entries = (_contract_entry(row) for row in rows)
    elif "username" in header:
        entries = (_classroom50_entry(row) for row in rows)
    else:
        raise ConfigError(f"{path}: a roster needs a 'student' column (or Classroom 50's "
                          f"'username'); found {', '.join(header) or 'no header'}")
    return _checked(path, entries)


def classroom50_roster(path: Path) -> tuple[RosterEntry, ...]:
    """Classroom 50's ``roster.csv`` / ``students.csv``: its students (staff rows left out)."""
    rows, header = _read_rows(path)
    if "username" not in header:
        raise ConfigError(f"{path}: not a Classroom 50 roster (no 'username' column; "
                          f"expected {','.join(CLASSROOM50_COLUMNS)})")
    return _checked(path, (_classroom50_entry(row) for row in rows))


def _read_rows(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"{path}: roster larger than {MAX_BYTES // (1024 * 1024)} MiB")
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the roster: {exc}") from exc
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [(name or "").strip().lower() for name in reader.fieldnames or []]
        reader.fieldnames = header
        rows = [(reader.line_num, {key: (value or "").strip() for key, value in row.items()
                                   if isinstance(key, str) and isinstance(value, str)})
                for row in reader]
    except csv.Error as exc:
        raise ConfigError(f"{path}: not a CSV file: {exc}") from exc
    return rows, header


def _contract_entry(numbered: tuple[int, dict[str, str]]) -> tuple[int, RosterEntry | None]:
    line, row = numbered
    return line, RosterEntry(student=row.get("student", ""), name=row.get("name", ""),
                             email=row.get("email", ""), lms_id=row.get("lms_id", ""))


def _classroom50_entry(numbered: tuple[int, dict[str, str]]) -> tuple[int, RosterEntry | None]:
    line, row = numbered
    if row.get("role", "").lower() in CLASSROOM50_STAFF_ROLES:
        return line, None
    name = " ".join(part for part in (row.get("first_name", ""), row.get("last_name", ""))
                    if part)
    return line, RosterEntry(student=row.get("username", "").lower(), name=name,
                             email=row.get("email", ""))


def _checked(path: Path, entries: Iterable[tuple[int, RosterEntry | None]]
             ) -> tuple[RosterEntry, ...]:
    found: list[RosterEntry] = []
    seen: dict[str, int] = {}
    for line, entry in entries:
        if entry is None:
            continue
        if not entry.student:
            raise ConfigError(f"{path}:{line}: a roster row without a student")
        if entry.student in seen:
            raise ConfigError(f"{path}:{line}: student {entry.student!r} is listed twice "
                              f"(first on line {seen[entry.student]})")
        seen[entry.student] = line
        found.append(entry)
    return tuple(found)

"""Rosters: who is in the class, with what name, e-mail and LMS id.

``--roster FILE`` takes a CSV as the LMS gives it, its form told by its header (the first
row that holds a known column; comma, semicolon or tab separated), and says which it read:

- a Canvas gradebook export (``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section``, then ``Assignment (id)`` columns): the student is the SIS Login ID (else
  Canvas's ID), ``lms_id`` Canvas's ID, ``sis_id``, ``username`` and ``section`` as exported.
  The ``Points Possible`` row, rows without an ID (Canvas's muted / manual-posting rows) and
  Canvas's test student (``Student, Test``, made by "Student View") are skipped;
- a Moodle participants (or grades) export (``First name``, ``Last name``, any of
  ``ID number``, ``Username``, ``Email address``, ``Roles``): the student is the username,
  else the ID number, else the e-mail; rows whose roles hold no student role are skipped.
  Moodle's download has no user id: its participant ids are mapped by name (grader.run);
- a Blackboard Grade Center download (``Last Name``, ``First Name``, ``Username``,
  ``Student ID``, then ``Name [Total Pts: ...] |<Column ID>`` columns): the student is the
  username;

- the course contract's: a ``student`` column (the submissions folder's name or the GitHub
  name) and any of ``name``, ``email``, ``lms_id``;
- Classroom 50's (``CLASSROOM/roster.csv``, ``students.csv`` before Classroom 50 renamed it):
  ``username,first_name,last_name,email,section,github_id,role``. ``username`` becomes the
  student (lowercased: Classroom 50 names repositories ``<classroom>-<assignment>-<username>``
  in lower case, so the autograder sees the lowercase name), ``first_name last_name`` the name;
  rows whose ``role`` is ``instructor``, ``ta`` or ``hta`` are staff, not students, and are
  left out. Classroom 50 keeps no LMS id: ``lms_id`` stays empty.

A file in none of these forms, a row without a student, or the same student twice is a ConfigError
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
PLAIN = "plain CSV (student, name, email, lms_id)"
CLASSROOM50 = "Classroom 50 roster"
CANVAS = "Canvas gradebook export"
MOODLE = "Moodle participants export"
BLACKBOARD = "Blackboard Grade Center download"
CANVAS_POINTS_POSSIBLE = "Points Possible"
CANVAS_TEST_STUDENTS = frozenset({"student, test", "test student"})
_KNOWN = frozenset({"student", "username", "sis login id", "first name", "email address",
                    "last name"})


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


@dataclass(frozen=True)
class Roster:
    """A roster file as read: which form it is, its students, what was skipped and why, and
    its header as written (a Canvas export's assignment columns, ``Name (id)``)."""

    kind: str
    entries: tuple[RosterEntry, ...]
    skipped: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()


def read_roster(path: Path) -> tuple[RosterEntry, ...]:
    """The students of ``path`` (any form above), in file order."""
    return read_roster_file(path).entries


def read_roster_file(path: Path) -> Roster:
    """``path`` read in the form its header shows (see the module's docstring)."""
    rows, header, columns = _read_rows(path)
    skipped: list[str] = []
    if "student" in header and "id" in header and (
            "sis login id" in header or "sis user id" in header or "section" in header):
        kind, entries = CANVAS, [_canvas_entry(row, skipped) for row in rows]
    elif "username" in header and ("student id" in header or "availability" in header):
        kind, entries = BLACKBOARD, [_blackboard_entry(row) for row in rows]
    elif "first name" in header and "last name" in header:
        kind, entries = MOODLE, [_moodle_entry(row, skipped) for row in rows]
    elif "student" in header:
        kind, entries = PLAIN, [_contract_entry(row) for row in rows]
    elif "username" in header:
        kind, entries = CLASSROOM50, [_classroom50_entry(row) for row in rows]
    else:
        raise ConfigError(f"{path}: a roster needs a 'student' column (or Classroom 50's "
                          "'username', a Canvas gradebook export or a Moodle participants "
                          f"export); found {', '.join(header) or 'no header'}")
    return Roster(kind, _checked(path, entries), tuple(skipped), columns)


def classroom50_roster(path: Path) -> tuple[RosterEntry, ...]:
    """Classroom 50's ``roster.csv`` / ``students.csv``: its students (staff rows left out)."""
    rows, header, _ = _read_rows(path)
    if "username" not in header:
        raise ConfigError(f"{path}: not a Classroom 50 roster (no 'username' column; "
                          f"expected {','.join(CLASSROOM50_COLUMNS)})")
    return _checked(path, (_classroom50_entry(row) for row in rows))


Rows = list[tuple[int, dict[str, str]]]


def _read_rows(path: Path) -> tuple[Rows, list[str], tuple[str, ...]]:
    """The rows (line number, lowercased column -> stripped value) after the header, the
    header lowercased, and the header as written."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"{path}: roster larger than {MAX_BYTES // (1024 * 1024)} MiB")
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the roster: {exc}") from exc
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        raw = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise ConfigError(f"{path}: not a CSV file: {exc}") from exc
    start = next((i for i, (_, row) in enumerate(raw[:10])
                  if _KNOWN & {cell.strip().lower() for cell in row}), 0)
    written = tuple(cell.strip() for cell in raw[start][1]) if raw else ()
    header = [cell.lower() for cell in written]
    rows: Rows = [(line, {key: value.strip() for key, value in zip(header, row, strict=False)})
                  for line, row in raw[start + 1:] if any(cell.strip() for cell in row)]
    return rows, header, written


def _canvas_entry(numbered: tuple[int, dict[str, str]], skipped: list[str]
                  ) -> tuple[int, RosterEntry | None]:
    line, row = numbered
    name = row.get("student", "")
    if name == CANVAS_POINTS_POSSIBLE:
        skipped.append(f"line {line}: the Points Possible row")
        return line, None
    if name.casefold() in CANVAS_TEST_STUDENTS:
        skipped.append(f"line {line}: Canvas's test student ({name})")
        return line, None
    if not row.get("id"):
        skipped.append(f"line {line}: a row without a Canvas ID ({name or 'no name'})")
        return line, None
    login = row.get("sis login id", "")
    return line, RosterEntry(student=login or row["id"], name=name, lms_id=row["id"],
                             sis_id=row.get("sis user id", ""), username=login,
                             section=row.get("section", ""))


def _blackboard_entry(numbered: tuple[int, dict[str, str]]) -> tuple[int, RosterEntry | None]:
    line, row = numbered
    name = " ".join(p for p in (row.get("first name", ""), row.get("last name", "")) if p)
    username = row.get("username", "")
    return line, RosterEntry(student=username, name=name, sis_id=row.get("student id", ""),
                             username=username)


def _moodle_entry(numbered: tuple[int, dict[str, str]], skipped: list[str]
                  ) -> tuple[int, RosterEntry | None]:
    line, row = numbered
    name = " ".join(p for p in (row.get("first name", ""), row.get("last name", "")) if p)
    roles = row.get("roles", "")
    if roles and "student" not in roles.casefold():
        skipped.append(f"line {line}: {name or 'a participant'} is not a student ({roles})")
        return line, None
    username, number = row.get("username", ""), row.get("id number", "")
    email = row.get("email address", row.get("email", ""))
    return line, RosterEntry(student=username or number or email, name=name, email=email,
                             sis_id=number, username=username)


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

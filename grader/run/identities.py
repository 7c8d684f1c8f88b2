"""Mapping the students an LMS download names to the roster's students.

A layout names each student by its own id (Canvas user id, Moodle participant id, Gradescope
SID, a repository's login) and often a name. A roster entry is found for each, in this order:
the layout's id equal to the roster's ``lms_id``, ``student``, SIS id or username; the e-mail;
the name (Canvas's download writes the sortable name lowercased without spaces or punctuation,
``andersonalice``; Moodle writes the full name, ``Alice Anderson``; both are compared with the
roster's name in either order). Only a match to exactly one roster entry counts. A matched
student is graded and reported under the roster's ``student``, and keeps the layout's id as
``lms_id``; an unmatched one keeps the layout's id (the gradebook lists it as not on the roster).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from grader.core.results import StudentInfo
from grader.core.roster import RosterEntry
from grader.run.discover import Discovery

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def name_keys(name: str) -> set[str]:
    """Forms of a person's name that compare equal across LMSs (empty for no name)."""
    words = [w for w in _NOT_WORD.split(name.casefold()) if w]
    if not words:
        return set()
    return {"".join(words), "".join(reversed(words)), " ".join(sorted(words))}


def _index(roster: Sequence[RosterEntry], keys: Iterable[tuple[str, int]]
           ) -> dict[str, int | None]:
    """key -> roster position; None where two entries share the key."""
    found: dict[str, int | None] = {}
    for key, position in keys:
        if key:
            found[key] = position if found.get(key, position) == position else None
    return found


def roster_matches(identities: Sequence[StudentInfo], roster: Sequence[RosterEntry]
                   ) -> dict[str, RosterEntry]:
    """layout id -> the roster entry it is, for the identities found on the roster."""
    ids = _index(roster, ((value.casefold(), i) for i, e in enumerate(roster)
                          for value in (e.lms_id, e.student, e.sis_id, e.username)))
    emails = _index(roster, ((e.email.casefold(), i) for i, e in enumerate(roster)))
    names = _index(roster, ((key, i) for i, e in enumerate(roster) for key in name_keys(e.name)))
    matched: dict[str, RosterEntry] = {}
    taken: set[int] = set()
    for person in identities:
        position = ids.get(person.lms_id.casefold()) if person.lms_id else None
        if position is None and person.email:
            position = emails.get(person.email.casefold())
        if position is None:
            hits = {names.get(key) for key in name_keys(person.name)} - {None}
            position = hits.pop() if len(hits) == 1 else None
        if position is not None and position not in taken:
            taken.add(position)
            matched[person.student] = roster[position]
    return matched


def map_to_roster(discovery: Discovery, roster: Sequence[RosterEntry]) -> Discovery:
    """``discovery`` with each student the roster knows renamed to the roster's student."""
    if not roster or not discovery.identities:
        return discovery
    matched = roster_matches(discovery.identities, roster)
    if not matched:
        return discovery

    def run_id(student: str) -> str:
        entry = matched.get(student)
        return entry.student if entry is not None else student

    return replace(
        discovery,
        submissions=tuple(replace(s, student=run_id(s.student)) for s in discovery.submissions),
        unrecognized=tuple(replace(u, student=run_id(u.student)) if u.student else u
                           for u in discovery.unrecognized),
        students=tuple(run_id(s) for s in discovery.students),
        identities=tuple(replace(i, student=run_id(i.student)) for i in discovery.identities))

"""Which assignment a student's file is (grader.run.discover walks the folders and reads the
files; this decides), by, in order:

1. ``metadata["grader"]["assignment"]`` that the stub put in the notebook ("metadata");
2. its file name containing exactly one assignment id, case-insensitively ("file name");
3. the functions it defines ("functions"): the assignment whose contract functions it
   defines the largest fraction of, with at least two of them (or all), and no tie.

A corrupt (or oversized) file whose name matches is still a Submission, so the grader reports
its extraction error in that student's feedback; one with no usable name is Unrecognized.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.core.course import Assignment
from grader.extract.isolate import Extraction, ReadLimits, read_submission
from grader.run.matched import MatchMemo

_SOURCE_SUFFIXES = frozenset({".ipynb", ".py"})


@dataclass(frozen=True)
class Submission:
    """One file to grade. ``matched_by`` is "metadata", "file name" or "functions".

    What the layout says about it, as plain data (grader.run.layouts): ``lms_id`` the
    student's id there (Canvas user id, Moodle participant id, ...; "" for per-student
    folders), ``name`` the file's original name when the LMS renamed it, ``late`` the LMS's
    late marker (Canvas's ``LATE``; None when the layout has none) and ``submitted_at`` the
    submission time it records (ISO 8601 text as written; None when it records none)."""

    student: str
    assignment: str
    path: Path
    matched_by: str
    lms_id: str = ""
    name: str = ""
    late: bool | None = None
    submitted_at: str | None = None
    #: the grader's private copy of the bytes read at discovery: what is graded and hashed
    source: Path | None = field(default=None, compare=False)
    #: those bytes read and extracted at discovery for ``assignment``: the module, or why it
    #: cannot be (None: not extracted there; grading extracts it)
    extraction: Extraction | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Unrecognized:
    """A file that is not graded, and why (shown in the run's report). ``student`` and
    ``assignment`` are set for a file of a student in the wrong format whose name names one
    assignment (``activations.pdf``): that student's feedback for it names the file."""

    path: Path
    reason: str
    student: str = ""
    assignment: str = ""
    name: str = ""  # the file's original name, when the LMS renamed it



def match_file(student: str, path: Path, assignments: Sequence[Assignment],
               limits: ReadLimits | None = None, name: str | None = None,
               source: Path | None = None, memo: MatchMemo | None = None,
               before_read: Callable[[], None] | None = None) -> Submission | Unrecognized:
    """Which assignment ``path`` is, by metadata, then file name (``name``, default the
    path's), then defined functions. ``source``: the grader's copy of its bytes (read
    instead of ``path``); ``memo``: the matches of the last run on the same OUT
    (grader.run.matched), used instead of reading the file again; ``before_read``: called
    before the file is read."""
    known, key = match_known(student, path, assignments, name, source, memo)
    if known is not None:
        return known
    if before_read is not None:
        before_read()
    name = name or path.name
    found = read_submission(source or path, {a.id: a.functions for a in assignments},
                            named_assignment(name, assignments), limits or ReadLimits())
    return match_found(student, path, assignments, name, source, found, memo, key)


def named_assignment(name: str, assignments: Sequence[Assignment]) -> str | None:
    """The one assignment a file name names (None: none, or several)."""
    by_name = ids_in_name(name, assignments)
    return by_name[0] if len(by_name) == 1 else None


def match_known(student: str, path: Path, assignments: Sequence[Assignment],
                 name: str | None, source: Path | None, memo: MatchMemo | None
                 ) -> tuple[Submission | Unrecognized | None, str | None]:
    """match_file's answer where it needs no reading (a file of another format, a file the
    memo knows), else None; and the file's key in the memo (None: no memo)."""
    name = name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in _SOURCE_SUFFIXES:
        named = named_assignment(name, assignments) or ""
        return Unrecognized(path, f"not a notebook or .py file ({suffix or 'no extension'})",
                            student=student if named else "", assignment=named), None
    key = memo.key(source or path, name) if memo is not None else None
    known = memo.get(key) if memo is not None else None
    if known is not None and known[0] in [a.id for a in assignments]:
        return Submission(student, known[0], path, known[1], source=source), key
    return None, key


def match_found(student: str, path: Path, assignments: Sequence[Assignment],
                 name: str | None, source: Path | None, found: Extraction,
                 memo: MatchMemo | None, key: str | None) -> Submission | Unrecognized:
    """match_file's reading part, from what reading the file (in a child) found: its
    metadata and functions, and the module extracted for the assignment it is graded as
    (kept on the Submission, so that grading does not read it again); remembered in
    ``memo`` under ``key``."""
    name = name or path.name
    matched = _matched(student, path, assignments, name, source, found)
    if memo is not None and isinstance(matched, Submission):
        memo.put(key, matched.assignment, matched.matched_by)
    return matched


def _matched(student: str, path: Path, assignments: Sequence[Assignment], name: str,
             source: Path | None, found: Extraction) -> Submission | Unrecognized:
    ids = [a.id for a in assignments]
    by_name = ids_in_name(name, assignments)
    named = by_name[0] if len(by_name) == 1 else None

    def extracted(assignment: str) -> Extraction | None:
        return found if found.graded_as == assignment else None

    if found.assignment in ids:
        return Submission(student, str(found.assignment), path, "metadata", source=source,
                          extraction=extracted(str(found.assignment)))
    if named is not None:
        return Submission(student, named, path, "file name", source=source,
                          extraction=extracted(named))
    if found.module is None:
        return Unrecognized(path, f"cannot be read and its name names no assignment: "
                                  f"{found.error}")
    chosen, why_not = match_functions(set(found.module.defined), assignments)
    if chosen is not None:
        return Submission(student, chosen, path, "functions", source=source)
    if by_name:
        return Unrecognized(path, f"matches several assignments by name: {', '.join(by_name)}")
    return Unrecognized(path, f"no assignment id in its metadata or name, and it {why_not}")


def ids_in_name(file_name: str, assignments: Sequence[Assignment]) -> list[str]:
    """Assignment ids the file name contains, case-insensitively, in course order."""
    lowered = file_name.lower()
    return [a.id for a in assignments if a.id.lower() in lowered]


def match_functions(defined: set[str], assignments: Sequence[Assignment]) -> tuple[str | None, str]:
    """The assignment whose functions ``defined`` covers best, or None and why not."""
    scored = []
    for assignment in assignments:
        wanted = set(assignment.functions)
        hits = wanted & defined
        if wanted and (len(hits) >= 2 or hits == wanted):
            scored.append((len(hits) / len(wanted), assignment.id))
    if not scored:
        partial = sorted(defined & {f for a in assignments for f in a.functions})
        if partial:
            return None, f"defines too few of any assignment's functions ({', '.join(partial)})"
        return None, "defines none of the assignments' functions"
    best = max(score for score, _ in scored)
    winners = [name for score, name in scored if score == best]
    if len(winners) > 1:
        return None, f"defines the functions of several assignments equally: {', '.join(winners)}"
    return winners[0], ""

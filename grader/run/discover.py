"""Finding the submissions in ``SUBMISSIONS_DIR`` and which assignment each one is.

Layout (course contract): ``SUBMISSIONS_DIR/<student_id>/<notebook>.ipynb`` (or ``.py``).
Files in sub-folders of a student folder count too (students zip whole folders); hidden
files and folders, ``.ipynb_checkpoints``, ``__MACOSX`` and ``__pycache__`` are ignored.

Every other file ends up either as a :class:`Submission` or as an :class:`Unrecognized` with
a reason: nothing is silently dropped. A file's assignment is decided by, in order,

1. ``metadata["grader"]["assignment"]`` that the stub put in the notebook ("metadata");
2. its file name containing exactly one assignment id, case-insensitively ("file name");
3. the functions it defines ("functions"): the assignment whose contract functions it
   defines the largest fraction of, with at least two of them (or all), and no tie.

A corrupt (or oversized) file whose name matches is still a Submission, so the grader reports
its extraction error in that student's feedback; one with no usable name is Unrecognized.
Every student folder is listed in ``students``, even one with nothing recognised, so that
student scores 0 rather than disappearing from ``grades.csv``. A student id is the folder's
name as valid text (grader.core.text.display_name: a name that is not UTF-8, as a zip made on
Windows can hold, gets U+FFFD and a hash of its bytes); a Submission's ``path`` keeps the real
bytes, to open the file. A folder holding a grader's output (its marker, grades.csv or
summary.html: ``grade DIR --out DIR/out``) is no student and is reported as Unrecognized
(grader.run.layouts.readers.read_layout).

SOURCE may be in any layout of :mod:`grader.run.layouts` (Canvas, Moodle, Gradescope export,
git checkouts): :func:`discover_view` takes the per-student view a layout reader made of it, and
the layout's student id, name, lateness and submission time travel on each Submission as plain
data (``lms_id``, ``late``, ``submitted_at``). A file of a flat layout is matched by its
original name (the LMS's prefix removed). A file in a format the grader cannot read (a PDF, an
HTML export, a zip) whose name names one assignment is Unrecognized with that student and
assignment, so the student's feedback can say what to hand in instead.

Only regular files inside a student's own folder are ever read, each once, by descriptor
(:mod:`grader.run.readonce`): no link is followed at any level of the path, a symbolic link, a
FIFO, a device or a socket is Unrecognized with that reason and never read, and so is a file
with more than one hard link or with a course file's bytes; what is graded and hashed is a
private copy of the bytes read then (``Submission.source``). Files are extracted (for their
metadata or functions) by :func:`grader.extract.isolate.read_submissions`, a student's files in
one child process, each under the run's read limits (size, time, memory), which also
extracts the module the file is graded as (``Submission.extraction``: grading does not read
the file again). A student folder is examined up to :data:`MAX_ENTRIES` entries, and at most
:data:`MAX_ATTEMPTS` files of one student are graded for one assignment; what is beyond is
reported, not graded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.core.course import Assignment
from grader.core.errors import ConfigError
from grader.core.results import StudentInfo
from grader.core.text import display_name, valid
from grader.extract.isolate import Extraction, ReadLimits, read_submission, read_submissions
from grader.run.layouts import PER_STUDENT, HandedIn, SourceView, StudentSource, read_layout
from grader.run.matched import MatchMemo
from grader.run.readonce import MAX_ENTRIES as MAX_ENTRIES
from grader.run.readonce import Reader, Snapshots
from grader.run.readonce import course_files as course_files

_IGNORED_DIRS = frozenset({".ipynb_checkpoints", "__MACOSX", "__pycache__"})
_SOURCE_SUFFIXES = frozenset({".ipynb", ".py"})
#: Files of one student graded for one assignment (each one is a full grading).
MAX_ATTEMPTS = 10


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


@dataclass(frozen=True)
class Discovery:
    """Everything found: submissions, unrecognised files, and every student (in the source's
    order). ``layout``: the source's layout; ``identities``: per student, the id and name the
    layout gives (empty for per-student folders)."""

    submissions: tuple[Submission, ...]
    unrecognized: tuple[Unrecognized, ...]
    students: tuple[str, ...]
    layout: str = PER_STUDENT
    identities: tuple[StudentInfo, ...] = ()

    @property
    def assignments(self) -> tuple[str, ...]:
        """The assignments at least one student handed something in for (sorted)."""
        return tuple(sorted({s.assignment for s in self.submissions}
                            | {u.assignment for u in self.unrecognized if u.assignment}))


def discover(submissions_dir: Path, assignments: Sequence[Assignment],
             limits: ReadLimits | None = None, layout: str | None = PER_STUDENT,
             course: Mapping[bytes, str] | None = None) -> Discovery:
    """Walk ``submissions_dir`` (one folder per student, unless ``layout`` says otherwise;
    None: detected) and match each file to an assignment. ``course``: the digests of the
    course's files (:func:`course_files`), never accepted as a submission."""
    if not submissions_dir.exists():
        raise ConfigError(f"{submissions_dir}: no such submissions folder")
    if not submissions_dir.is_dir():
        raise ConfigError(f"{submissions_dir}: not a folder (expected SUBMISSIONS_DIR/<student>/)")
    return discover_view(read_layout(submissions_dir, layout), assignments, limits, course)


def discover_view(view: SourceView, assignments: Sequence[Assignment],
                  limits: ReadLimits | None = None,
                  course: Mapping[bytes, str] | None = None,
                  memo: MatchMemo | None = None,
                  first_read: Callable[[], None] | None = None) -> Discovery:
    """Match each file of every student of ``view`` (grader.run.layouts) to an assignment
    (``memo``: the matches a run on the same OUT made, saved again for the next;
    ``first_read``: called once, before the first file that has to be read, the memo not
    knowing it)."""
    limits = limits or ReadLimits()
    reader = _reader(assignments, limits, course or {})
    matcher = _Matcher(assignments, limits, memo, _once(first_read))
    submissions: list[Submission] = []
    unrecognized = [Unrecognized(path, why) for path, why in view.stray]
    students: list[str] = []
    identities: list[StudentInfo] = []
    for source in view.students:
        # the edge: an id or name read from disk or an LMS export becomes valid text here
        source = replace(source, student=display_name(source.student),
                         name=valid(source.name), email=valid(source.email))
        if source.student not in students:
            students.append(source.student)
            identities.append(StudentInfo(student=source.student, name=source.name,
                                          email=source.email,
                                          lms_id="" if view.layout == PER_STUDENT
                                          else source.student))
        for found in _source_files(source, reader, matcher, view.layout != PER_STUDENT):
            (submissions if isinstance(found, Submission) else unrecognized).append(found)
    submissions.sort(key=lambda s: (s.student, s.assignment, str(s.path)))
    if memo is not None:
        memo.save()
    kept, extra = _within_attempts(submissions)
    return Discovery(tuple(kept), tuple(unrecognized + extra), tuple(students), view.layout,
                     tuple(identities) if view.layout != PER_STUDENT else ())


def _once(call: Callable[[], None] | None) -> Callable[[], None] | None:
    if call is None:
        return None
    calls: list[None] = []

    def once() -> None:
        if not calls:
            calls.append(None)
            call()
    return once


@dataclass(frozen=True)
class _Read:
    """A file discovery read (its bytes kept in ``source``), not matched yet: a student's
    files are matched together, those that must be read in one reader child."""

    student: str
    path: Path
    source: Path | None
    name: str | None


@dataclass(frozen=True)
class _Matcher:
    """Matches the files a student folder's walk read (:meth:`files`)."""

    assignments: Sequence[Assignment]
    limits: ReadLimits
    memo: MatchMemo | None
    before_read: Callable[[], None] | None

    def files(self, found: Sequence[_Read | Unrecognized]) -> list[Submission | Unrecognized]:
        """Each of ``found`` matched (match_file's answer for each), the files the memo does
        not know read in one child (grader.extract.isolate.read_submissions)."""
        known = [(item, None) if isinstance(item, Unrecognized) else
                 _match_known(item.student, item.path, self.assignments, item.name,
                              item.source, self.memo) for item in found]
        unread = [item for item, (match, _) in zip(found, known, strict=True)
                  if isinstance(item, _Read) and match is None]
        if unread and self.before_read is not None:
            self.before_read()
        extractions = iter(read_submissions(
            [(item.source or item.path, _named(item.name or item.path.name, self.assignments))
             for item in unread],
            {a.id: a.functions for a in self.assignments}, self.limits) if unread else ())
        matched: list[Submission | Unrecognized] = []
        for item, (match, key) in zip(found, known, strict=True):
            if match is None and isinstance(item, _Read):
                match = _match_found(item.student, item.path, self.assignments, item.name,
                                     item.source, next(extractions), self.memo, key)
            assert match is not None
            matched.append(match)
        return matched


def _reader(assignments: Sequence[Assignment], limits: ReadLimits,
            course: Mapping[bytes, str]) -> Reader:
    return Reader(_Read, lambda path, why: Unrecognized(path, why), limits, course,
                  Snapshots(), _ignored)


def _source_files(source: StudentSource, reader: Reader, matcher: _Matcher,
                  from_lms: bool) -> Iterator[Submission | Unrecognized]:
    """Every file of one student of a layout, matched, with what the layout says about it."""
    read: list[_Read | Unrecognized] = []
    lates: list[bool | None] = []
    names: list[str | None] = []
    for folder in source.folders:
        for item in reader.folder_files(folder, source.student):
            read.append(item)
            lates.append(None)
            names.append(None)
    for handed in source.files:
        read.append(reader.handed_file(handed.path, source.student, handed.name))
        lates.append(handed.late)
        names.append(handed.name if handed.name != handed.path.name else None)
    found: list[tuple[Submission | Unrecognized, bool | None]] = []
    for item, late, name in zip(matcher.files(read), lates, names, strict=True):
        found.append((replace(item, name=name) if name is not None else item, late))
    for item, late in found:
        if isinstance(item, Submission) and from_lms:
            item = replace(item, lms_id=source.student,
                           late=source.late if late is None else late,
                           submitted_at=source.submitted_at)
        yield item


def discover_files(student: str, base: Path, files: Sequence[Path],
                   assignments: Sequence[Assignment], limits: ReadLimits | None = None
                   ) -> Discovery:
    """One student's ``files`` (relative to ``base``, links already left out) matched as the
    files of a student folder are, read where they are (at most MAX_ENTRIES of them)."""
    ordered = sorted(files, key=lambda p: p.as_posix())
    stray = ((base, f"more than {MAX_ENTRIES} files; the rest were not looked at"),) \
        if len(ordered) > MAX_ENTRIES else ()
    handed = tuple(HandedIn(base / relative, (base / relative).name)
                   for relative in ordered[:MAX_ENTRIES])
    view = SourceView(PER_STUDENT, base, (StudentSource(student, files=handed),), stray)
    return discover_view(view, assignments, limits)


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in _IGNORED_DIRS


def _within_attempts(submissions: list[Submission]
                     ) -> tuple[list[Submission], list[Unrecognized]]:
    """At most MAX_ATTEMPTS files per (student, assignment); the others are reported."""
    counts: dict[tuple[str, str], int] = {}
    kept: list[Submission] = []
    extra: list[Unrecognized] = []
    for s in submissions:
        key = (s.student, s.assignment)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= MAX_ATTEMPTS:
            kept.append(s)
        else:
            extra.append(Unrecognized(s.path, f"more than {MAX_ATTEMPTS} files for "
                                              f"{s.assignment}; this one is not graded"))
    return kept, extra


def match_file(student: str, path: Path, assignments: Sequence[Assignment],
               limits: ReadLimits | None = None, name: str | None = None,
               source: Path | None = None, memo: MatchMemo | None = None,
               before_read: Callable[[], None] | None = None) -> Submission | Unrecognized:
    """Which assignment ``path`` is, by metadata, then file name (``name``, default the
    path's), then defined functions. ``source``: the grader's copy of its bytes (read
    instead of ``path``); ``memo``: the matches of the last run on the same OUT
    (grader.run.matched), used instead of reading the file again; ``before_read``: called
    before the file is read."""
    known, key = _match_known(student, path, assignments, name, source, memo)
    if known is not None:
        return known
    if before_read is not None:
        before_read()
    name = name or path.name
    found = read_submission(source or path, {a.id: a.functions for a in assignments},
                            _named(name, assignments), limits or ReadLimits())
    return _match_found(student, path, assignments, name, source, found, memo, key)


def _named(name: str, assignments: Sequence[Assignment]) -> str | None:
    """The one assignment a file name names (None: none, or several)."""
    by_name = ids_in_name(name, assignments)
    return by_name[0] if len(by_name) == 1 else None


def _match_known(student: str, path: Path, assignments: Sequence[Assignment],
                 name: str | None, source: Path | None, memo: MatchMemo | None
                 ) -> tuple[Submission | Unrecognized | None, str | None]:
    """match_file's answer where it needs no reading (a file of another format, a file the
    memo knows), else None; and the file's key in the memo (None: no memo)."""
    name = name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in _SOURCE_SUFFIXES:
        named = _named(name, assignments) or ""
        return Unrecognized(path, f"not a notebook or .py file ({suffix or 'no extension'})",
                            student=student if named else "", assignment=named), None
    key = memo.key(source or path, name) if memo is not None else None
    known = memo.get(key) if memo is not None else None
    if known is not None and known[0] in [a.id for a in assignments]:
        return Submission(student, known[0], path, known[1], source=source), key
    return None, key


def _match_found(student: str, path: Path, assignments: Sequence[Assignment],
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

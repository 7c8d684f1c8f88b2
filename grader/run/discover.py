"""Finding the submissions in ``SUBMISSIONS_DIR`` and which assignment each one is.

Layout (course contract): ``SUBMISSIONS_DIR/<student_id>/<notebook>.ipynb`` (or ``.py``).
Files in sub-folders of a student folder count too (students zip whole folders); hidden
files and folders, ``.ipynb_checkpoints``, ``__MACOSX`` and ``__pycache__`` are ignored.

Every other file ends up either as a :class:`Submission` or as an :class:`Unrecognized` with
a reason: nothing is silently dropped. Which assignment a file is (by its metadata, then its
name, then the functions it defines) is :mod:`grader.run.matching`'s to decide.

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

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.core.course import Assignment
from grader.core.errors import ConfigError
from grader.core.results import StudentInfo
from grader.core.text import display_name, valid
from grader.extract.isolate import ReadLimits, SubmissionsReading
from grader.run.layouts import PER_STUDENT, HandedIn, SourceView, StudentSource, read_layout
from grader.run.matched import MatchMemo
from grader.run.matching import Submission as Submission
from grader.run.matching import Unrecognized as Unrecognized
from grader.run.matching import match_file as match_file
from grader.run.matching import match_found, match_known, named_assignment
from grader.run.readonce import MAX_ENTRIES as MAX_ENTRIES
from grader.run.readonce import Reader, Snapshots
from grader.run.readonce import course_files as course_files

_IGNORED_DIRS = frozenset({".ipynb_checkpoints", "__MACOSX", "__pycache__"})
#: Files of one student graded for one assignment (each one is a full grading).
MAX_ATTEMPTS = 10
#: Students whose reader children run at once during discovery (each child reads one
#: student's files): the grader walks the next student's folder, and a second core reads,
#: while one child works (an 800-file class, beside the fork server's imports: discovery
#: 4.5 -> 3.0 s).
READERS = 2


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
    # the edge: an id or name read from disk or an LMS export becomes valid text here
    sources = [replace(source, student=display_name(source.student), name=valid(source.name),
                       email=valid(source.email)) for source in view.students]
    files = _all_files(sources, _reader(assignments, limits, course or {}),
                       _Matcher(assignments, limits, memo, _once(first_read)),
                       view.layout != PER_STUDENT)
    submissions = sorted((f for f in files if isinstance(f, Submission)),
                         key=lambda s: (s.student, s.assignment, str(s.path)))
    unrecognized = [Unrecognized(path, why) for path, why in view.stray]
    unrecognized += [f for f in files if isinstance(f, Unrecognized)]
    first: dict[str, StudentSource] = {}  # each student's first source, in order
    for source in sources:
        first.setdefault(source.student, source)
    identities = tuple(StudentInfo(student=s.student, name=s.name, email=s.email,
                                   lms_id=s.student) for s in first.values())
    if memo is not None:
        memo.save()
    kept, extra = _within_attempts(submissions)
    return Discovery(tuple(kept), tuple(unrecognized + extra),
                     tuple(s.student for s in identities), view.layout,
                     identities if view.layout != PER_STUDENT else ())


def _all_files(sources: Sequence[StudentSource], reader: Reader, matcher: _Matcher,
               from_lms: bool) -> list[Submission | Unrecognized]:
    """Every file of ``sources``, matched, in order; :data:`READERS` students' reader
    children run at once (the next student's folder is walked, and its reader started,
    before this one's answers are awaited)."""
    found: list[Submission | Unrecognized] = []
    pending: deque[_StudentFiles] = deque()
    try:
        for source in sources:
            pending.append(_start_files(source, reader, matcher, from_lms))
            if len(pending) >= READERS:
                found.extend(pending.popleft().matched())
        while pending:
            found.extend(pending.popleft().matched())
    finally:
        for started in pending:  # an interruption: no reader child outlives discovery
            started.cancel()
    return found


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

    def start(self, found: Sequence[_Read | Unrecognized]) -> _Matching:
        """Each of ``found`` to be matched (match_file's answer for each): the files the memo
        does not know are read in one child (grader.extract.isolate.SubmissionsReading),
        started now."""
        known = [(item, None) if isinstance(item, Unrecognized) else
                 match_known(item.student, item.path, self.assignments, item.name,
                              item.source, self.memo) for item in found]
        unread = [item for item, (match, _) in zip(found, known, strict=True)
                  if isinstance(item, _Read) and match is None]
        if unread and self.before_read is not None:
            self.before_read()
        files = [(item.source or item.path,
                  named_assignment(item.name or item.path.name, self.assignments))
                 for item in unread]
        reading = SubmissionsReading(files, {a.id: a.functions for a in self.assignments},
                                     self.limits) if unread else None
        return _Matching(self, list(found), known, reading)


@dataclass(frozen=True)
class _Matching:
    """A student's files being matched: their reader child under way (:meth:`_Matcher.start`)."""

    matcher: _Matcher
    found: list[_Read | Unrecognized]
    known: list[tuple[Submission | Unrecognized | None, str | None]]
    reading: SubmissionsReading | None

    def matched(self) -> list[Submission | Unrecognized]:
        """Each file matched, once its reader child answered."""
        extractions = iter(self.reading.extractions() if self.reading is not None else ())
        matched: list[Submission | Unrecognized] = []
        for item, (match, key) in zip(self.found, self.known, strict=True):
            if match is None and isinstance(item, _Read):
                match = match_found(item.student, item.path, self.matcher.assignments,
                                     item.name, item.source, next(extractions),
                                     self.matcher.memo, key)
            assert match is not None
            matched.append(match)
        return matched

    def cancel(self) -> None:
        if self.reading is not None:
            self.reading.cancel()


def _reader(assignments: Sequence[Assignment], limits: ReadLimits,
            course: Mapping[bytes, str]) -> Reader:
    return Reader(_Read, lambda path, why: Unrecognized(path, why), limits, course,
                  Snapshots(), _ignored)


@dataclass(frozen=True)
class _StudentFiles:
    """One student's files read from disk, being matched, with what the layout says of each
    (its lateness, its original name) and of the student."""

    source: StudentSource
    matching: _Matching
    lates: list[bool | None]
    names: list[str | None]
    from_lms: bool

    def matched(self) -> list[Submission | Unrecognized]:
        files: list[Submission | Unrecognized] = []
        for item, late, name in zip(self.matching.matched(), self.lates, self.names,
                                    strict=True):
            if name is not None:
                item = replace(item, name=name)
            if isinstance(item, Submission) and self.from_lms:
                item = replace(item, lms_id=self.source.student,
                               late=self.source.late if late is None else late,
                               submitted_at=self.source.submitted_at)
            files.append(item)
        return files

    def cancel(self) -> None:
        self.matching.cancel()


def _start_files(source: StudentSource, reader: Reader, matcher: _Matcher,
                 from_lms: bool) -> _StudentFiles:
    """Every file of one student of a layout read from disk, its matching started."""
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
    return _StudentFiles(source, matcher.start(read), lates, names, from_lms)


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

"""Reading a folder as one of the layouts the LMSs give, and telling which one it is.

Only names and ``lstat`` are looked at: no file is opened here except Gradescope's
``submission_metadata.yml`` (a regular file, size-capped), and no link is followed. An entry
that fits no student of the layout is listed (``stray``) with why, never dropped.

- per-student: ``<student>/<files>`` (the course contract's layout).
- Canvas "Download submissions": flat files ``<name>_<user id>_<submission id>_<file>``,
  ``<name>_LATE_<user id>_...`` when late (Canvas writes the name lowercased, without spaces
  or punctuation). A student who handed in several files has several such files.
- Moodle "Download all submissions": a folder per participant and plugin,
  ``<Full Name>_<participant id>_assignsubmission_file_`` (``_onlinetext_`` for online text);
  without "download submissions in folders", flat files with that prefix.
- Gradescope export: ``submission_metadata.yml`` and ``submission_<id>/`` folders; the
  metadata gives each submission's submitters (name, SID, e-mail) and ``created_at``.
- git checkouts: a folder per repository (``.git`` inside); the student is the repository's
  name less the prefix every repository shares (``<classroom>-<assignment>-``).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.core.errors import ConfigError, ExtractionError
from grader.core.files import MIB, kind_problem, read_regular
from grader.core.paths import holds_output
from grader.run.layouts.model import (
    CANVAS,
    GIT,
    GRADESCOPE,
    LAYOUTS,
    MOODLE,
    PER_STUDENT,
    HandedIn,
    SourceView,
    StudentSource,
)

_IGNORED = frozenset({".ipynb_checkpoints", "__MACOSX", "__pycache__"})
CANVAS_FILE = re.compile(r"^(?P<name>.+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<sub>\d+)_"
                         r"(?P<file>.+)$")
MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_"
                         r"(?P<file>.+)$")
GRADESCOPE_METADATA = "submission_metadata.yml"
GRADESCOPE_FOLDER = re.compile(r"^submission_\d+$")
MAX_METADATA_BYTES = 16 * MIB

Entry = tuple[Path, int]  # (path, lstat mode)


def entries(folder: Path, follow: bool = False) -> list[Entry]:
    """``(path, lstat mode)`` of a folder's entries that ``grade`` does not ignore, sorted.

    The folder is opened with ``O_NOFOLLOW`` unless ``follow`` (the instructor's own folder)."""
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(folder, flags if follow else flags | os.O_NOFOLLOW)
    try:
        with os.scandir(fd) as scan:
            found = [(e.name, e.stat(follow_symlinks=False).st_mode) for e in scan
                     if not (e.name.startswith(".") or e.name in _IGNORED)]
    finally:
        os.close(fd)
    return [(folder / name, mode) for name, mode in sorted(found)]


def _has_git(folder: Path) -> bool:
    try:
        os.lstat(folder / ".git")
    except OSError:
        return False
    return True


def detect(root: Path) -> str:
    """The layout ``root`` is in (per-student when nothing else fits)."""
    listed = entries(root, follow=True)
    names = {p.name for p, _ in listed}
    if GRADESCOPE_METADATA in names:
        return GRADESCOPE
    dirs = [p for p, mode in listed if stat.S_ISDIR(mode)]
    files = [p for p, mode in listed if stat.S_ISREG(mode)]
    moodle = sum(1 for p in dirs if MOODLE_FOLDER.match(p.name)) + sum(
        1 for p in files if MOODLE_FILE.match(p.name))
    if moodle and 2 * moodle >= len(dirs) + len(files):
        return MOODLE
    canvas = sum(1 for p in files if CANVAS_FILE.match(p.name))
    if canvas and 2 * canvas >= len(files) and canvas >= len(dirs):
        return CANVAS
    if dirs and all(GRADESCOPE_FOLDER.match(p.name) for p in dirs):
        return GRADESCOPE
    git = sum(1 for p in dirs if _has_git(p))
    if git and 2 * git >= len(dirs):
        return GIT
    return PER_STUDENT


def read_layout(root: Path, layout: str | None = None) -> SourceView:
    """``root`` read as ``layout`` (detected when None)."""
    if layout is None:
        layout = detect(root)
    if layout not in READERS:
        raise ConfigError(f"--layout: unknown layout {layout!r} (one of {', '.join(LAYOUTS)})")
    try:
        listed = entries(root, follow=True)
    except OSError as exc:
        raise ConfigError(f"{root}: cannot be listed ({exc.strerror or exc})") from None
    outputs = _output_folders(listed)  # `grade DIR --out DIR/out`: the reports are no student
    students, stray = READERS[layout](root, [e for e in listed if e[0] not in outputs])
    return SourceView(layout=layout, root=root, students=tuple(students),
                      stray=tuple(stray) + tuple(outputs.items()))


def _output_folders(listed: list[Entry]) -> dict[Path, str]:
    """The folders of ``listed`` that hold a grader's output, each with why (every layout)."""
    found = {}
    for path, mode in listed:
        marked = holds_output(path) if stat.S_ISDIR(mode) else None
        if marked is not None:
            found[path] = f"a grader output folder (holds {marked}), not a student"
    return found


Stray = list[tuple[Path, str]]


def _per_student(root: Path, listed: list[Entry]) -> tuple[list[StudentSource], Stray]:
    students, stray = [], []
    for path, mode in listed:
        if stat.S_ISDIR(mode):
            students.append(StudentSource(student=path.name, folders=(path,)))
        else:
            stray.append((path, kind_problem(mode) or "file outside a student folder"))
    return students, stray


def _canvas(root: Path, listed: list[Entry]) -> tuple[list[StudentSource], Stray]:
    by_user: dict[str, list[HandedIn]] = {}
    names: dict[str, str] = {}
    stray: Stray = []
    for path, mode in listed:
        found = CANVAS_FILE.match(path.name)
        if not stat.S_ISREG(mode):
            stray.append((path, kind_problem(mode) or "not a regular file"))
        elif found is None:
            stray.append((path, "not named as in a Canvas download "
                                "(<name>_<user id>_<submission id>_<file name>)"))
        else:
            user = found["user"]
            names.setdefault(user, found["name"])
            by_user.setdefault(user, []).append(
                HandedIn(path=path, name=found["file"], late=bool(found["late"])))
    students = [StudentSource(student=user, name=names[user], files=tuple(files),
                              late=any(f.late for f in files))
                for user, files in sorted(by_user.items())]
    return students, stray


def _moodle(root: Path, listed: list[Entry]) -> tuple[list[StudentSource], Stray]:
    folders: dict[str, list[Path]] = {}
    files: dict[str, list[HandedIn]] = {}
    names: dict[str, str] = {}
    stray: Stray = []
    for path, mode in listed:
        folder = MOODLE_FOLDER.match(path.name) if stat.S_ISDIR(mode) else None
        flat = MOODLE_FILE.match(path.name) if stat.S_ISREG(mode) else None
        if folder is not None:
            names.setdefault(folder["id"], folder["name"])
            folders.setdefault(folder["id"], []).append(path)
        elif flat is not None:
            names.setdefault(flat["id"], flat["name"])
            files.setdefault(flat["id"], []).append(HandedIn(path=path, name=flat["file"]))
        else:
            stray.append((path, _why(mode, "not named as in a Moodle download "
                                           "(<Full Name>_<participant id>_"
                                           "assignsubmission_file_)")))
    students = [StudentSource(student=pid, name=names[pid], folders=tuple(folders.get(pid, ())),
                              files=tuple(files.get(pid, ())))
                for pid in sorted(names, key=lambda p: (len(p), p))]
    return students, stray


def _git(root: Path, listed: list[Entry]) -> tuple[list[StudentSource], Stray]:
    students, stray = _per_student(root, listed)
    repos = [s.student for s in students]
    prefix = os.path.commonprefix(repos) if len(repos) > 1 else ""
    prefix = prefix[:prefix.rfind("-") + 1]
    if prefix and all(len(r) > len(prefix) for r in repos):
        students = [StudentSource(student=s.student[len(prefix):], name=s.student,
                                  folders=s.folders) for s in students]
    return students, stray


def _gradescope(root: Path, listed: list[Entry]) -> tuple[list[StudentSource], Stray]:
    metadata = _gradescope_metadata(root / GRADESCOPE_METADATA) \
        if any(p.name == GRADESCOPE_METADATA for p, _ in listed) else {}
    students: list[StudentSource] = []
    stray: Stray = []
    for path, mode in listed:
        if path.name == GRADESCOPE_METADATA:
            continue
        if not stat.S_ISDIR(mode) or not GRADESCOPE_FOLDER.match(path.name):
            stray.append((path, _why(mode, "not a submission_<id> folder of a Gradescope "
                                           "export")))
            continue
        entry = metadata.get(path.name)
        submitters = _list(_field(entry, "submitters")) or [{}]
        created = _field(entry, "created_at")
        for person in submitters:
            sid, email = _text(_field(person, "sid")), _text(_field(person, "email"))
            students.append(StudentSource(
                student=sid or email or path.name, name=_text(_field(person, "name")),
                email=email, folders=(path,),
                submitted_at=iso_time(_text(created)) or None))
    return students, stray


_RUBY_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.\d+)?\s*"
                        r"(Z|[+-]\d\d:?\d\d)?$")


def iso_time(text: str) -> str:
    """Gradescope's (Ruby's) ``2026-11-01 10:15:00.123456789 +01:00`` as ISO 8601
    (``2026-11-01T10:15:00+01:00``); other text as it is."""
    found = _RUBY_TIME.match(text)
    if found is None:
        return text
    zone = found[3] or ""
    if zone and zone != "Z" and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{found[1]}T{found[2]}{zone}"


def _why(mode: int, otherwise: str) -> str:
    """Why an entry is not read: what it is when it is no file or folder, else ``otherwise``."""
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return otherwise
    return kind_problem(mode) or otherwise


def _field(data: Any, name: str) -> Any:
    """A field of Gradescope's YAML, whose keys are Ruby symbols (``:name``) or plain."""
    if not isinstance(data, dict):
        return None
    return data.get(f":{name}", data.get(name))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _gradescope_metadata(path: Path) -> dict[str, Any]:
    """submission_metadata.yml as plain strings (no YAML tags are constructed)."""
    import yaml

    try:
        text = read_regular(path, MAX_METADATA_BYTES).decode("utf-8")
        data = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader: strings only
    except (ExtractionError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read Gradescope's submission metadata "
                          f"({str(exc).splitlines()[0] if str(exc) else exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not Gradescope's submission metadata (not a mapping)")
    return data


READERS: dict[str, Callable[[Path, list[Entry]], tuple[list[StudentSource], Stray]]] = {
    PER_STUDENT: _per_student,
    CANVAS: _canvas,
    MOODLE: _moodle,
    GRADESCOPE: _gradescope,
    GIT: _git,
}

"""The grading runner's records: what ``grade collect`` reads.

Each grading the runner (grader/templates/github/grading.yml) does is kept as an artifact of its own
workflow run, named ``score-<student>-<sha>``, holding the ``report/`` folder of ``grade ci``:

    record.json                              who and what was graded, when, and how it ended
    <student>/<assignment>/results.json      the scores (Gradescope's format), one per assignment

``record.json`` (schema ``nn-grader/record/v1``): ``repository``, ``sha``, ``student``,
``requested_at`` (when the runner checked that the commit was the head of the student's
default branch), ``graded_at``, ``outcome`` (the grading step's: ``success`` only when the
grader ran to the end) and ``run_id``.

Records come as downloaded artifact zips (``fetch-records.sh``) or as folders holding a
``record.json``. Everything is checked (names, types, sizes) as untrusted input would be: a bad
record is skipped with a one-line reason naming it, and never costs the others.
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from grader.core.errors import BadRecord

SCHEMA = "nn-grader/record/v1"
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 8
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_OUTCOMES = ("success", "failure", "cancelled", "skipped")
GRADER_ERROR = "grader error"


@dataclass(frozen=True)
class Score:
    assignment: str
    score: float
    max_score: float
    #: the autograde before any late penalty (results.json's ``extra_data.raw_score``, else
    #: its ``score``): what ``grade collect`` applies the course's late policy to
    raw_score: float | None = None

    @property
    def raw(self) -> float:
        return self.score if self.raw_score is None else self.raw_score


@dataclass(frozen=True)
class Record:
    source: str
    repository: str
    sha: str
    student: str
    requested_at: str
    graded_at: str
    outcome: str
    run_id: int
    scores: tuple[Score, ...]

    @property
    def graded(self) -> bool:
        """The grader ran to the end: the scores count."""
        return self.outcome == "success"

    @property
    def order(self) -> tuple[str, str, int]:
        return (self.requested_at, self.graded_at, self.run_id)


#: name inside the record (``record.json``, ``alice/forward/results.json``) -> its bytes
Reader = Callable[[str], bytes]


def candidates(paths: list[Path]) -> Iterator[Path]:
    """Every artifact zip, and every folder holding a record.json, under ``paths``."""
    for path in paths:
        if path.is_file() and path.suffix == ".zip":
            yield path
        elif path.is_dir():
            for folder, zips in _walk(path):
                yield from zips
                if (folder / "record.json").is_file():
                    yield folder
        else:
            raise BadRecord(f"{path}: neither an artifact .zip nor a folder")


def _walk(top: Path) -> Iterator[tuple[Path, list[Path]]]:
    for root, dirs, files in os.walk(top):
        here = Path(root)
        depth = len(here.relative_to(top).parts)
        dirs[:] = sorted(d for d in dirs if depth < MAX_DEPTH and not (here / d).is_symlink())
        yield here, [here / f for f in sorted(files) if f.endswith(".zip")
                     and not (here / f).is_symlink()]


def load_record(path: Path) -> Record:
    """The checked record of one artifact zip or record folder; BadRecord says what is wrong."""
    if path.is_dir():
        members = [p.relative_to(path).as_posix() for p in path.glob("*/*/results.json")]
        return parse_record(str(path), _folder_reader(path), ["record.json", *members])
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {i.filename: i for i in archive.infolist() if not i.is_dir()}

            def read(name: str) -> bytes:
                info = infos.get(name)
                if info is None:
                    raise BadRecord(f"{path}: no {name}")
                if info.file_size > MAX_FILE_BYTES:
                    raise BadRecord(f"{path}: {name} is larger than {MAX_FILE_BYTES} bytes")
                return archive.read(info)

            return parse_record(str(path), read, sorted(infos))
    except (OSError, zipfile.BadZipFile) as exc:
        raise BadRecord(f"{path}: not a readable zip: {exc}") from exc


def _folder_reader(folder: Path) -> Reader:
    def read(name: str) -> bytes:
        target = folder / name
        inside = target.resolve().is_relative_to(folder.resolve())
        if not inside or target.is_symlink() or not target.is_file():
            raise BadRecord(f"{folder}: no {name}")
        if target.stat().st_size > MAX_FILE_BYTES:
            raise BadRecord(f"{folder}: {name} is larger than {MAX_FILE_BYTES} bytes")
        return target.read_bytes()

    return read


def parse_record(source: str, read: Reader, members: list[str]) -> Record:
    """The checked record of one source; BadRecord says what is wrong."""
    meta = _json(source, read, "record.json")
    if meta.get("schema") != SCHEMA:
        raise BadRecord(f"{source}: record.json: schema is not {SCHEMA}")
    fields = {}
    for key, pattern in (("repository", _REPOSITORY), ("sha", _SHA), ("student", _NAME),
                         ("requested_at", _STAMP), ("graded_at", _STAMP)):
        value = meta.get(key)
        if not isinstance(value, str) or not pattern.match(value):
            raise BadRecord(f"{source}: record.json: bad {key}")
        fields[key] = value
    outcome, run_id = meta.get("outcome"), str(meta.get("run_id", ""))
    if outcome not in _OUTCOMES or not run_id.isdigit():
        raise BadRecord(f"{source}: record.json: bad outcome or run_id")
    scores = tuple(_score(source, read, name) for name in members
                   if _is_results(name, fields["student"]))
    return Record(source=source, outcome=str(outcome), run_id=int(run_id), scores=scores,
                  **fields)


def _is_results(name: str, student: str) -> bool:
    parts = PurePosixPath(name).parts
    return (len(parts) == 3 and parts[0] == student and parts[2] == "results.json"
            and bool(_NAME.match(parts[1])))


def _score(source: str, read: Reader, name: str) -> Score:
    data = _json(source, read, name)
    score, top = data.get("score"), data.get("max_score")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in (score, top)) or not 0 <= score <= top:  # type: ignore[operator]
        raise BadRecord(f"{source}: {name}: bad score or max_score")
    tests = data.get("tests")
    if not isinstance(tests, list):
        raise BadRecord(f"{source}: {name}: no tests list")
    if any(isinstance(t, dict) and isinstance(t.get("extra_data"), dict)
           and t["extra_data"].get("status") == GRADER_ERROR for t in tests):
        raise BadRecord(f"{source}: {name}: the grader failed on this submission")
    extra = data.get("extra_data")
    raw = extra.get("raw_score") if isinstance(extra, dict) else None
    if raw is not None and not (isinstance(raw, (int, float)) and not isinstance(raw, bool)
                                and math.isfinite(raw) and 0 <= raw <= top):  # type: ignore[operator]
        raise BadRecord(f"{source}: {name}: bad extra_data.raw_score")
    return Score(assignment=PurePosixPath(name).parts[1], score=float(score),
                 max_score=float(top), raw_score=None if raw is None else float(raw))


def _json(source: str, read: Reader, name: str) -> dict[str, Any]:
    try:
        data = json.loads(read(name).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise BadRecord(f"{source}: {name}: not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRecord(f"{source}: {name}: not a JSON object")
    return data

"""Which assignment each file was, remembered by its bytes in the output folder, so that a
rerun on the same --out does not read every notebook again in a child process
(grader.extract.isolate) to learn what the last run already learnt.

A file is known by the SHA-256 of the bytes discovery read (the grader's snapshot of them),
its name (file names count in matching) and the course's assignments and functions: any
change to one of these reads the file again. Only a match is remembered (never a file that
could not be read, whose reason may be a time limit on a busy machine). The file
``OUT/.matched.json`` holds the files of the last run only, and a broken or foreign one is
ignored (it is rebuilt)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from grader.core.course import Assignment

FILE_NAME = ".matched.json"
#: Changed when matching changes: the files are read again.
_VERSION = 1
_HOW = frozenset({"metadata", "file name", "functions"})


class MatchMemo:
    """The matches of the last run on ``out_dir`` (None: remember nothing)."""

    def __init__(self, out_dir: Path | None, assignments: Sequence[Assignment]) -> None:
        self.path = out_dir / FILE_NAME if out_dir is not None else None
        self.course = json.dumps([_VERSION, [[a.id, list(a.functions)] for a in assignments]])
        self.known: dict[str, list[str]] = {}
        self.seen: dict[str, list[str]] = {}
        if self.path is not None:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self.known = {k: v for k, v in loaded.items()
                                  if isinstance(v, list) and len(v) == 2
                                  and all(isinstance(x, str) for x in v) and v[1] in _HOW}

    def key(self, source: Path, name: str) -> str | None:
        if self.path is None:
            return None
        digest = hashlib.sha256()
        try:
            with open(source, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError:
            return None
        digest.update(b"\0" + name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(self.course.encode())
        return digest.hexdigest()

    def get(self, key: str | None) -> tuple[str, str] | None:
        """(assignment, how it was matched) of the file, if the last run matched it."""
        found = self.known.get(key) if key else None
        if found is None:
            return None
        self.seen[key] = found  # type: ignore[index]
        return found[0], found[1]

    def put(self, key: str | None, assignment: str, how: str) -> None:
        if key:
            self.seen[key] = [assignment, how]

    def save(self) -> None:
        """Keep this run's matches (only these) for the next run; a failure costs nothing
        but the reading next time."""
        if self.path is None or not self.path.parent.is_dir() or self.seen == self.known:
            return
        with contextlib.suppress(OSError):
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.seen, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.path)

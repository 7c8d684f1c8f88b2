"""Which submission reports a run wrote, and from what: ``OUT/.reports.json`` keeps, per
report folder, a digest of everything its three files are rendered from (the result, the
assignment's title, the knock-on calls, the course's visibility and the tests shown now,
the grader's version and the templates' text) and each file's size and modification time.
A later run whose digest for a folder is the same, with its files as they were left, renders
nothing there: a rerun whose results did not change redraws no report. A missing, changed or
foreign file, or a broken ``.reports.json``, only means the reports are written again."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

FILE_NAME = ".reports.json"


def digest(*parts: object) -> str:
    """A digest of ``parts`` by their repr (plain frozen data: the same data, the same text)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _state(path: Path) -> list[int] | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns] if path.is_file() and not path.is_symlink() \
        else None


class WrittenReports:
    """The stamps of the last run on ``out_dir``, and this run's."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / FILE_NAME
        self.out_dir = out_dir
        self.before: dict[str, list] = {}
        self.now: dict[str, list] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self.before = loaded

    def _name(self, folder: Path) -> str:
        return folder.relative_to(self.out_dir).as_posix()

    def unchanged(self, folder: Path, key: str, files: tuple[Path, ...]) -> bool:
        """Whether ``files`` were written from ``key`` and are as they were left (kept)."""
        stamp = [key, [_state(path) for path in files]]
        if self.before.get(self._name(folder)) != stamp or None in stamp[1]:
            return False
        self.now[self._name(folder)] = stamp
        return True

    def wrote(self, folder: Path, key: str, files: tuple[Path, ...]) -> None:
        self.now[self._name(folder)] = [key, [_state(path) for path in files]]

    def save(self) -> None:
        """Keep this run's stamps (only these); a failure costs a rendering next time."""
        if self.now == self.before:
            return
        with contextlib.suppress(OSError):
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.now, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.path)

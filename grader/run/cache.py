"""Resume: every graded submission's result, kept in the output folder under a content key.

    OUT/.cache/<student>/<assignment>/<key>.json

The key is a hash of everything that decides a result: the submitted file's bytes and name,
the grader version, the hidden suite's hash and its test budgets, the submission's seed (so the
course secret), the device, the sandbox level and the limits. A rerun on the same folder finds
the key of an unchanged submission and reuses its result; a changed notebook, a fixed test or a
new secret changes the key, so that submission is graded again. Each entry is written
atomically as soon as its submission is graded, so an interrupted run keeps everything it
finished.

Entries are plain JSON (``result_to_dict`` / ``result_from_dict``), never pickle: the cache
lives in a folder others may write to.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import grader
from grader.core.files import MIB, digest_regular
from grader.core.paths import inside, write_atomic
from grader.core.results import Attempt, Curve, SubmissionResult, TestResult
from grader.core.settings import Settings
from grader.core.text import display_path
from grader.submission.grade import Job, job_suite_hash, submission_seed
from grader.suite import MAX_CURVES, make_curve
from grader.suite.budgets import fingerprint

CACHE_DIR = ".cache"
#: An entry larger than this is not read (results are bounded far below it).
MAX_ENTRY_BYTES = 16 * MIB
#: Bumped when the entry format changes; part of every key (2: tests carry their curves).
FORMAT = 2


def result_to_dict(result: SubmissionResult) -> dict[str, Any]:
    """A JSON-ready dict of ``result`` (tuples become lists)."""
    return asdict(replace(result, grade=None))


def result_from_dict(data: dict[str, Any]) -> SubmissionResult:
    """The SubmissionResult ``result_to_dict`` gave; a malformed entry raises ValueError."""
    if not isinstance(data, dict):
        raise ValueError("cache entry is not an object")
    try:
        known = {f.name for f in fields(SubmissionResult)}
        # the grade of record is applied after grading and never cached
        values = {k: v for k, v in data.items() if k in known and k != "grade"}
        values["tests"] = tuple(_test(t) for t in data["tests"])
        values["notes"] = tuple(str(n) for n in data.get("notes", ()))
        values["other_attempts"] = tuple(Attempt(**_known(Attempt, a))
                                         for a in data.get("other_attempts", ()))
        values["manual"] = ()  # written answers' grades are merged after the cache (review)
        return SubmissionResult(**values)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed cache entry: {exc}") from None


def entry_text(result: SubmissionResult) -> str | None:
    """The cache entry of ``result`` as text, or None when it would not read back as the
    same result (checked by reading it back: what cannot be written is not cached)."""
    try:
        text = json.dumps(result_to_dict(result), ensure_ascii=False) + "\n"
        text.encode("utf-8")
        again = json.dumps(result_to_dict(result_from_dict(json.loads(text))),
                           ensure_ascii=False) + "\n"
    except (TypeError, ValueError, OverflowError, RecursionError):  # UnicodeError: a ValueError
        return None
    return text if again == text else None


def _test(data: Any) -> TestResult:
    """A cached test, its curves bounded again (the cache folder is not trusted)."""
    values = _known(TestResult, data)
    curves = values.get("curves", ())
    if not isinstance(curves, (list, tuple)):
        raise TypeError("curves is not a list")
    values["curves"] = tuple(
        make_curve(c.get("name", ""), c.get("student", ()), c.get("reference", ()),
                   c.get("step", 1))
        for c in (_known(Curve, c) for c in curves[:MAX_CURVES]))
    return TestResult(**values)


def _known(cls: type, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} entry is not an object")
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def cache_key(job: Job, settings: Settings, sandbox_level: str) -> str | None:
    """The content key of ``job`` under ``settings``; None for a job with nothing handed in."""
    if job.path is None:
        return None
    digest = hashlib.sha256()
    assert job.read_from is not None
    digest.update(digest_regular(job.read_from, settings.limits.reader().max_bytes))
    suite = job_suite_hash(job)
    context = {
        "format": FORMAT,
        "file": job.path.name,
        "matched_by": job.matched_by,
        "grader": grader.__version__,
        "suite": suite,
        "budgets": fingerprint(job.assignment, suite),
        "max_score": job.assignment.max_score,
        "seed": submission_seed(settings, job),
        "device": settings.device,
        "sandbox": sandbox_level,
        "limits": asdict(settings.limits),
    }
    digest.update(json.dumps(context, sort_keys=True).encode())
    return digest.hexdigest()[:32]


class ResultCache:
    """The cache of one output folder."""

    def __init__(self, out_dir: Path) -> None:
        self.root = out_dir / CACHE_DIR

    def _path(self, job: Job, key: str) -> Path:
        return inside(self.root, job.student, job.assignment.id) / f"{key}.json"

    def get(self, job: Job, key: str) -> SubmissionResult | None:
        """The cached result of ``job`` under ``key``, with the job's current path; else None."""
        try:
            path = self._path(job, key)
            if path.stat().st_size > MAX_ENTRY_BYTES:
                return None
            result = result_from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, RecursionError):
            return None
        if (result.student, result.assignment) != (job.student, job.assignment.id):
            return None
        return replace(result, path=display_path(job.path) if job.path else None)

    def put(self, job: Job, key: str, result: SubmissionResult) -> Path | None:
        """Store ``result`` atomically (a reader never sees half an entry); None, and nothing
        stored, when the entry would not read back as exactly this result (text no UTF-8
        writer accepts, a value JSON cannot hold): a rerun grades it again rather than
        reading a poisoned entry."""
        text = entry_text(result)
        if text is None:
            return None
        return write_atomic(self._path(job, key), text)

    def entries(self) -> list[Path]:
        """Every entry on disk (tests and tools count them)."""
        return sorted(self.root.glob("*/*/*.json")) if self.root.is_dir() else []

"""Classroom 50's ``result.json`` (schema ``classroom50/result/v1``) from our results.

Classroom 50 runs ``CLASSROOM/autograders/ASSIGNMENT/autograder.py`` once per submission, in the
student's checkout, with the submission's identity in environment variables, and reads back
``./result.json``. Its contract (the Advanced-Autograding wiki page, and ``validate_result`` in
its ``runner.py`` and ``collect_scores.py``):

    schema, classroom, assignment, assignment_type, owner, submission (the submit/* tag),
    commit, release, review (URLs), datetime (the graded commit's committer date, UTC),
    graded_at (optional), score, max-score (non-negative ints, score <= max-score),
    tests: [{test-name, passed, score, max-score, ...extra fields kept verbatim}],
    submitted_by (optional: {username, id})

Its runner and collector take the top-level ``score`` as the submission's score (the gradebook
entry, the commit status "classroom50 autograde: score/max-score", the release body's heading);
each test's ``score`` must be a whole number from 0 to its ``max-score``, and nothing checks
that the tests add up to ``score``. So with a late penalty or an override, ``score`` is the
score of record and a 0-point deadline entry, named with the change ("activations: deadline
(-8.1 points)"), says why the tests' column adds up to more or less.

Scores are integers there and ours may not be. Every score is multiplied by a *scale*: 1, 10
or 100, the smallest that makes every test's points whole (1 for this course: its tests are
worth whole points), so ``score / scale`` is exactly the points ``grade`` gives. Each test also
carries our exact ``points`` and ``max-points`` and its status and message. With a scale of 100
and points finer than hundredths, each test's points are rounded to hundredths, as ``grade``
prints them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.core.errors import ConfigError
from grader.core.feedback import by_test, explain, test_plain
from grader.core.results import PASSED, SubmissionResult
from grader.core.visibility import Visibility, split
from grader.report.late import record_lines
from grader.report.view import points

SCHEMA = "classroom50/result/v1"
SCALES = (1, 10, 100)
MESSAGE_CHARS = 2000
NAME_CHARS = 200
ASSIGNMENT_TYPES = ("individual", "group", "team")
DEADLINE = "deadline"  # the status of an assignment's deadline entry
_TAG_TIME = re.compile(r"^submit/(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z")


@dataclass(frozen=True)
class Identity:
    """Who and what is graded, as Classroom 50's runner tells the autograder."""

    classroom: str
    assignment: str
    owner: str
    assignment_type: str
    submission: str
    commit: str
    release: str
    review: str
    sha: str = ""
    actor: str = ""
    actor_id: int | None = None


def identity_from_env(env: Mapping[str, str]) -> Identity:
    """The Identity from the runner's variables; a missing one is a ConfigError naming it."""
    def need(*names: str) -> str:
        for name in names:
            value = env.get(name, "").strip()
            if value:
                return value
        raise ConfigError(f"${names[0]}: not set (Classroom 50's runner sets it; set it by hand "
                          "to run the autograder locally)")

    kind = env.get("ASSIGNMENT_TYPE", "").strip() or "individual"
    if kind not in ASSIGNMENT_TYPES:
        raise ConfigError(f"$ASSIGNMENT_TYPE: {kind!r} is not one of {', '.join(ASSIGNMENT_TYPES)}")
    submission = need("SUBMISSION_TAG")
    if not submission.startswith("submit/"):
        raise ConfigError(f"$SUBMISSION_TAG: {submission!r} is not a submit/* tag")
    commit = need("COMMIT_URL")
    raw_id = env.get("GITHUB_ACTOR_ID", "").strip()
    return Identity(
        classroom=need("CLASSROOM"), assignment=need("ASSIGNMENT"),
        owner=need("OWNER", "USERNAME"), assignment_type=kind, submission=submission,
        commit=commit, release=need("RELEASE_URL"), review=env.get("REVIEW_URL", "").strip()
        or commit, sha=env.get("GITHUB_SHA", "").strip(), actor=env.get("GITHUB_ACTOR", "").strip(),
        actor_id=int(raw_id) if raw_id.isdigit() else None)


def utc_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def submitted_at(checkout: Path, identity: Identity) -> str:
    """The graded commit's committer date (UTC); else the time in the submit tag's name."""
    revision = identity.sha or "HEAD"
    try:
        done = subprocess.run(["git", "-c", "safe.directory=*", "-C", str(checkout), "show",
                               "-s", "--format=%ct", revision], capture_output=True, text=True,
                              timeout=30, check=False)
        if done.returncode == 0 and done.stdout.strip().isdigit():
            return utc_stamp(dt.datetime.fromtimestamp(int(done.stdout.strip()), dt.UTC))
    except (OSError, subprocess.SubprocessError):
        pass
    match = _TAG_TIME.match(identity.submission)
    if match:
        day, hour, minute, second = match.groups()
        return f"{day}T{hour}:{minute}:{second}Z"
    return utc_stamp(dt.datetime.now(dt.UTC))


def scale_for(values: Sequence[float]) -> int:
    """The smallest of SCALES that makes every value whole (the largest when none does)."""
    for scale in SCALES:
        if all(abs(v * scale - round(v * scale)) < 1e-6 for v in values):
            return scale
    return SCALES[-1]


def _whole(value: float, scale: int) -> int:
    return max(0, int(round(value * scale)))


def _tests(result: SubmissionResult, scale: int, visibility: Visibility | None = None
           ) -> list[dict[str, Any]]:
    if not result.tests:
        message = result.error or "No notebook for this assignment was found."
        return [{"test-name": f"{result.assignment}: notebook"[:NAME_CHARS], "passed": False,
                 "score": 0, "max-score": _whole(result.max_score, scale), "points": 0.0,
                 "max-points": result.max_score, "status": "missing",
                 "message": message[:MESSAGE_CHARS]}]
    entries = []
    shown = split(result.tests, result.assignment, visibility)
    held = {t.name for t in shown.held}
    explained = by_test(explain(shown.tests, result.notes))
    for test in result.tests:
        top = _whole(test.max_score, scale)
        message = (f"Shown {shown.when}." if test.name in held
                    else "" if test.status == PASSED
                    else test_plain(test, explained.get(test.name)))
        entries.append({
            "test-name": f"{result.assignment}: {test.description or test.name}"[:NAME_CHARS],
            "passed": test.status == PASSED, "score": min(top, _whole(test.score, scale)),
            "max-score": top, "points": test.score, "max-points": test.max_score,
            "status": test.status, "message": message[:MESSAGE_CHARS]})
    return entries


def _deadline(result: SubmissionResult) -> list[dict[str, Any]]:
    """The deadline entry of one assignment (none without a grade of record): worth 0, its
    ``points`` the change from the autograde to the score of record (the late penalty, an
    override), its message the late and override lines the feedback shows."""
    lines = record_lines(result.grade, not result.missing)
    if result.grade is None or not lines:
        return []
    change = round(result.grade.final_score - result.grade.raw_score, 6)
    named = f" ({change:+g} points)" if change else ""
    return [{"test-name": f"{result.assignment}: deadline{named}"[:NAME_CHARS],
             "passed": change >= 0 and not result.grade.not_accepted, "score": 0,
             "max-score": 0, "points": change, "max-points": 0.0, "status": DEADLINE,
             "message": "\n".join(lines)[:MESSAGE_CHARS]}]


def result_document(results: Sequence[SubmissionResult], identity: Identity,
                    submitted: str, graded: str, visibility: Visibility | None = None
                    ) -> dict[str, Any]:
    """The result.json document for these (one student's) results: each test's message in
    the feedback engine's words (grader.core.feedback), a held test's (``visibility``) only
    saying when it is shown. With a late penalty or an override, ``score`` is the score of
    record: the tests' scores plus the deadline entries' change (so no longer their sum)."""
    ordered = sorted(results, key=lambda r: r.assignment)
    values = [v for r in ordered for t in r.tests for v in (t.score, t.max_score)]
    values += [r.max_score for r in ordered if not r.tests]
    scale = scale_for(values)
    tests = [entry for r in ordered
             for entry in (*_tests(r, scale, visibility), *_deadline(r))]
    change = sum(t["points"] for t in tests if t["status"] == DEADLINE)
    document: dict[str, Any] = {
        "schema": SCHEMA, "classroom": identity.classroom, "assignment": identity.assignment,
        "assignment_type": identity.assignment_type, "owner": identity.owner,
        "submission": identity.submission, "commit": identity.commit,
        "release": identity.release, "review": identity.review, "datetime": submitted,
        "graded_at": graded,
        "score": max(0, sum(t["score"] for t in tests) + round(change * scale)),
        "max-score": sum(t["max-score"] for t in tests), "tests": tests}
    if identity.actor:
        document["submitted_by"] = {"username": identity.actor, "id": identity.actor_id}
    return document


def scale_of(document: Mapping[str, Any]) -> int:
    """The scale a document was written with (1 when it has no points to compare)."""
    for test in document["tests"]:
        if test["max-points"]:
            return round(test["max-score"] / test["max-points"])
    return 1


def status_and_summary(document: Mapping[str, Any]) -> tuple[str, str]:
    """Classroom 50's commit-status state and description for a result document."""
    scale = scale_of(document)
    total = math.fsum(t["points"] for t in document["tests"])
    tests = [t for t in document["tests"] if t.get("status") != DEADLINE]
    passed = sum(1 for t in tests if t["passed"])
    state = "success" if tests and passed == len(tests) else "failure"
    top = math.fsum(t["max-points"] for t in tests)
    unit = "" if scale == 1 else f"; scores x{scale}"
    return state, (f"nn-grader: Points {points(total)}/{points(top)} "
                   f"({passed}/{len(tests)} tests passed{unit})")

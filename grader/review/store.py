"""What TAs do to the review database, each change in one transaction with its event.

A question's score is the sum of the points of the rubric items applied to the answer, clamped
to [0, the question's points]; items keep their points in ``rubric_items`` only, so editing an
item's points re-scores every answer that has it. Grades and rubric items carry a version: a
write names the version it was based on, and one based on an older version (another TA saved
in between) is refused with :class:`StaleWrite`, never silently lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from grader.core.errors import StaleWrite
from grader.extract.written import Question
from grader.review.db import events, grades, rubric_items


@dataclass(frozen=True)
class Item:
    id: int
    key: str
    label: str
    points: float
    version: int


@dataclass(frozen=True)
class Grade:
    student: str
    items: tuple[str, ...]
    comment: str
    version: int
    graded_by: str
    graded_at: datetime
    digest: str = ""  # of the answer as it was when graded ("" before migration 0002)


def now() -> datetime:
    return datetime.now(UTC)


def score(points: float, rubric: Iterable[Item], applied: Iterable[str]) -> float:
    chosen = set(applied)
    total = sum(item.points for item in rubric if item.key in chosen)
    return round(min(max(total, 0.0), points), 6)


def sync_rubric(engine: sa.Engine, assignment: str, questions: Sequence[Question]) -> None:
    """Insert the reference's rubric items the database does not have yet (a TA's edits of
    points stay: the database is the truth once grading started)."""
    with engine.begin() as db:
        have = {(r.question, r.key) for r in db.execute(
            sa.select(rubric_items.c.question, rubric_items.c.key)
            .where(rubric_items.c.assignment == assignment))}
        for question in questions:
            for position, item in enumerate(question.rubric):
                if (question.id, item.id) in have:
                    continue
                db.execute(rubric_items.insert().values(
                    assignment=assignment, question=question.id, key=item.id, label=item.label,
                    points=item.points, position=position, version=1, changed_by="reference",
                    changed_at=now()))


def rubric(engine: sa.Engine, assignment: str, question: str) -> list[Item]:
    with engine.connect() as db:
        rows = db.execute(sa.select(rubric_items).where(
            rubric_items.c.assignment == assignment, rubric_items.c.question == question)
            .order_by(rubric_items.c.position, rubric_items.c.id))
        return [Item(r.id, r.key, r.label, r.points, r.version) for r in rows]


def grades_of(engine: sa.Engine, assignment: str, question: str | None = None
              ) -> dict[tuple[str, str], Grade]:
    """(student, question) -> Grade for an assignment (one question, or all)."""
    query = sa.select(grades).where(grades.c.assignment == assignment)
    if question is not None:
        query = query.where(grades.c.question == question)
    with engine.connect() as db:
        return {(r.student, r.question): Grade(r.student, tuple(json.loads(r.items)), r.comment,
                                               r.version, r.graded_by, r.graded_at,
                                               r.answer_digest or "")
                for r in db.execute(query)}


def save_grade(engine: sa.Engine, who: str, assignment: str, student: str, question: str,
               items: Sequence[str], comment: str, based_on: int, digest: str = "") -> int:
    """Store a grade written on top of version ``based_on`` (0: none yet); its new version.
    ``digest`` names the answer graded (:func:`grader.review.answers.digest`)."""
    values = {"items": json.dumps(sorted(set(items))), "comment": comment, "graded_by": who,
              "graded_at": now(), "answer_digest": digest}
    with engine.begin() as db:
        if based_on == 0:
            try:
                with db.begin_nested():
                    db.execute(grades.insert().values(assignment=assignment, student=student,
                                                      question=question, version=1, **values))
            except sa.exc.IntegrityError:
                raise StaleWrite("another TA graded this answer first") from None
            version = 1
        else:
            done = db.execute(grades.update().where(
                grades.c.assignment == assignment, grades.c.student == student,
                grades.c.question == question, grades.c.version == based_on)
                .values(version=based_on + 1, **values))
            if done.rowcount != 1:
                raise StaleWrite("another TA changed this grade since you loaded it")
            version = based_on + 1
        _log(db, who, "grade", assignment, question, student,
             {"items": sorted(set(items)), "comment": comment, "version": version})
    return version


def set_points(engine: sa.Engine, who: str, item_id: int, points: float, based_on: int) -> Item:
    """Change a rubric item's points (every answer that has it is re-scored)."""
    with engine.begin() as db:
        row = db.execute(sa.select(rubric_items).where(rubric_items.c.id == item_id)).first()
        if row is None:
            raise StaleWrite("this rubric item does not exist")
        done = db.execute(rubric_items.update().where(
            rubric_items.c.id == item_id, rubric_items.c.version == based_on)
            .values(points=points, version=based_on + 1, changed_by=who, changed_at=now()))
        if done.rowcount != 1:
            raise StaleWrite("another TA changed this rubric item since you loaded it")
        _log(db, who, "rubric", row.assignment, row.question, "",
             {"item": row.key, "points": points, "was": row.points})
    return Item(item_id, row.key, row.label, points, based_on + 1)


def history(engine: sa.Engine, limit: int = 50) -> list[sa.Row]:
    with engine.connect() as db:
        return list(db.execute(sa.select(events).order_by(events.c.id.desc()).limit(limit)))


def _log(db: sa.Connection, who: str, action: str, assignment: str, question: str,
         student: str, detail: dict[str, object]) -> None:
    db.execute(events.insert().values(at=now(), who=who, action=action, assignment=assignment,
                                      question=question, student=student,
                                      detail=json.dumps(detail)))

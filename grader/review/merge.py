"""Written questions' points into a run's results (grades.csv, gradebook, results.json, feedback).

Only when there is a review database (``OUT/review.db``, or ``--db``) and an answer sheet: a
run without either writes exactly the reports it wrote before. Per (student, assignment) every
question of the sheet becomes a :class:`~grader.core.results.ManualGrade`: graded (rubric items
and comment from the database, points at the rubric's current values), pending (an answer no TA
has graded yet: no score, never 0), or 0 with "no answer" (nothing to grade).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader.core.results import ManualGrade, RunResult, SubmissionResult
from grader.review import answers as answer_sheets
from grader.review import location
from grader.review.answers import AnswerSheet

if TYPE_CHECKING:  # SQLAlchemy is imported only where there is a database to read
    import sqlalchemy as sa


def merge_manual(run: RunResult, out_dir: Path, url: str | None = None) -> RunResult:
    """``run`` with the written questions' grades merged (unchanged without a database)."""
    sheets = {s.assignment: s for s in answer_sheets.load(out_dir)} if out_dir.is_dir() else {}
    if not sheets or not location.exists(out_dir, url):
        return run
    from grader.review import db

    engine = db.open_db(url or location.default_url(out_dir))
    try:
        graded = {aid: _grades(engine, sheet) for aid, sheet in sheets.items()}
    finally:
        engine.dispose()
    results = tuple(_merged(r, sheets[r.assignment], graded[r.assignment])
                    if r.assignment in sheets else r for r in run.results)
    return replace(run, results=results)


def _grades(engine: sa.Engine, sheet: AnswerSheet) -> dict[tuple[str, str], ManualGrade]:
    from grader.review import store

    store.sync_rubric(engine, sheet.assignment, sheet.questions)
    saved = store.grades_of(engine, sheet.assignment)
    out = {}
    for question in sheet.questions:
        rubric = store.rubric(engine, sheet.assignment, question.id)
        for (student, qid), grade in saved.items():
            if qid != question.id:
                continue
            chosen = set(grade.items)
            out[(student, qid)] = ManualGrade(
                question.id, question.points, store.score(question.points, rubric, chosen),
                question.prompt, tuple((i.label, i.points) for i in rubric if i.key in chosen),
                grade.comment)
    return out


def _merged(result: SubmissionResult, sheet: AnswerSheet,
            graded: dict[tuple[str, str], ManualGrade]) -> SubmissionResult:
    manual = []
    answered = sheet.answers.get(result.student, {})
    for question in sheet.questions:
        found = graded.get((result.student, question.id))
        if found is not None:
            manual.append(replace(found, answered=question.id in answered))
        elif question.id in answered:
            manual.append(ManualGrade(question.id, question.points, None, question.prompt))
        else:
            manual.append(ManualGrade(question.id, question.points, 0.0, question.prompt,
                                      answered=False))
    extra = sum(q.points for q in sheet.questions)
    return replace(result, manual=tuple(manual), max_score=result.max_score + extra)


def manual_points(out_dir: Path, url: str | None = None
                  ) -> dict[tuple[str, str], tuple[float, tuple[str, ...]]]:
    """(student lower-cased, assignment) -> (written points graded, questions pending): for a
    gradebook built elsewhere (``grade collect --review OUT``)."""
    sheets = answer_sheets.load(out_dir) if out_dir.is_dir() else []
    if not sheets or not location.exists(out_dir, url):
        return {}
    from grader.review import db

    engine = db.open_db(url or location.default_url(out_dir))
    try:
        out = {}
        for sheet in sheets:
            graded = _grades(engine, sheet)
            for student in sheet.students:
                manual = _merged(SubmissionResult(student, sheet.assignment, None), sheet,
                                 graded).manual
                out[(student.lower(), sheet.assignment)] = (
                    sum(m.score for m in manual if m.score is not None),
                    tuple(m.question for m in manual if m.pending))
        return out
    finally:
        engine.dispose()

"""OUT/answers/<assignment>.json: every student's written answers, as plain data.

A grading run writes one file per assignment that has written questions (the reference
notebook's, grader.extract.written): the questions with their rubric, and per student the answer
found in the notebook that counted. The review app and the merge read only these files and the
review database, never a submission.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.core.course import Assignment
from grader.core.errors import CourseError, ExtractionError
from grader.core.paths import write_atomic
from grader.core.results import SubmissionResult
from grader.extract.read import notebook_json, read_cells
from grader.extract.written import (
    Answer,
    Image,
    Question,
    RubricItem,
    code_cells,
    find_answers,
    notebook_cells,
    reference_questions,
)

FOLDER = "answers"


@dataclass(frozen=True)
class AnswerSheet:
    assignment: str
    title: str
    questions: tuple[Question, ...]
    students: tuple[str, ...]  # everyone with a result, answered or not
    answers: Mapping[str, Mapping[str, Answer]]  # student -> question id -> answer


def digest(answer: Answer) -> str:
    """What a grade remembers of the answer it graded: its text and images, hashed."""
    h = hashlib.sha256(answer.kind.encode() + b"\0" + answer.text.encode())
    for image in answer.images:
        h.update(b"\0" + image.mime.encode() + b"\0" + image.data.encode())
    return h.hexdigest()


def stamp(out_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """The answer sheets' names, sizes and modification times: changes when a run rewrites one."""
    found = []
    for path in sorted((out_dir / FOLDER).glob("*.json")):
        try:
            info = path.stat()
        except OSError:
            continue
        found.append((path.name, info.st_size, info.st_mtime_ns))
    return tuple(found)


def questions_of(assignment: Assignment) -> tuple[Question, ...]:
    try:
        raw = json.loads(assignment.reference.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CourseError(f"{assignment.reference}: cannot read the reference: {exc}") from None
    return reference_questions(raw, str(assignment.reference))


def student_answers(path: Path, wanted: tuple[str, ...], max_bytes: int) -> dict[str, Answer]:
    """One submission's answers; an unreadable file has none (its code feedback says why)."""
    try:
        if path.suffix.lower() == ".ipynb":
            cells = notebook_cells(notebook_json(path, max_bytes))
        else:
            cells = code_cells([(c.index, c.source) for c in read_cells(path, max_bytes)])
    except ExtractionError:
        return {}
    return find_answers(cells, wanted)


def collect(results: Iterable[SubmissionResult], assignments: Iterable[Assignment],
            max_bytes: int) -> list[AnswerSheet]:
    """The answer sheets of a run (its results' paths must still exist)."""
    results = list(results)
    sheets = []
    for assignment in assignments:
        questions = questions_of(assignment)
        mine = sorted((r for r in results if r.assignment == assignment.id),
                      key=lambda r: r.student)
        if not questions or not mine:
            continue
        wanted = tuple(q.id for q in questions)
        answers = {r.student: student_answers(Path(r.path), wanted, max_bytes)
                   for r in mine if r.path}
        sheets.append(AnswerSheet(assignment.id, assignment.title, questions,
                                  tuple(r.student for r in mine), answers))
    return sheets


def write(sheets: Iterable[AnswerSheet], out_dir: Path) -> list[Path]:
    written = []
    for sheet in sheets:
        document = json.dumps(asdict(sheet), indent=1, ensure_ascii=False) + "\n"
        written.append(write_atomic(out_dir / FOLDER / f"{sheet.assignment}.json", document))
    return written


def load(out_dir: Path) -> list[AnswerSheet]:
    """Every answer sheet in ``out_dir/answers``; a broken file is a one-line CourseError."""
    sheets = []
    for path in sorted((out_dir / FOLDER).glob("*.json")):
        try:
            sheets.append(_sheet(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CourseError(f"{path}: not an answer sheet written by grade ({exc})") from None
    return sheets


def _sheet(raw: dict[str, Any]) -> AnswerSheet:
    questions = tuple(Question(q["id"], float(q["points"]), q["prompt"],
                               tuple(RubricItem(**item) for item in q["rubric"]))
                      for q in raw["questions"])
    answers = {student: {qid: Answer(a["question"], a["kind"], a["text"],
                                     tuple(Image(**i) for i in a["images"]), tuple(a["cells"]))
                         for qid, a in per.items()}
               for student, per in raw["answers"].items()}
    return AnswerSheet(raw["assignment"], raw.get("title", ""), questions,
                       tuple(raw["students"]), answers)

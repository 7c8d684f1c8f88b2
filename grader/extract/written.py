"""Written questions: the questions a reference notebook marks for people to grade, and each
student's answer to them, found however the notebook was rearranged.

A reference notebook marks a question cell (markdown or code) with cell metadata::

    "grader": {"question": {"id": "q1", "points": 4,
                            "rubric": [{"id": "a", "label": "names the kink", "points": 2},
                                       {"id": "x", "label": "wrong claim", "points": -1}]}}

and its answer cell with ``"grader": {"answer": "q1"}`` plus a marker line that survives when
students strip metadata: ``<!-- answer: q1 -->`` in markdown, ``# answer: q1`` in code. The stub
keeps both cells (a SOLUTION region in the answer becomes a placeholder).

Finding the answers is a chain of small pure functions over plain data, like the code pipeline:

    notebook_cells   raw JSON cells -> [RawCell] (type, source, metadata's labels, images)
    segments         each cell split at answer marker lines (a merged cell answers several)
    assign           segments to questions: a marked segment starts an answer; unmarked
                     cells right after it continue it (a split cell: more markdown, not a
                     heading, after a markdown answer; after a code answer, code that defines
                     nothing or has a plot); anything else ends it
    answers          joined text and images per question, placeholders counted as no answer

Images: only PNG and JPEG outputs whose bytes start with the format's magic number, at most
:data:`MAX_IMAGE_BYTES` each and :data:`MAX_IMAGES` per answer (SVG and HTML are never kept).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.core.errors import CourseError

MAX_TEXT_CHARS = 20_000
MAX_IMAGE_BYTES = 1_000_000
MAX_IMAGES = 4
#: What the stub puts where the answer goes.
PLACEHOLDER = "YOUR ANSWER HERE"
MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}

_ANSWER = re.compile(r"^\s*(?:<!--|#)\s*answer:\s*([A-Za-z0-9_.-]+)\s*(?:-->)?\s*$")
_QUESTION = re.compile(r"^\s*(?:<!--|#)\s*question:\s*([A-Za-z0-9_.-]+)\s*(?:-->)?\s*$")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


@dataclass(frozen=True)
class RubricItem:
    id: str
    label: str
    points: float


@dataclass(frozen=True)
class Question:
    """A question people grade: its id, points, prompt (the cell's text) and rubric."""

    id: str
    points: float
    prompt: str
    rubric: tuple[RubricItem, ...] = ()


@dataclass(frozen=True)
class Image:
    mime: str
    data: str  # base64, checked: the bytes start with the format's magic number


@dataclass(frozen=True)
class Answer:
    question: str
    kind: str  # "markdown" or "code"
    text: str
    images: tuple[Image, ...] = ()
    cells: tuple[int, ...] = ()  # 1-based positions in the saved notebook

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not self.images


@dataclass(frozen=True)
class RawCell:
    index: int
    kind: str
    source: str
    answer: str | None = None  # the metadata's answer id
    question: str | None = None  # the metadata's (or a marker line's) question id
    images: tuple[Image, ...] = field(default=())


# ----------------------------------------------------------------------------- the reference


def reference_questions(raw: Mapping[str, Any], where: str = "reference") -> tuple[Question, ...]:
    """The questions a reference notebook's cell metadata declares, in notebook order."""
    found: list[Question] = []
    for number, cell in enumerate(raw.get("cells") or [], start=1):
        spec = _grader_meta(cell).get("question")
        if spec is None:
            continue
        found.append(_question(spec, _text(cell.get("source", "")), f"{where}: cell {number}"))
    ids = [q.id for q in found]
    if len(set(ids)) != len(ids):
        raise CourseError(f"{where}: a question id is used twice ({', '.join(ids)})")
    return tuple(found)


def _question(spec: Any, prompt: str, where: str) -> Question:
    if not isinstance(spec, dict) or not _ID.match(str(spec.get("id", ""))):
        raise CourseError(f"{where}: grader.question needs an id of letters, digits, _ . -")
    try:
        points = float(spec["points"])
        rubric = tuple(RubricItem(str(item["id"]), str(item["label"]), float(item["points"]))
                       for item in spec.get("rubric", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise CourseError(f"{where}: grader.question {spec.get('id')}: points and rubric "
                          f"items (id, label, points) are needed ({exc})") from None
    if points <= 0 or len({item.id for item in rubric}) != len(rubric):
        raise CourseError(f"{where}: grader.question {spec['id']}: points must be positive "
                          "and rubric ids distinct")
    prompt = "\n".join(line for line in prompt.split("\n") if not _QUESTION.match(line))
    return Question(str(spec["id"]), points, prompt.strip(), rubric)


# ----------------------------------------------------------------------------- the students


def notebook_cells(raw: Mapping[str, Any]) -> list[RawCell]:
    """Every markdown and code cell of a notebook's JSON as plain data (first step)."""
    cells = []
    for index, cell in enumerate(raw.get("cells") or [], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("markdown", "code"):
            continue
        meta = _grader_meta(cell)
        answer = meta.get("answer")
        question = meta.get("question")
        cells.append(RawCell(
            index=index, kind=str(cell["cell_type"]), source=_text(cell.get("source", "")),
            answer=answer if isinstance(answer, str) else None,
            question=str(question.get("id")) if isinstance(question, dict) else None,
            images=_images(cell.get("outputs")) if cell["cell_type"] == "code" else ()))
    return cells


def code_cells(sources: Sequence[tuple[int, str]]) -> list[RawCell]:
    """The code cells of a ``.py`` submission as plain cells (they have no outputs)."""
    return [RawCell(index=i, kind="code", source=s) for i, s in sources]


def segments(cells: Sequence[RawCell]) -> list[tuple[RawCell, str | None]]:
    """Each cell cut at its answer marker lines: (piece, the answer id it starts or None)."""
    out: list[tuple[RawCell, str | None]] = []
    for cell in cells:
        label = cell.answer
        lines: list[str] = []
        pieces: list[tuple[str | None, list[str]]] = []
        for line in cell.source.split("\n"):
            marker = _ANSWER.match(line)
            if marker:
                if lines or pieces:
                    pieces.append((label, lines))
                label, lines = marker.group(1), []
            else:
                lines.append(line)
        pieces.append((label, lines))
        for number, (piece_label, piece_lines) in enumerate(pieces):
            images = cell.images if number == len(pieces) - 1 else ()
            question = cell.question or _marked_question(piece_lines)
            piece = RawCell(cell.index, cell.kind, "\n".join(piece_lines), piece_label,
                            question, images)
            out.append((piece, piece_label))
    return out


def assign(pieces: Sequence[tuple[RawCell, str | None]],
           wanted: Sequence[str]) -> dict[str, list[RawCell]]:
    """Which pieces answer which question (see the module's docstring)."""
    found: dict[str, list[RawCell]] = {}
    current: str | None = None
    kind = ""
    for piece, label in pieces:
        if label in wanted:
            current, kind = label, piece.kind
            found.setdefault(label, []).append(piece)
        elif current is not None and label is None and _continues(piece, kind):
            found[current].append(piece)
        else:
            current = None
    return found


def answers(found: Mapping[str, Sequence[RawCell]]) -> dict[str, Answer]:
    """One Answer per question answered: the pieces' text joined, their images kept."""
    out = {}
    for question, pieces in found.items():
        text = "\n\n".join(p.source.strip("\n") for p in pieces if p.source.strip())
        if text.strip() == PLACEHOLDER or text.strip() == f"# {PLACEHOLDER}":
            text = ""
        images = tuple(image for p in pieces for image in p.images)[:MAX_IMAGES]
        answer = Answer(question, pieces[0].kind, text[:MAX_TEXT_CHARS], images,
                        tuple(dict.fromkeys(p.index for p in pieces)))
        if not answer.empty:
            out[question] = answer
    return out


def find_answers(cells: Sequence[RawCell], wanted: Sequence[str]) -> dict[str, Answer]:
    """Every step in order: a student's answers to the questions ``wanted``."""
    return answers(assign(segments(cells), wanted))


def checked_image(mime: str, data: str) -> Image | None:
    """The image when its base64 decodes to at most MAX_IMAGE_BYTES of that format."""
    if mime not in MAGIC or len(data) > MAX_IMAGE_BYTES * 4 // 3 + 8:
        return None
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) > MAX_IMAGE_BYTES or not raw.startswith(MAGIC[mime]):
        return None
    return Image(mime, base64.b64encode(raw).decode("ascii"))


def _continues(piece: RawCell, kind: str) -> bool:
    if piece.question is not None:
        return False
    if kind == "markdown":  # a heading starts the notebook's next section, not more answer
        return piece.kind == "markdown" and not piece.source.lstrip().startswith("#")
    if piece.kind != "code":
        return False
    defines = any(line.startswith(("def ", "class ", "import ", "from "))
                  for line in piece.source.split("\n"))
    return bool(piece.images) or not defines


def _marked_question(lines: Sequence[str]) -> str | None:
    for line in lines:
        marker = _QUESTION.match(line)
        if marker:
            return marker.group(1)
    return None


def _images(outputs: Any) -> tuple[Image, ...]:
    found = []
    for output in outputs if isinstance(outputs, list) else []:
        data = output.get("data") if isinstance(output, dict) else None
        if not isinstance(data, dict):
            continue
        for mime in ("image/png", "image/jpeg"):
            value = data.get(mime)
            if isinstance(value, list):
                value = "".join(str(v) for v in value)
            image = checked_image(mime, value) if isinstance(value, str) else None
            if image is not None:
                found.append(image)
                break
    return tuple(found[:MAX_IMAGES])


def _grader_meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    grader = meta.get("grader") if isinstance(meta, dict) else None
    return grader if isinstance(grader, dict) else {}


def _text(source: Any) -> str:
    return "".join(str(s) for s in source) if isinstance(source, list) else str(source)

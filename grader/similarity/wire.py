"""An assignment's similarity result as JSON and back (the worker's answer; no pickle)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from grader.similarity.analyse import (
    AssignmentSimilarity,
    Block,
    Pair,
    ShownPair,
    Side,
    Skipped,
)

_PAIR_FIELDS = len(fields(Pair))


def result_to_json(result: AssignmentSimilarity) -> dict[str, Any]:
    return {
        "assignment": result.assignment, "title": result.title, "students": result.students,
        "pairs": [_row(p) for p in result.pairs],  # rows, not objects: 125,000 of them
        "shown": [{"rank": s.rank, "pair": _row(s.pair), "a": _side(s.a), "b": _side(s.b)}
                  for s in result.shown],
        "histogram": list(result.histogram),
        "skipped": [[k.student, k.file, k.reason] for k in result.skipped],
        "stub_only": list(result.stub_only),
    }


def result_from_json(data: dict[str, Any]) -> AssignmentSimilarity:
    return AssignmentSimilarity(
        assignment=str(data["assignment"]), title=str(data["title"]),
        students=int(data["students"]),
        pairs=tuple(_pair(row) for row in data["pairs"]),
        shown=tuple(ShownPair(int(s["rank"]), _pair(s["pair"]), _side_from(s["a"]),
                              _side_from(s["b"])) for s in data["shown"]),
        histogram=tuple(int(n) for n in data["histogram"]),
        skipped=tuple(Skipped(*(str(v) for v in row)) for row in data["skipped"]),
        stub_only=tuple(str(s) for s in data["stub_only"]),
    )


def _row(p: Pair) -> list[Any]:
    return [p.student_a, p.student_b, p.score, p.share_a, p.share_b, p.lines_a, p.lines_b,
            p.file_a, p.file_b]


def _side(side: Side) -> dict[str, Any]:
    return {"student": side.student, "file": side.file, "lines": _lines(side.lines),
            "blocks": [{"cell": b.cell, "numbers": list(b.numbers), "lines": _lines(b.lines)}
                       for b in side.blocks]}


def _lines(lines: Any) -> list[Any]:
    return [[[text, shared] for text, shared in line] for line in lines]


def _side_from(data: dict[str, Any]) -> Side:
    return Side(str(data["student"]), str(data["file"]), _lines_from(data["lines"]),
                tuple(Block(int(b["cell"]), tuple(int(n) for n in b["numbers"]),
                            _lines_from(b["lines"])) for b in data.get("blocks", ())))


def _lines_from(data: Any) -> tuple[tuple[tuple[str, int], ...], ...]:
    return tuple(tuple((str(text), int(shared)) for text, shared in line) for line in data)


def _pair(row: list[Any]) -> Pair:
    if len(row) != _PAIR_FIELDS:
        raise ValueError(f"a pair has {_PAIR_FIELDS} fields, got {len(row)}")
    a, b, score, share_a, share_b, lines_a, lines_b, file_a, file_b = row
    return Pair(str(a), str(b), float(score), float(share_a), float(share_b), int(lines_a),
                int(lines_b), str(file_a), str(file_b))

"""``grade stubs``: regenerate (or check) each assignment's stub from its reference notebook."""

from __future__ import annotations

from collections.abc import Callable

from grader.core.course import Course
from grader.extract.stub import stub_text


def write_stubs(course: Course, check: bool = False,
                echo: Callable[[str], None] = print) -> list[str]:
    """Write every stub (or only compare, with ``check``); return the ids that were stale."""
    stale = []
    for assignment in course.assignments:
        wanted = stub_text(assignment.reference, assignment.id)
        current = assignment.stub.read_text(encoding="utf-8") if assignment.stub.exists() else ""
        if current == wanted:
            continue
        stale.append(assignment.id)
        if check:
            echo(f"{assignment.stub}: differs from what {assignment.reference} generates")
        else:
            assignment.stub.write_text(wanted, encoding="utf-8")
            echo(f"wrote {assignment.stub}")
    return stale

"""Student code references in the words of what the student handed in.

The worker compiles statement K of the extracted module as ``<student:K>``, so Python's own
references (a warning's ``<student:6>:11``, a traceback's ``File "<student:6>", line 11``)
name the grader's chunks. :func:`located` rewrites them, grader-side, with the module's
origins (grader.extract.pipeline.StudentModule.origins): "code cell 12, line 14" of a
notebook (code cells counted), "line 40" of a .py file. An unknown K keeps the grader's name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_REFERENCE = re.compile(r'"?<student:(\d{1,9})>(?:"?(?::|,? line )(\d{1,9}))?"?')


def located(text: str, origins: Sequence[tuple[int, int]]) -> str:
    """``text`` with each ``<student:K>[:L]`` reference named as the student sees it."""
    if "<student:" not in text or not origins:
        return text

    def name(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(origins):
            return match.group(0)
        cell, first = origins[index]
        line = first + int(match.group(2)) - 1 if match.group(2) else None
        where = f"code cell {cell}" if cell else ""
        if line is not None:
            where = f"{where}, line {line}" if where else f"line {line}"
        return where or "your code"

    return _REFERENCE.sub(name, text)

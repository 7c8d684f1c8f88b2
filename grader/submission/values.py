"""Values a student's code returned that the hidden suite may not be able to use.

A function that returns a ``bfloat16`` tensor (or a float8 one) gives the suite a value that
``.numpy()`` and numpy's comparisons refuse: the suite raises TypeError, which is not the
grader breaking but the student's answer being of an unusable type. The session notes such
values per test (:func:`unusual`); when a test then fails with an error that is not one of
the suite's own checks, the test is the student's failure with this explanation, never a
grader error (grader.submission.plugin).
"""

from __future__ import annotations

import sys
from typing import Any

#: Items of a returned value looked at (a list of a million floats is not walked through).
MAX_ITEMS = 200
#: Tensor dtypes the suites use as they are; any other one is unusual.
_PLAIN_TENSOR_DTYPES = frozenset({"torch.float16", "torch.float32", "torch.float64",
                                  "torch.int8", "torch.int16", "torch.int32", "torch.int64",
                                  "torch.uint8", "torch.bool"})


def unusual(value: Any) -> list[str]:
    """What in ``value`` the suite may not handle: ``["a bfloat16 tensor"]``; [] if nothing."""
    torch = sys.modules.get("torch")
    if torch is None:
        return []
    found: list[str] = []
    stack, seen = [value], 0
    while stack and seen < MAX_ITEMS:
        item = stack.pop()
        seen += 1
        if isinstance(item, torch.Tensor):
            dtype = str(item.dtype)
            if dtype not in _PLAIN_TENSOR_DTYPES:
                found.append(f"a {dtype.removeprefix('torch.')} tensor")
        elif isinstance(item, (list, tuple)):
            stack.extend(item[:MAX_ITEMS])
        elif isinstance(item, dict):
            stack.extend(list(item.values())[:MAX_ITEMS])
    return sorted(set(found))


def explanation(found: list[str]) -> str:
    """The student's message for a test whose checks could not use what their code returned."""
    return (f"Your code returned {' and '.join(found)}, which the checks cannot use; "
            "return float32 or float64 values (a numpy array, or a float32/float64 tensor).")

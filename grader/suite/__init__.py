"""Helpers for writing suites (hidden and public): checks whose failures teach.

A failed check raises :class:`Feedback`, an AssertionError whose text is the whole message the
student sees: what was called, on which input, what was expected, what came back, and a hint.
Comparisons are made in float64 with explicit tolerances; values from the student are untrusted
data (possibly a handle to an object, a list, the wrong shape), and every check copes with that.

    check_close(got, expected, name="relu(x)", inputs={"x": x}, hint="...")
    check_unchanged(before, after, name="relu(x)")
    check(condition, "message")
    record_curve("train(x, y, ...)", student_losses, reference_losses)  # a fixture

A test that asks for the ``record_curve`` fixture (grader.submission.plugin) attaches curves to its
result, pass or fail; the feedback draws each one, the student's beside the reference's.

This module is the whole API a hidden or public suite imports from the grader: the checks, and
what a call of the student's code can give back or raise (``CallOutcome`` from
``student.call(..., return_args=True)``, ``StudentError``, ``NotAttempted``, ``Device``).
tests/test_suite_imports.py keeps suites off the grader's internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.core.errors import NotAttempted, StudentError
from grader.core.results import Curve
from grader.worker.protocol import Device

__all__ = ["ATOL", "RTOL", "CallOutcome", "Device", "Feedback", "NotAttempted", "StudentError",
           "as_float_array", "check", "check_close", "check_finite", "check_shape",
           "check_unchanged", "fmt"]

RTOL = 1e-5
ATOL = 1e-6


@dataclass(frozen=True)
class CallOutcome:
    """What ``student.call(name, ..., return_args=True)`` gives back: the value, and the
    arguments as they were after the call (to check that the student's code left them alone)."""

    value: Any
    args: list[Any]
    kwargs: dict[str, Any]


class Feedback(AssertionError):
    """A failed check; ``str()`` is the complete message for the student."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Feedback(message)


def fmt(value: Any, limit: int = 400) -> str:
    """A short, readable rendering of a value for feedback."""
    if _is_tensor(value):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=20, edgeitems=3, suppress=False):
            text = np.array2string(value, separator=", ")
        text = f"array(shape={value.shape}, dtype={value.dtype}): {text}"
    else:
        text = repr(value)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    boundary = max(cut.rfind(", "), cut.rfind("\n"), cut.rfind(" "))
    if boundary > limit // 2:  # never mid-number: end on the last whole element
        cut = cut[:boundary]
    return cut.rstrip() + " ..."


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def as_float_array(value: Any, name: str) -> np.ndarray:
    """The student's value as a float64 array, or Feedback saying why it is not one."""
    if _is_tensor(value):
        value = value.detach().cpu().numpy()
    if isinstance(value, (bool, int, float, np.generic, np.ndarray)):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return array.astype(np.float64)
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            pass
        else:
            return array
    raise Feedback(f"{name} returned {fmt(value, 120)}, which is not a numeric array.")


def check_close(got: Any, expected: Any, *, name: str,
                inputs: Mapping[str, Any] | None = None, rtol: float = RTOL,
                atol: float = ATOL, hint: str = "", check_shape: bool = True) -> None:
    """Compare in float64 with ``|got - expected| <= atol + rtol * |expected|``."""
    want = np.asarray(as_float_array(expected, "the reference"))
    have = as_float_array(got, name)
    if check_shape and have.shape != want.shape:
        raise Feedback(_message(
            f"{name} returned shape {have.shape}, expected shape {want.shape}.", inputs, hint))
    if not check_shape:
        have = np.broadcast_to(have, want.shape) if have.size == want.size else have
    bad = ~np.isclose(have, want, rtol=rtol, atol=atol, equal_nan=False) | (
        np.isfinite(want) & ~np.isfinite(have))
    if not bad.any():
        return
    index = np.unravel_index(np.argmax(bad), want.shape) if want.ndim else ()
    lines = [f"{name}: {int(bad.sum())} of {want.size} values are wrong "
             f"(tolerance: rtol={rtol:g}, atol={atol:g})."]
    at = "" if not index else f" at index {tuple(int(i) for i in index)}"
    for key, value in (inputs or {}).items():
        lines.append(f"  {key}{at} = {_entry(value, index, want.shape)}")
    lines.append(f"  expected{at}: {number(want[index])}")
    lines.append(f"  got{at}:      {number(have[index])}")
    raise Feedback(_message("\n".join(lines), None, hint))


def number(value: Any) -> str:
    """One number as a student would write it: 0.5, -3.25e-07, nan (not np.float64(0.5))."""
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return repr(value)


def _entry(value: Any, index: tuple[int, ...], shape: tuple[int, ...]) -> str:
    array = np.asarray(value.detach().cpu().numpy() if _is_tensor(value) else value)
    if index and array.shape == shape:
        return number(array[index])
    return fmt(array, 200)


def _message(text: str, inputs: Mapping[str, Any] | None, hint: str) -> str:
    lines = [text]
    for key, value in (inputs or {}).items():
        lines.append(f"  {key} = {fmt(value, 200)}")
    if hint:
        lines.append(f"Hint: {hint}")
    return "\n".join(lines)


def check_unchanged(before: Any, after: Any, *, name: str, argument: str = "x") -> None:
    """The argument after the call equals a copy taken before it (no in-place changes)."""
    if not np.array_equal(np.asarray(before), as_float_array(after, name), equal_nan=True):
        raise Feedback(f"{name} changed its input {argument} in place. Work on a copy "
                       "(for example np.maximum(x, 0) or x.copy()) instead of assigning into "
                       f"{argument}: the caller still needs the original values.")


def check_shape(got: Any, shape: tuple[int, ...], *, name: str, hint: str = "") -> np.ndarray:
    array = as_float_array(got, name)
    if array.shape != tuple(shape):
        raise Feedback(_message(f"{name} returned shape {array.shape}, expected {tuple(shape)}.",
                                None, hint))
    return array


def check_finite(got: Any, *, name: str, inputs: Mapping[str, Any] | None = None,
                 hint: str = "") -> np.ndarray:
    array = as_float_array(got, name)
    if not np.isfinite(array).all():
        count = int((~np.isfinite(array)).sum())
        raise Feedback(_message(f"{name} returned {count} non-finite values (nan or inf).",
                                inputs, hint))
    return array


#: The most points one recorded curve keeps: a longer one is thinned evenly (first point kept).
MAX_CURVE_POINTS = 2000
#: The most curves one test records (more are ignored) and the longest name kept.
MAX_CURVES = 4
MAX_CURVE_NAME = 200


def make_curve(name: str, student: Any, reference: Any, step: int = 1) -> Curve:
    """A :class:`Curve` of plain floats, bounded: at most MAX_CURVE_POINTS per side (thinned
    with one step for both, so they stay aligned), ``None`` for a value that is not a finite
    number (a student's loss that became nan or inf, or something that is not a number).
    ``step``: epochs per value given (a curve read back from the cache)."""
    have, want = _points(student), _points(reference)
    thin = max(1, -(-max(len(have), len(want)) // MAX_CURVE_POINTS))
    given = step if isinstance(step, int) and 1 <= step <= 10**6 else 1
    return Curve(name=str(name)[:MAX_CURVE_NAME], student=tuple(have[::thin]),
                 reference=tuple(want[::thin]), step=given * thin)


def _points(values: Any) -> list[float | None]:
    if _is_tensor(values):
        values = values.detach().cpu().numpy()
    if isinstance(values, np.ndarray):
        values = values.reshape(-1)[:MAX_CURVE_POINTS * 100].tolist()
    if not isinstance(values, (list, tuple)):
        return []
    return [_finite(value) for value in values[:MAX_CURVE_POINTS * 100]]


def _finite(value: Any) -> float | None:
    if _is_tensor(value):
        value = value.detach().cpu().reshape(()).item() if value.numel() == 1 else None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    number_ = float(value)
    return number_ if np.isfinite(number_) else None

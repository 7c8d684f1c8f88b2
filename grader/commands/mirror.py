"""Is a surviving mutant equivalent? Grade a *mirror* of it and see.

The mirror is a module the hidden suite grades like any submission (in the sandbox, through
the same grading path). It holds the reference and the mutant, each in a namespace of its own;
every contract function is a wrapper that calls the reference, then the mutant on deep copies
of the same arguments with the same random state, and compares what they return, what they
raise and what they leave in their arguments. Then it calls both on random probes: each
floating-point argument scaled, shifted and sign-flipped at random. Any difference raises
``MirrorDiffers``, which fails the test and so shows in the graded result; otherwise the
wrapper returns the reference's result, so the suite passes exactly when the mutant gave the
same outputs on every input the tests used and on the probes: an equivalent mutant.

Classes are not mirrored (a handle would need both objects); mutants of a class are never
called equivalent.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.core.results import SubmissionResult

#: What the wrappers raise on a difference (its name shows in the test's message).
DIFFERS = "MirrorDiffers"

_RUNTIME = '''
import copy as _mirror_copy
import random as _mirror_random
import sys as _mirror_sys

import numpy as _mirror_np

_MIRROR_PROBES = 2
_MIRROR_PROBED_CALLS = 4


class MirrorDiffers(AssertionError):
    """The mutant and the reference differ."""


def _mirror_namespace(source):
    namespace = {"__name__": "mirror"}
    exec(compile(source, "<mirror>", "exec"), namespace)
    return namespace


def _mirror_torch():
    return _mirror_sys.modules.get("torch")  # imported by the code compared, or not needed


def _mirror_state():
    torch = _mirror_torch()
    return (_mirror_random.getstate(), _mirror_np.random.get_state(),
            torch.random.get_rng_state() if torch is not None else None)


def _mirror_restore(state):
    _mirror_random.setstate(state[0])
    _mirror_np.random.set_state(state[1])
    if state[2] is not None:
        _mirror_torch().random.set_rng_state(state[2])


def _mirror_run(function, args, kwargs):
    try:
        return function(*args, **kwargs), None
    except Exception as error:
        return None, error


def _mirror_plain(value):
    torch = _mirror_torch()
    if torch is not None and isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), value.requires_grad,
                value.detach().cpu().double().numpy())
    if torch is not None and isinstance(value, torch.nn.Module):
        return ("module", type(value).__name__,
                {k: _mirror_plain(v) for k, v in value.state_dict().items()})
    return value


def _mirror_same(a, b):
    a, b = _mirror_plain(a), _mirror_plain(b)
    if isinstance(a, BaseException) or isinstance(b, BaseException):
        return type(a) is type(b)
    if isinstance(a, (_mirror_np.ndarray, _mirror_np.generic)):
        if not isinstance(b, (_mirror_np.ndarray, _mirror_np.generic)):
            return False
        a, b = _mirror_np.asarray(a), _mirror_np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc":
            return bool(_mirror_np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))
        return bool(_mirror_np.array_equal(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-12 + 1e-9 * abs(b) or (a != a and b != b)
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(_mirror_same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(map(_mirror_same, a, b)))
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:
        return True


def _mirror_both(name, args, kwargs):
    """The reference's (result, error) on the arguments; MirrorDiffers if the mutant's differ."""
    copies = _mirror_copy.deepcopy((args, kwargs))
    before = _mirror_state()
    ours = _mirror_run(_MIRROR_REFERENCE[name], args, kwargs)
    after = _mirror_state()
    _mirror_restore(before)
    theirs = _mirror_run(_MIRROR_MUTANT[name], *copies)
    _mirror_restore(after)
    if not (_mirror_same(ours[0], theirs[0]) and _mirror_same(ours[1], theirs[1])
            and _mirror_same((args, kwargs), copies)):
        raise MirrorDiffers(f"{name}: the mutant differs from the reference")
    return ours


def _mirror_probe(value, rng, k):
    torch = _mirror_torch()
    if torch is not None and isinstance(value, torch.Tensor) and value.is_floating_point():
        noise = _mirror_probe(value.detach().cpu().numpy(), rng, k)
        return torch.as_tensor(noise, dtype=value.dtype, device=value.device)
    if isinstance(value, _mirror_np.ndarray) and value.dtype.kind == "f":
        scale = rng.uniform(0.5, 2.0, size=value.shape) * (-1 if k % 2 else 1)
        return (value * scale + rng.normal(size=value.shape)).astype(value.dtype)
    if isinstance(value, float):
        return value * rng.uniform(0.5, 2.0) * (-1 if k % 2 else 1) + rng.normal()
    if isinstance(value, (list, tuple)) and not isinstance(value, str):
        return type(value)(_mirror_probe(v, rng, k) for v in value)
    return value


_MIRROR_CALLS = {}


def _mirror_call(name, args, kwargs):
    result, error = _mirror_both(name, args, kwargs)
    calls = _MIRROR_CALLS[name] = _MIRROR_CALLS.get(name, 0) + 1
    if calls <= _MIRROR_PROBED_CALLS:
        rng = _mirror_np.random.default_rng(calls)
        for k in range(_MIRROR_PROBES):
            probe = _mirror_probe(_mirror_copy.deepcopy((list(args), kwargs)), rng, k)
            _mirror_both(name, tuple(probe[0]), probe[1])
    if error is not None:
        raise error
    return result
'''


def mirror_source(reference: str, mutant: str, functions: Sequence[str]) -> str:
    """The mirror module of ``mutant`` (both modules' sources) for the contract ``functions``."""
    lines = [_RUNTIME,
             f"_MIRROR_REFERENCE = _mirror_namespace({reference!r})",
             f"_MIRROR_MUTANT = _mirror_namespace({mutant!r})"]
    for name in functions:
        lines.append(f"\n\ndef {name}(*args, **kwargs):\n"
                     f"    return _mirror_call({name!r}, args, kwargs)\n")
    return "\n".join(lines) + "\n"


def differs(result: SubmissionResult) -> bool:
    """Whether grading the mirror showed a difference (or anything short of full marks)."""
    return result.score < result.max_score or any(
        DIFFERS in t.message for t in result.tests)

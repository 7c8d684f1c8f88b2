"""torch._dynamo imported on demand: an eager optimizer step without the compiler's import.

Every eager step of a torch optimizer runs ``import torch._dynamo`` and calls
``torch._dynamo.graph_break()`` (``torch.optim.optimizer._use_grad_for_differentiable``), and
``zero_grad``, Adam's update and a few more go through ``torch._disable_dynamo``, whose first
call is ``torch._dynamo.disable(fn, recursive, wrapping=False)``. Importing torch._dynamo (the
compiler: sympy, symbolic shapes, trace rules) costs about as much CPU as importing torch
itself, 1.0-1.1 s here, and it was paid twice on every cold start with a training notebook:
by the zygote for its workers and by the grader for the suites' reference training (issue 32).

Outside a trace both calls are no-ops: ``graph_break`` has an empty body, and a function
"disabled" for the compiler runs as it is when nothing compiles. A trace needs the compiler,
and the compiler is torch._dynamo itself. So :func:`defer` puts a placeholder module under
that name which answers those two names (``graph_break`` does nothing, ``disable`` wraps the
function so that it runs as it is) and imports the real module the first time anything else
is asked of it (``torch.compile``, ``torch._dynamo.config``, ``from torch._dynamo import``,
any attribute): the placeholder then leaves ``sys.modules``, and every later lookup, a
wrapper made earlier included, reaches the real module. Nothing can trace before that, so no
call answered by the placeholder could have behaved differently (tests/test_ondemand.py
trains with and without it: the same bits).

Used by the zygote before its workers fork (grader/worker/zygote.py) and by the grader
before the suites' reference training (grader/run/local.py). Standard library only: the
zygote imports it by file name inside the sandbox.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
from collections.abc import Callable
from typing import Any

NAME = "torch._dynamo"


class Placeholder(types.ModuleType):
    """Stands for torch._dynamo until something needs more than an eager step does."""

    def __init__(self, spec: importlib.machinery.ModuleSpec) -> None:
        super().__init__(NAME)
        self.__spec__ = spec
        self.__file__ = spec.origin
        self.__loader__ = spec.loader
        self.__path__ = list(spec.submodule_search_locations or [])

    def __getattr__(self, name: str) -> Any:  # only for names not set above
        return getattr(real(), name)

    def graph_break(self, msg: str = "") -> None:
        """A no-op outside a trace, as torch._dynamo's own."""
        if not placeholding():
            sys.modules[NAME].graph_break(msg)

    def disable(self, fn: Callable[..., Any] | None = None, recursive: bool = True, *,
                reason: str | None = None, wrapping: bool = True) -> Any:
        """``fn`` as it runs when nothing compiles; once torch._dynamo is really imported,
        the real ``disable`` of it (made on the first call after that)."""
        if fn is None or not placeholding():
            return real().disable(fn, recursive, reason=reason, wrapping=wrapping)
        function = fn
        made: list[Callable[..., Any]] = []

        def eager(*args: Any, **kwargs: Any) -> Any:
            if placeholding():
                return function(*args, **kwargs)
            if not made:
                made.append(sys.modules[NAME].disable(function, recursive, reason=reason,
                                                      wrapping=wrapping))
            return made[0](*args, **kwargs)

        return eager


def placeholding() -> bool:
    """Is the placeholder still what ``import torch._dynamo`` gives?"""
    return isinstance(sys.modules.get(NAME), Placeholder)


def real() -> types.ModuleType:
    """The real torch._dynamo, imported now if the placeholder stood for it."""
    if placeholding():
        del sys.modules[NAME]
    return importlib.import_module(NAME)


def defer() -> bool:
    """Put the placeholder in place of torch._dynamo where torch is imported and the real
    module is not; True when it did."""
    torch = sys.modules.get("torch")
    if torch is None or NAME in sys.modules:
        return False
    spec = importlib.machinery.PathFinder.find_spec(NAME, list(torch.__path__))
    if spec is None:  # a torch without a compiler: nothing to defer
        return False
    sys.modules[NAME] = Placeholder(spec)
    return True

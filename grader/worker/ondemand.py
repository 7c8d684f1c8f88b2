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
is asked of it (``torch.compile``, ``from torch._dynamo import``, any attribute, any
submodule such as ``torch._dynamo.config``, which torch's own code imports in a few places):
the placeholder then leaves ``sys.modules``, and every later lookup, a wrapper made earlier
included, reaches the real module. Nothing can trace before that, so no call answered by the
placeholder could have behaved differently (tests/test_ondemand.py trains with and without
it: the same bits; a submodule import loads what a plain import loads, each module once).

Used by the zygote before its workers fork (grader/worker/warm.py), by a cold worker after
its Load (grader/worker/remote.py: the self-check's too) and by the grader before the suites'
reference training (grader/run/preload.py). Standard library only: the zygote and the worker
import it by file name inside the sandbox.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Callable
from typing import Any

NAME = "torch._dynamo"


class Placeholder(types.ModuleType):
    """Stands for torch._dynamo until something needs more than an eager step does.

    It has no ``__path__`` of its own: importing a submodule (``torch._dynamo.utils``) asks
    for it first, which imports the real package, so no submodule is ever loaded under the
    placeholder; :class:`Loaded` then hands the import system the submodule the package
    already loaded, instead of a second copy."""

    def __init__(self, spec: importlib.machinery.ModuleSpec) -> None:
        super().__init__(NAME)
        self.__spec__ = spec
        self.__file__ = spec.origin
        self.__loader__ = spec.loader

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


class Loaded(importlib.abc.Loader):
    """A meta path finder and loader for a submodule of torch._dynamo that is already in
    ``sys.modules`` when the import system looks for it: the real package, imported while
    that import asked the placeholder for its ``__path__``, loaded it. The import system then
    takes that module (its own spec put back) instead of executing the file again."""

    @staticmethod
    def find_spec(name: str, path: object = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        module = sys.modules.get(name)
        if target is not None or module is None or not name.startswith(NAME + "."):
            return None
        return importlib.machinery.ModuleSpec(name, Loaded(module))

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = getattr(module, "__spec__", None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        if getattr(module, "__spec__", None) is not self.spec:  # the import system set ours
            with contextlib.suppress(AttributeError):  # (a config module refuses new names)
                module.__spec__ = self.spec


def placeholding() -> bool:
    """Is the placeholder still what ``import torch._dynamo`` gives?"""
    return isinstance(sys.modules.get(NAME), Placeholder)


def real() -> types.ModuleType:
    """The real torch._dynamo, imported now if the placeholder stood for it."""
    module = sys.modules.get(NAME)
    if isinstance(module, Placeholder):
        sys.modules.pop(NAME, None)
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
    if Loaded not in sys.meta_path:
        sys.meta_path.insert(0, Loaded)  # type: ignore[arg-type]
    sys.modules[NAME] = Placeholder(spec)
    return True


def warm_step() -> None:
    """The placeholder in place, then one SGD step on a throwaway parameter: what an
    optimizer's first step imports, but the compiler, imported now (by the zygote for its
    workers, by the grader for the suites' reference training). torch must be imported."""
    torch = sys.modules["torch"]
    defer()
    parameter = torch.zeros(1, requires_grad=True)
    torch.optim.SGD([parameter], lr=0.1).step()

"""The ``student`` object that hidden tests use: the student's module, seen through the worker.

    student.relu(x)                          -> the value, decoded as plain data
    student.call("relu", x, return_args=True) -> CallOutcome(value, args, kwargs) after the call
    model = student.SimpleNN()                -> a RemoteObject (the module stays in the worker)
    model.fc1.weight, model(x), model.call_method("load_state_dict", sd)
    student.probe(SOURCE, model, x)           -> runs suite code ``probe(model, x)`` in the worker

Every value that comes back is untrusted data: arrays, tensors, numbers, strings, containers,
or handles to objects that never leave the worker. Each request names what it runs (a
grader.submission.stops.Subject), so what hung once is not called again.
"""

from __future__ import annotations

from typing import Any

from grader.core.errors import StaleObject
from grader.submission.handles import HANDLE_SLOT
from grader.submission.session import WorkerSession
from grader.submission.stops import Subject, function_subject, method_subject, probe_subject
from grader.suite import CallOutcome
from grader.worker import protocol


class RemoteObject:
    """An object living in the worker, reached by attribute reads and calls."""

    __slots__ = (HANDLE_SLOT, "_session", "_generation")  # handles.handle_of reads the first

    def __init__(self, session: WorkerSession, handle: protocol.Handle) -> None:
        object.__setattr__(self, HANDLE_SLOT, handle)
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_generation", session.generation)

    @property
    def type_name(self) -> str:
        return self._remote_handle.type_name

    def _request(self, message: Any, subject: Subject) -> Any:
        if self._generation != self._session.generation:
            raise StaleObject(self.type_name)
        return self._session.request(message, self._session_decoder(), subject)

    def _session_decoder(self) -> Any:
        session = self._session
        return lambda handle: RemoteObject(session, handle)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._request(protocol.GetAttr(name, handle=self._remote_handle.id),
                             method_subject(self.type_name, name)).value

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call_method("", *args, **kwargs)

    def call_method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        message = protocol.Call(name, list(args), kwargs, handle=self._remote_handle.id)
        subject = method_subject(self.type_name, name, [*args, *kwargs.values()])
        return self._request(message, subject).value

    def __repr__(self) -> str:
        return f"<{self.type_name} object in the student's process>"


class StudentProxy:
    """The student's module; attribute access gives callables that run in the worker."""

    def __init__(self, session: WorkerSession) -> None:
        self._session = session

    def _decoder(self) -> Any:
        session = self._session
        return lambda handle: RemoteObject(session, handle)

    def call(self, name: str, *args: Any, return_args: bool = False, **kwargs: Any) -> Any:
        message = protocol.Call(name, list(args), kwargs, return_args=return_args)
        subject = function_subject(name, [*args, *kwargs.values()])
        result = self._session.request(message, self._decoder(), subject)
        if return_args:
            return CallOutcome(result.value, list(result.args or []), dict(result.kwargs or {}))
        return result.value

    def get(self, name: str) -> Any:
        """A module-level value (data, or a RemoteObject)."""
        return self._session.request(protocol.GetAttr(name), self._decoder(),
                                     function_subject(name)).value

    def defines(self, name: str) -> bool:
        return name in self._session.ensure_ready().defined

    def probe(self, source: str, *args: Any) -> Any:
        return self._session.request(protocol.Probe(source, list(args)), self._decoder(),
                                     probe_subject(source, args)).value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _RemoteFunction(self, name)


class _RemoteFunction:
    __slots__ = ("_proxy", "_name")

    def __init__(self, proxy: StudentProxy, name: str) -> None:
        self._proxy = proxy
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._proxy.call(self._name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<student function {self._name}>"

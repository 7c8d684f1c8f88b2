"""Objects that stay in the worker, as the grader holds them.

A RemoteObject (grader.submission.proxy) keeps its worker-side handle in the slot named
:data:`HANDLE_SLOT` (an attribute name no student object's attribute can shadow: reads of
other names go to the worker). The modules below the proxy (the session encodes handles, the
stops name their classes) read it through :func:`handle_of`, never by the slot's name.
"""

from __future__ import annotations

from typing import Any

from grader.worker import protocol

HANDLE_SLOT = "_remote_handle"


def handle_of(value: Any) -> protocol.Handle | None:
    """The worker-side handle of a RemoteObject; None for any other value."""
    handle = getattr(value, HANDLE_SLOT, None)
    return handle if isinstance(handle, protocol.Handle) else None

"""What every part of the protocol shares: its size limits, its two errors, and the value
types that stand for what does not cross as data (a handle, a callback, a device)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_FRAME_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000
#: JSON nesting of a header: each value level is at most 3 JSON levels ($dict pairs), plus the
#: header's own object and fields.
MAX_JSON_DEPTH = 3 * MAX_DEPTH + 8
#: a frame on a channel: its length, then the message (a header length, the header, blobs)
FRAME_LENGTH = struct.Struct(">Q")
HEADER_LENGTH = struct.Struct(">I")


class WireError(Exception):
    """A frame or value that breaks the protocol (too big, malformed, unknown type)."""


class NotData(Exception):
    """A value that cannot cross as data (raised by the encoder when handles are refused)."""


@dataclass(frozen=True)
class Handle:
    """A reference to an object that stays in the worker (a model, a cache, a method)."""

    id: int
    type_name: str


@dataclass(frozen=True)
class CallbackRef:
    """A reference to a grader-side callable the worker may ask the grader to evaluate."""

    id: int


@dataclass(frozen=True)
class Device:
    """A torch device, by name ("cpu", "cuda:0"); crosses without importing torch."""

    name: str


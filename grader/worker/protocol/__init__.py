"""The protocol between the grader (controller) and the worker that runs student code.

This package is the only grader code the worker imports, so it depends on the standard library
alone (numpy and torch are imported lazily, only when a value of theirs is on the wire). Its
modules, each with one reason to change:

    values.py    size limits, WireError/NotData, Handle, CallbackRef, Device
    messages.py  the worker's messages (Load, Call, ... Result, Failure)
    control.py   the warm zygote's control messages (ZygoteSpawn, ...)
    codec.py     values <-> JSON tree + blobs; the JSON pre-check (check_json)
    framing.py   messages <-> bytes, frames on a channel

Everything is re-exported here: callers write ``protocol.Call``, ``protocol.encode_message``.

Wire format: a frame is an 8-byte big-endian length, then a 4-byte header length, a UTF-8 JSON
header, and the raw blobs the header refers to. Arrays and tensors travel as their raw bytes,
described by a dtype that must name a plain number type and a shape that must match the bytes
(codec.py); nothing is ever unpickled. Every frame, blob and
container is size-capped, so a hostile worker can make the grader reject a message but never
run code or exhaust memory: a header's size, JSON nesting and item count are checked on its
raw bytes before it is parsed (:func:`check_json`), and any failure while decoding, however
deep or large the input, is one :class:`WireError`.

Values that are not plain data (an ``nn.Module``, a student's ``cache`` object, a generator)
stay in the worker and cross as a :class:`Handle`; the grader passes handles back in later
calls. A grader-side callable argument crosses as a :class:`CallbackRef`: the worker asks the
grader to evaluate it (``CallbackRequest``) and waits for the ``Reply``.
"""

from __future__ import annotations

from .codec import (
    Decoder,
    Encoder,
    check_json,
    short_repr,
)
from .control import (
    CONTROL_MESSAGES,
    FONT_LIST,
    ZygoteError,
    ZygoteExit,
    ZygoteKill,
    ZygotePing,
    ZygotePong,
    ZygoteReady,
    ZygoteSpawn,
    ZygoteSpawned,
    ZygoteStatus,
)
from .framing import (
    check_frame_length,
    check_header_length,
    decode_control,
    decode_message,
    encode_message,
    frame,
    read_frame,
    write_frame,
)
from .messages import (
    MESSAGES,
    Call,
    CallbackRequest,
    Failure,
    GetAttr,
    Load,
    Message,
    Probe,
    Ready,
    Reply,
    Result,
    Shutdown,
    Started,
)
from .values import (
    FRAME_LENGTH,
    HEADER_LENGTH,
    MAX_DEPTH,
    MAX_FRAME_BYTES,
    MAX_HEADER_BYTES,
    MAX_ITEMS,
    MAX_JSON_DEPTH,
    CallbackRef,
    Device,
    Handle,
    NotData,
    WireError,
)

__all__ = [
    "CONTROL_MESSAGES",
    "FONT_LIST",
    "Call",
    "CallbackRef",
    "CallbackRequest",
    "Decoder",
    "Device",
    "Encoder",
    "FRAME_LENGTH",
    "Failure",
    "GetAttr",
    "HEADER_LENGTH",
    "Handle",
    "Load",
    "MAX_DEPTH",
    "MAX_FRAME_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_ITEMS",
    "MAX_JSON_DEPTH",
    "MESSAGES",
    "Message",
    "NotData",
    "Probe",
    "Ready",
    "Reply",
    "Result",
    "Shutdown",
    "Started",
    "WireError",
    "ZygoteError",
    "ZygoteExit",
    "ZygoteKill",
    "ZygotePing",
    "ZygotePong",
    "ZygoteReady",
    "ZygoteSpawn",
    "ZygoteSpawned",
    "ZygoteStatus",
    "check_frame_length",
    "check_header_length",
    "check_json",
    "decode_control",
    "decode_message",
    "encode_message",
    "frame",
    "read_frame",
    "short_repr",
    "write_frame",
]

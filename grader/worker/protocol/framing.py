"""Framing: a message as bytes (a header length, a JSON header, blobs) and on a channel (an
8-byte length first), each length checked against its limit before anything is read."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, BinaryIO

from .codec import Decoder, Encoder, check_json, short_repr
from .control import CONTROL_MESSAGES
from .messages import MESSAGES, Message
from .values import (
    FRAME_LENGTH,
    HEADER_LENGTH,
    MAX_FRAME_BYTES,
    MAX_HEADER_BYTES,
    CallbackRef,
    Handle,
    WireError,
)


def encode_message(message: Message, to_handle: Callable[[Any], Handle | None] | None = None,
                   to_callback: Callable[[Any], CallbackRef] | None = None) -> bytes:
    """One message as a frame (without the outer length prefix)."""
    encoder = Encoder(to_handle, to_callback)
    fields = {name: encoder.encode(getattr(message, name)) for name in _field_names(message)}
    header = json.dumps({"type": type(message).__name__, "fields": fields,
                         "blobs": [len(b) for b in encoder.blobs]}).encode()
    if len(header) > MAX_HEADER_BYTES:
        raise WireError(f"message header of {len(header)} bytes exceeds {MAX_HEADER_BYTES}")
    payload = HEADER_LENGTH.pack(len(header)) + header + b"".join(encoder.blobs)
    if len(payload) > MAX_FRAME_BYTES:
        raise WireError(f"message of {len(payload)} bytes exceeds {MAX_FRAME_BYTES}")
    return payload


def decode_message(payload: bytes, from_handle: Callable[[Handle], Any] | None = None,
                   from_callback: Callable[[CallbackRef], Any] | None = None,
                   kinds: dict[str, type] = MESSAGES) -> Message:
    """Parse a frame produced by :func:`encode_message`; anything else is a WireError.

    ``kinds``: the message types accepted (MESSAGES on a worker's channel, CONTROL_MESSAGES on
    a zygote's control socket). The header is bounded before it is parsed, and every error
    while decoding (a malformed tree, a bad array, RecursionError, MemoryError) becomes a
    WireError, never anything else.
    """
    try:
        return _decode(payload, from_handle, from_callback, kinds)
    except WireError:
        raise
    except Exception as exc:  # noqa: BLE001 - hostile bytes may break decoding any way
        raise WireError(f"malformed message ({type(exc).__name__})") from None


def decode_control(payload: bytes) -> Message:
    """A zygote control message (one of CONTROL_MESSAGES); anything else is a WireError."""
    return decode_message(payload, kinds=CONTROL_MESSAGES)


def _decode(payload: bytes, from_handle: Callable[[Handle], Any] | None,
            from_callback: Callable[[CallbackRef], Any] | None,
            kinds: dict[str, type]) -> Message:
    if len(payload) < HEADER_LENGTH.size:
        raise WireError("message shorter than its header length")
    (hlen,) = HEADER_LENGTH.unpack_from(payload, 0)
    check_header_length(hlen, len(payload))
    raw = payload[4:4 + hlen]
    check_json(raw)
    try:
        header = json.loads(raw)
        sizes = [int(n) for n in header["blobs"]]
        kind = header["type"]
        fields = header["fields"]
    except (ValueError, KeyError, TypeError) as exc:
        raise WireError(f"malformed message header ({type(exc).__name__})") from None
    cls = kinds.get(kind) if type(kind) is str else None
    if cls is None:
        raise WireError(f"unknown message type {short_repr(kind)}")
    if sum(sizes) + 4 + hlen != len(payload) or any(n < 0 for n in sizes):
        raise WireError("message blobs do not add up")
    blobs, offset = [], 4 + hlen
    for size in sizes:
        blobs.append(payload[offset:offset + size])
        offset += size
    decoder = Decoder(blobs, from_handle, from_callback)
    try:
        values = {name: decoder.decode(fields[name]) for name in _field_names(cls)}
        return cls(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"malformed {cls.__name__} message ({type(exc).__name__})") from None


def _field_names(message: Any) -> list[str]:
    return list(message.__dataclass_fields__)


def frame(payload: bytes) -> bytes:
    """A message as it goes on a channel: its length, then the message."""
    return FRAME_LENGTH.pack(len(payload)) + payload


def check_frame_length(length: int, max_bytes: int = MAX_FRAME_BYTES) -> None:
    """Refuse a frame by the length it announces, before reading it."""
    if length > max_bytes:
        raise WireError(f"frame of {length} bytes (limit {max_bytes})")


def check_header_length(header: int, length: int) -> None:
    """Refuse a message by its announced header length (``length``: the whole message's)."""
    if header > MAX_HEADER_BYTES or HEADER_LENGTH.size + header > length:
        raise WireError(f"message header of {header} bytes (limit {MAX_HEADER_BYTES}, "
                        f"message {length})")


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(frame(payload))
    stream.flush()


def read_frame(stream: BinaryIO, max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    """Read one frame; EOF raises EOFError, an oversized length a WireError."""
    (length,) = FRAME_LENGTH.unpack(_read_exact(stream, FRAME_LENGTH.size))
    check_frame_length(length, max_bytes)
    return _read_exact(stream, length)


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)

"""The protocol between the grader (controller) and the worker that runs student code.

This module is the only grader code the worker imports, so it depends on the standard library
alone (numpy and torch are imported lazily, only when a value of theirs is on the wire). It
holds the typed messages, the data codec and the framing.

Wire format: a frame is an 8-byte big-endian length, then a 4-byte header length, a UTF-8 JSON
header, and the raw blobs the header refers to. Arrays and tensors travel as ``.npy`` bytes
written and read with ``allow_pickle=False``; nothing is ever unpickled. Every frame, blob and
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

import io
import itertools
import json
import math
import re
import struct
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO

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


# --------------------------------------------------------------------------- value types


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


# --------------------------------------------------------------------------- messages
# Controller -> worker


@dataclass(frozen=True)
class Load:
    """Execute the student's module: top-level statements, each on its own."""

    statements: list[str]
    threads: int = 1
    device: str = "cpu"
    #: the submission's seed: ``random``, numpy's and torch's global RNGs start from it, so
    #: that code using them (nn.Linear's initial weights) behaves the same on every run
    seed: int = 0


@dataclass(frozen=True)
class Call:
    """Call ``module.<target>`` (handle None) or ``handle.<target>`` ("" calls the handle)."""

    target: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    handle: int | None = None
    return_args: bool = False


@dataclass(frozen=True)
class GetAttr:
    """Read ``module.<name>`` (handle None) or ``handle.<name>``."""

    name: str
    handle: int | None = None


@dataclass(frozen=True)
class Probe:
    """Run suite-defined probe code in the worker: ``source`` defines ``probe(*args)``."""

    source: str
    args: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    """The grader's answer to a CallbackRequest."""

    value: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Shutdown:
    """Exit cleanly."""


# Worker -> controller


@dataclass(frozen=True)
class Started:
    """The worker is up, before any student code: a channel that fails earlier is the
    grader's failure, never the student's."""


@dataclass(frozen=True)
class Ready:
    """The module is loaded: the names it defines and the statements that failed."""

    defined: list[str]
    errors: list[str]


@dataclass(frozen=True)
class Result:
    """A call's value, and the arguments as they are after the call when asked for."""

    value: Any = None
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None


@dataclass(frozen=True)
class Failure:
    """Student code raised. ``traceback`` holds only the student's own frames."""

    error_type: str
    message: str
    traceback: str = ""
    not_implemented: bool = False


@dataclass(frozen=True)
class CallbackRequest:
    """The worker asks the grader to evaluate callback ``id`` with these arguments."""

    id: int
    args: list[Any] = field(default_factory=list)


MESSAGES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Load, Call, GetAttr, Probe, Reply, Shutdown, Started, Ready, Result, Failure,
                CallbackRequest)
}
Message = Any  # one of the dataclasses in MESSAGES (or CONTROL_MESSAGES)


# --------------------------------------------------------------------------- zygote control
# The warm zygote's control socket (grader/worker/zygote.py): one message per datagram, framed
# as above without the outer length. Each message checks its field types, so a malformed one
# decodes to a WireError, never to a value the zygote or grader would trip on later.


def _check(message: Any, **kinds: type | tuple[type, ...]) -> None:
    for name, kind in kinds.items():
        value = getattr(message, name)
        allowed = kind if isinstance(kind, tuple) else (kind,)
        if type(value) not in allowed:
            raise TypeError(f"{type(message).__name__}.{name} is a {type(value).__name__}")


@dataclass(frozen=True)
class ZygotePing:
    """Grader -> zygote: are you there? (Answer: ZygotePong.)"""


@dataclass(frozen=True)
class ZygoteSpawn:
    """Grader -> zygote: fork a worker on the three fds sent with it (read, write, output).
    Answer: ZygoteSpawned or ZygoteError."""

    limits: dict[str, int]
    home: str | None = None  # the worker's home and working folder (uid mode)
    tmp_bytes: int = 0  # size of its /tmp and /dev/shm (namespaces mode)

    def __post_init__(self) -> None:
        _check(self, limits=dict, home=(str, type(None)), tmp_bytes=int)
        if any(type(k) is not str or type(v) is not int for k, v in self.limits.items()):
            raise TypeError("ZygoteSpawn.limits maps names to ints")


@dataclass(frozen=True)
class ZygoteStatus:
    """Grader -> zygote: a worker's wait status, waiting up to ``wait`` s for it to exit."""

    pid: int
    wait: float = 0.0

    def __post_init__(self) -> None:
        _check(self, pid=int, wait=(int, float))


@dataclass(frozen=True)
class ZygoteKill:
    """Grader -> zygote: SIGKILL a worker (answer: its ZygoteExit)."""

    pid: int

    def __post_init__(self) -> None:
        _check(self, pid=int)


@dataclass(frozen=True)
class ZygoteReady:
    """Zygote -> grader, once, unasked: imports done; ``isolation``: why workers cannot be
    isolated here (None: they can)."""

    missing: list[str] = field(default_factory=list)
    isolation: str | None = None

    def __post_init__(self) -> None:
        _check(self, missing=list, isolation=(str, type(None)))


@dataclass(frozen=True)
class ZygotePong:
    """Zygote -> grader: the answer to ZygotePing."""


@dataclass(frozen=True)
class ZygoteSpawned:
    pid: int

    def __post_init__(self) -> None:
        _check(self, pid=int)


@dataclass(frozen=True)
class ZygoteExit:
    """A worker's wait status (``os.waitpid``'s), None while it runs."""

    status: int | None

    def __post_init__(self) -> None:
        _check(self, status=(int, type(None)))


@dataclass(frozen=True)
class ZygoteError:
    """Zygote -> grader: the request could not be done (or was not understood)."""

    error: str

    def __post_init__(self) -> None:
        _check(self, error=str)


CONTROL_MESSAGES: dict[str, type] = {
    cls.__name__: cls
    for cls in (ZygotePing, ZygoteSpawn, ZygoteStatus, ZygoteKill, ZygoteReady, ZygotePong,
                ZygoteSpawned, ZygoteExit, ZygoteError)
}


# --------------------------------------------------------------------------- codec


class _Encoder:
    """Turns a value into a JSON-able tree plus blobs. ``to_handle`` stores non-data objects."""

    def __init__(self, to_handle: Callable[[Any], Handle | None] | None,
                 to_callback: Callable[[Any], CallbackRef] | None) -> None:
        self.blobs: list[bytes] = []
        self.items = 0
        self.to_handle = to_handle
        self.to_callback = to_callback

    def encode(self, value: Any, depth: int = 0) -> Any:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            raise WireError("value too deeply nested or too large")
        kind = type(value)
        if value is None or kind in (bool, int, str):
            return value
        if kind is float:
            return value if math.isfinite(value) else {"$float": repr(value)}
        if kind is list:
            return [self.encode(v, depth + 1) for v in value]
        if kind is tuple:
            return {"$tuple": [self.encode(v, depth + 1) for v in value]}
        if kind is dict or _is_ordered_dict(value):
            return {"$dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                              for k, v in value.items()]}
        if kind in (Handle, CallbackRef, Device):
            return {"$" + kind.__name__.lower(): asdict(value)}
        special = self._encode_library_value(value)
        if special is not None:
            return special
        if isinstance(value, tuple):  # torch.Size, a namedtuple: the data, not a handle
            return {"$tuple": [self.encode(v, depth + 1) for v in tuple.__iter__(value)]}
        if isinstance(value, list):
            return [self.encode(v, depth + 1) for v in list.__iter__(value)]
        handle = self.to_handle(value) if self.to_handle is not None else None
        if handle is not None:
            return {"$handle": asdict(handle)}
        if callable(value) and self.to_callback is not None:
            return {"$callbackref": asdict(self.to_callback(value))}
        raise NotData(f"a {_type_name(value)} object is not data")

    def _encode_library_value(self, value: Any) -> Any:
        np = sys.modules.get("numpy")
        if np is not None:
            if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
                return {"$nd": self._blob(np.asarray(value)), "scalar": False}
            if isinstance(value, np.generic) and value.dtype.kind in "biuf":
                return {"$nd": self._blob(np.asarray(value)), "scalar": True}
        torch = sys.modules.get("torch")
        if torch is not None:
            if isinstance(value, torch.Tensor):
                return self._encode_tensor(torch, value)
            if isinstance(value, torch.device):
                return {"$device": {"name": str(value)}}
            if isinstance(value, torch.dtype):
                return {"$torchdtype": str(value)}
        return None

    def _encode_tensor(self, torch: Any, tensor: Any) -> Any:
        plain = tensor.detach()
        if plain.is_complex():
            raise NotData("complex tensors are not data")
        dtype = str(plain.dtype)
        if plain.dtype in (torch.bfloat16, torch.float16):
            plain = plain.float()
        array = plain.cpu().contiguous().numpy()
        return {"$tensor": self._blob(array), "dtype": dtype, "device": str(tensor.device),
                "requires_grad": bool(tensor.requires_grad)}

    def _blob(self, array: Any) -> int:
        np = sys.modules["numpy"]
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(array), allow_pickle=False)
        self.blobs.append(buffer.getvalue())
        return len(self.blobs) - 1


def _is_ordered_dict(value: Any) -> bool:
    collections = sys.modules.get("collections")
    return collections is not None and type(value) is collections.OrderedDict


def _type_name(value: Any) -> str:
    return type(value).__name__


#: A surrogate on its own (json.loads turns a ``\\udc80`` escape into one): no UTF-8 writer
#: accepts it, so every decoded string has it replaced by U+FFFD.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _Decoder:
    """Rebuilds a value from a JSON tree and blobs; handles resolve through ``from_handle``."""

    def __init__(self, blobs: list[bytes], from_handle: Callable[[Handle], Any] | None,
                 from_callback: Callable[[CallbackRef], Any] | None) -> None:
        self.blobs = blobs
        self.from_handle = from_handle
        self.from_callback = from_callback

    def decode(self, tree: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("value too deeply nested")
        if type(tree) is str:  # the edge: a lone surrogate from the other side ends here
            return tree if tree.isascii() else _LONE_SURROGATE.sub("\ufffd", tree)
        if tree is None or type(tree) in (bool, int, float):
            return tree
        if type(tree) is list:
            return [self.decode(v, depth + 1) for v in tree]
        if type(tree) is not dict or len(tree) == 0:
            raise WireError(f"malformed value: {type(tree).__name__}")
        key = next(iter(tree))
        body = tree[key]
        if key == "$tuple":
            return tuple(self.decode(v, depth + 1) for v in _expect(body, list))
        if key == "$dict":
            return {self._key(k, depth): self.decode(v, depth + 1)
                    for k, v in (_expect(pair, list) for pair in _expect(body, list))}
        if key == "$float":
            return float(_expect(body, str))
        if key == "$nd":
            array = self._array(body)
            return array[()] if tree.get("scalar") else array
        if key == "$tensor":
            return self._tensor(tree)
        if key == "$device":
            return Device(name=str(_expect(body, dict)["name"]))
        if key == "$torchdtype":
            dtype = getattr(_torch(), _expect(body, str).removeprefix("torch."), None)
            if not isinstance(dtype, _torch().dtype):
                raise WireError(f"unknown torch dtype {_short(body)}")
            return dtype
        if key == "$handle":
            handle = Handle(id=int(body["id"]), type_name=str(body["type_name"]))
            return self.from_handle(handle) if self.from_handle else handle
        if key == "$callbackref":
            ref = CallbackRef(id=int(body["id"]))
            return self.from_callback(ref) if self.from_callback else ref
        raise WireError(f"unknown value tag {_short(key)}")

    def _key(self, tree: Any, depth: int) -> Any:
        key = self.decode(tree, depth + 1)
        if type(key) not in (str, int, float, bool, tuple) and key is not None:
            raise WireError("dict key is not a plain value")
        return key

    def _array(self, index: Any) -> Any:
        import numpy as np

        if type(index) is not int or not 0 <= index < len(self.blobs):
            raise WireError("bad blob reference")
        try:
            return np.load(io.BytesIO(self.blobs[index]), allow_pickle=False)
        except ValueError as exc:
            raise WireError(f"bad array: {exc}") from exc

    def _tensor(self, tree: dict[str, Any]) -> Any:
        torch = _torch()
        array = self._array(tree["$tensor"])
        tensor = torch.from_numpy(array.copy())
        name = str(tree.get("dtype", "")).removeprefix("torch.")
        dtype = getattr(torch, name, None)
        if isinstance(dtype, torch.dtype) and dtype != tensor.dtype:
            tensor = tensor.to(dtype)
        if tree.get("requires_grad") and tensor.is_floating_point():
            tensor.requires_grad_(True)
        return tensor


def _torch() -> Any:
    import torch

    return torch


def _expect(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise WireError(f"malformed value: expected {kind.__name__}")
    return value


# --------------------------------------------------------------------------- bounded JSON

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\x02\x02")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[{]}")


def check_json(raw: bytes, max_depth: int = MAX_JSON_DEPTH,
               max_items: int = MAX_ITEMS) -> None:
    """Refuse JSON nested deeper than ``max_depth`` or with more than ``max_items`` values,
    looking only at its bytes (linear, before ``json.loads`` builds anything)."""
    bare = _JSON_STRING.sub(b'""', raw)
    marks = bare.translate(_BRACKETS, _NOT_BRACKETS)
    if bare.count(b",") + len(marks) > 2 * max_items:
        raise WireError(f"JSON with more than {max_items} values")
    steps = (1 if mark == 1 else -1 for mark in marks)
    if max(itertools.accumulate(steps), default=0) > max_depth:
        raise WireError(f"JSON nested more than {max_depth} levels deep")


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------- framing


def encode_message(message: Message, to_handle: Callable[[Any], Handle | None] | None = None,
                   to_callback: Callable[[Any], CallbackRef] | None = None) -> bytes:
    """One message as a frame (without the outer length prefix)."""
    encoder = _Encoder(to_handle, to_callback)
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
        raise WireError(f"unknown message type {_short(kind)}")
    if sum(sizes) + 4 + hlen != len(payload) or any(n < 0 for n in sizes):
        raise WireError("message blobs do not add up")
    blobs, offset = [], 4 + hlen
    for size in sizes:
        blobs.append(payload[offset:offset + size])
        offset += size
    decoder = _Decoder(blobs, from_handle, from_callback)
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

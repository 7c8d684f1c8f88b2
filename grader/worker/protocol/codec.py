"""The value codec: a value as a JSON tree plus blobs, and back, without pickle.

Arrays and tensors travel as their raw bytes in a blob, described in the tree by a dtype
string that must name a plain number type (``<f8``, ``|b1``: nothing numpy would need pickle,
a header parser or an object for) and a shape whose size must match the blob's length to the
byte (numpy and torch are imported only when such a value is on the wire; ``.npy`` files
cost 30 us to write and 100 us to read each, against 2 and 4 here); values that are not
data stay in the worker as a :class:`Handle`. Every container is depth- and size-capped, and
a header's JSON is bounded on its raw bytes (:func:`check_json`) before it is parsed.
"""

from __future__ import annotations

import itertools
import math
import re
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from .values import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_JSON_DEPTH,
    CallbackRef,
    Device,
    Handle,
    NotData,
    WireError,
)


class Encoder:
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

    def _blob(self, array: Any) -> dict[str, Any]:
        """The array's bytes as a blob, and its description: dtype, shape, memory order."""
        np = sys.modules["numpy"]
        array = np.asarray(array)
        fortran = array.ndim > 1 and array.flags.f_contiguous and not array.flags.c_contiguous
        self.blobs.append(array.tobytes(order="F" if fortran else "C"))
        described = {"blob": len(self.blobs) - 1, "dtype": array.dtype.str,
                     "shape": list(array.shape)}
        if fortran:
            described["order"] = "F"
        return described


def _is_ordered_dict(value: Any) -> bool:
    collections = sys.modules.get("collections")
    return collections is not None and type(value) is collections.OrderedDict


def _type_name(value: Any) -> str:
    return type(value).__name__


#: A surrogate on its own (json.loads turns a ``\\udc80`` escape into one): no UTF-8 writer
#: accepts it, so every decoded string has it replaced by U+FFFD.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Decoder:
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
                raise WireError(f"unknown torch dtype {short_repr(body)}")
            return dtype
        if key == "$handle":
            handle = Handle(id=int(body["id"]), type_name=str(body["type_name"]))
            return self.from_handle(handle) if self.from_handle else handle
        if key == "$callbackref":
            ref = CallbackRef(id=int(body["id"]))
            return self.from_callback(ref) if self.from_callback else ref
        raise WireError(f"unknown value tag {short_repr(key)}")

    def _key(self, tree: Any, depth: int) -> Any:
        key = self.decode(tree, depth + 1)
        if type(key) not in (str, int, float, bool, tuple) and key is not None:
            raise WireError("dict key is not a plain value")
        return key

    def _array(self, described: Any) -> Any:
        """A writable array from a blob and its description, every field checked first."""
        import numpy as np

        index = _expect(described, dict).get("blob")
        if type(index) is not int or not 0 <= index < len(self.blobs):
            raise WireError("bad blob reference")
        dtype, shape = described.get("dtype"), described.get("shape")
        if type(dtype) is not str or not _PLAIN_DTYPE.match(dtype):
            raise WireError(f"bad array: dtype {short_repr(dtype)} is not a plain number type")
        if (type(shape) is not list or len(shape) > _MAX_NDIM
                or any(type(n) is not int or n < 0 for n in shape)):
            raise WireError(f"bad array: shape {short_repr(shape)}")
        order = described.get("order", "C")
        if order not in ("C", "F"):
            raise WireError(f"bad array: order {short_repr(order)}")
        blob, kind = self.blobs[index], np.dtype(dtype)
        if math.prod(shape) * kind.itemsize != len(blob):
            raise WireError(f"bad array: {len(blob)} bytes for shape {short_repr(shape)} "
                            f"of {dtype}")
        if kind.kind == "b":  # a byte other than 0 or 1 is no bool numpy would store
            flat = np.frombuffer(blob, np.uint8) != 0
        else:
            flat = np.frombuffer(blob, kind).copy()  # writable, and not the frame's memory
        return flat.reshape(shape, order=order)

    def _tensor(self, tree: dict[str, Any]) -> Any:
        torch = _torch()
        array = self._array(tree["$tensor"])
        if not array.dtype.isnative:  # torch takes only this machine's byte order
            array = array.astype(array.dtype.newbyteorder("="))
        tensor = torch.from_numpy(array)
        name = str(tree.get("dtype", "")).removeprefix("torch.")
        dtype = getattr(torch, name, None)
        if isinstance(dtype, torch.dtype) and dtype != tensor.dtype:
            tensor = tensor.to(dtype)
        if tree.get("requires_grad") and tensor.is_floating_point():
            tensor.requires_grad_(True)
        return tensor


#: The dtypes an array may have on the wire: bool, (unsigned) integers and floats, each in
#: either byte order (numpy's own ``dtype.str``); never an object, a record or a string.
_PLAIN_DTYPE = re.compile(r"(\|b1|\|[iu]1|[<>][iu][248]|[<>]f[248])\Z")
#: numpy's own limit on dimensions
_MAX_NDIM = 64


def _torch() -> Any:
    import torch

    return torch


def _expect(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise WireError(f"malformed value: expected {kind.__name__}")
    return value


# bounded JSON: a header's nesting and size, checked on its bytes before it is parsed

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


def short_repr(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


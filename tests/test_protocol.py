"""The data codec: exact round trips for plain data, and refusal of everything else."""

from __future__ import annotations

import collections
import io
import json
import struct

import numpy as np
import pytest
import torch

from grader.worker import protocol as p
from grader.worker.protocol import framing


def roundtrip(value: object) -> object:
    return p.decode_message(p.encode_message(p.Result(value=value))).value


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, "text", [1, [2, 3]], (1, (2.0, "x")), {"a": 1, 2: "b", (1, 2): None},
])
def test_plain_values_round_trip_exactly(value: object) -> None:
    assert roundtrip(value) == value
    assert type(roundtrip(value)) is type(value)


def test_non_finite_floats_round_trip() -> None:
    nan, inf, minus = roundtrip([float("nan"), float("inf"), float("-inf")])
    assert np.isnan(nan) and inf == float("inf") and minus == float("-inf")


@pytest.mark.parametrize("array", [
    np.arange(12, dtype=np.float32).reshape(3, 4), np.array(2.5), np.zeros((0, 3)),
    np.arange(6, dtype=np.int64).reshape(2, 3).T, np.array([True, False]),
])
def test_arrays_keep_dtype_shape_and_values(array: np.ndarray) -> None:
    back = roundtrip(array)
    assert isinstance(back, np.ndarray)
    assert back.dtype == array.dtype and back.shape == array.shape
    assert np.array_equal(back, array)


def test_numpy_scalar_stays_a_numpy_scalar() -> None:
    back = roundtrip(np.float32(1.5))
    assert isinstance(back, np.float32) and back == 1.5


def test_tensors_keep_dtype_and_requires_grad() -> None:
    t = torch.linspace(-1, 1, 6).reshape(2, 3).requires_grad_(True)
    back = roundtrip(t)
    assert isinstance(back, torch.Tensor) and back.requires_grad
    assert torch.equal(back.detach(), t.detach())
    half = roundtrip(torch.ones(2, dtype=torch.bfloat16))
    assert half.dtype == torch.bfloat16


def test_ndarray_subclass_crosses_as_a_plain_array() -> None:
    class Sneaky(np.ndarray):
        def __eq__(self, other: object) -> bool:  # type: ignore[override]
            return True

    back = roundtrip(np.arange(3.0).view(Sneaky))
    assert type(back) is np.ndarray


def test_tuple_and_list_subclasses_cross_as_plain_data() -> None:
    """torch.Size and a namedtuple are data: a suite compares them, it gets no handle."""
    point = collections.namedtuple("Point", "x y")
    stored: list[object] = []

    def keep(value: object) -> p.Handle:
        stored.append(value)
        return p.Handle(id=len(stored), type_name=type(value).__name__)

    class Names(list):
        pass

    value = [torch.zeros(4, 2).shape, point(1, 2.5), Names(["a"])]
    message = p.decode_message(p.encode_message(p.Result(value=value), to_handle=keep))
    assert message.value == [(4, 2), (1, 2.5), ["a"]]
    assert [type(v) for v in message.value] == [tuple, tuple, list]
    assert stored == []


def test_objects_are_refused_without_a_handle_store() -> None:
    with pytest.raises(p.NotData):
        p.encode_message(p.Result(value=object()))
    with pytest.raises(p.NotData):
        p.encode_message(p.Result(value=np.array([object()])))


def test_objects_become_handles_with_a_store() -> None:
    store: list[object] = []

    def keep(value: object) -> p.Handle:
        store.append(value)
        return p.Handle(id=len(store), type_name=type(value).__name__)

    class Model:
        pass

    message = p.decode_message(p.encode_message(p.Result(value=[Model()]), to_handle=keep))
    assert message.value == [p.Handle(id=1, type_name="Model")]


def _frame(header: dict, blobs: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack(">I", len(raw)) + raw + blobs


@pytest.mark.parametrize("payload", [
    b"", b"\x00\x00\x00\x05{nope",
    _frame({"type": "Result", "fields": {"value": 1}, "blobs": [10]}),
    _frame({"type": "Evil", "fields": {}, "blobs": []}),
    _frame({"type": "Result", "fields": {"value": {"$pickle": "x"}}, "blobs": []}),
    _frame({"type": "Result", "fields": {"value": {"$nd": 0}}, "blobs": [4]}, b"abcd"),
])
def test_malformed_frames_are_wire_errors(payload: bytes) -> None:
    with pytest.raises(p.WireError):
        p.decode_message(payload)


def _array_frame(described: object, blob: bytes) -> bytes:
    fields = {"value": {"$nd": described, "scalar": False}, "args": None, "kwargs": None}
    return _frame({"type": "Result", "fields": fields, "blobs": [len(blob)]}, blob)


def test_pickled_object_arrays_are_never_loaded() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    blob = buffer.getvalue()
    for dtype in ("|O", "|O8", "<O8"):
        with pytest.raises(p.WireError, match="not a plain number type"):
            p.decode_message(_array_frame({"blob": 0, "dtype": dtype, "shape": [1]}, blob))


@pytest.mark.parametrize(("described", "blob", "problem"), [
    ({"blob": 0, "dtype": "<c16", "shape": [1]}, bytes(16), "not a plain number type"),
    ({"blob": 0, "dtype": "|V8", "shape": [1]}, bytes(8), "not a plain number type"),
    ({"blob": 0, "dtype": "<U1", "shape": [1]}, bytes(4), "not a plain number type"),
    ({"blob": 0, "dtype": "<f8 ", "shape": [1]}, bytes(8), "not a plain number type"),
    ({"blob": 0, "dtype": "<f8", "shape": [2]}, bytes(8), "8 bytes for shape"),
    ({"blob": 0, "dtype": "<f8", "shape": [-1]}, bytes(8), "shape"),
    ({"blob": 0, "dtype": "<f8", "shape": [1.0]}, bytes(8), "shape"),
    ({"blob": 0, "dtype": "<f8", "shape": 1}, bytes(8), "shape"),
    ({"blob": 0, "dtype": "|u1", "shape": [2] * 65}, bytes(1), "shape"),
    ({"blob": 0, "dtype": "|u1", "shape": [2 ** 40, 2 ** 40, 0]}, bytes(1), "bytes for shape"),
    ({"blob": 1, "dtype": "<f8", "shape": [1]}, bytes(8), "bad blob reference"),
    ({"blob": True, "dtype": "<f8", "shape": [1]}, bytes(8), "bad blob reference"),
    ({"blob": 0, "dtype": "<f8", "shape": [1], "order": "K"}, bytes(8), "order"),
    (0, bytes(8), "malformed value"),
])
def test_a_hostile_array_description_is_refused(described: object, blob: bytes,
                                                problem: str) -> None:
    with pytest.raises(p.WireError, match=problem):
        p.decode_message(_array_frame(described, blob))


def test_bool_bytes_other_than_0_and_1_become_true() -> None:
    """numpy's frombuffer keeps a byte 2 in a bool array (its bytes show it); the decoder
    makes it a True whose byte is 1, as numpy itself would store it."""
    back = p.decode_message(_array_frame({"blob": 0, "dtype": "|b1", "shape": [3]},
                                         b"\x00\x02\x01")).value
    assert back.dtype == np.bool_ and back.tolist() == [False, True, True]
    assert back.view(np.uint8).tolist() == [0, 1, 1]
    assert np.frombuffer(b"\x00\x02\x01", np.bool_).view(np.uint8).tolist() == [0, 2, 1]


def test_oversized_frame_is_refused_before_reading_it() -> None:
    stream = io.BytesIO(struct.pack(">Q", p.MAX_FRAME_BYTES + 1))
    with pytest.raises(p.WireError):
        p.read_frame(stream)


def test_deep_nesting_is_refused() -> None:
    value: list = []
    for _ in range(p.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(p.WireError):
        p.encode_message(p.Result(value=value))


# -- frames from a hostile worker (issue 10): bounded before parsing, always a WireError ---


def _raw_frame(header: bytes) -> bytes:
    return struct.pack(">I", len(header)) + header


@pytest.mark.parametrize(("header", "problem"), [
    (b"[" * 30_000_000 + b"]" * 30_000_000, "message header of 60000000 bytes"),
    (b"[" * 100_000 + b"]" * 100_000, f"JSON nested more than {p.MAX_JSON_DEPTH} levels"),
    (b"[" + b"[]," * 2_000_000 + b"[]]", f"JSON with more than {p.MAX_ITEMS} values"),
    (b'{"type": "Failure", "fields": ' + b"[" * 500 + b"]" * 500 + b"}",
     f"JSON nested more than {p.MAX_JSON_DEPTH} levels"),
])
def test_oversized_deep_or_wide_headers_are_refused_before_parsing(
        header: bytes, problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("json.loads ran on a header the checks should have refused")

    monkeypatch.setattr(framing.json, "loads", no_parse)
    with pytest.raises(p.WireError, match=problem):
        p.decode_message(_raw_frame(header))


def test_strings_do_not_count_as_nesting_or_items() -> None:
    text = "[" * 5000 + "," * 5000 + '"\\'
    back = p.decode_message(p.encode_message(p.Failure("E", text, "")))
    assert back == p.Failure("E", text, "")


@pytest.mark.parametrize("value", [
    {"$torchdtype": "torch.load"}, {"$torchdtype": "cuda"}, {"$handle": [1]},
    {"$callbackref": "x"}, {"$device": 5}, {"$tensor": 0}, {"$tuple": {"a": 1}},
    {"$dict": [[{"$handle": {"id": 1}}, 1]]}, {"$nd": 0, "scalar": True},
    {"$nd": {"blob": 0, "dtype": "<f8", "shape": [3]}, "scalar": True},
    {"$float": "nan" * 1_000_000}, {"x" * 1_000_000: 1},
])
def test_every_decoding_error_is_a_short_wire_error(value: object) -> None:
    npy = io.BytesIO()
    np.save(npy, np.zeros(3))
    blob = npy.getvalue()[:-8]  # an array whose data is cut short
    with pytest.raises(p.WireError) as caught:
        p.decode_message(_frame({"type": "Result", "fields": {"value": value},
                                 "blobs": [len(blob)]}, blob))
    assert len(str(caught.value)) < 200


def test_random_bytes_only_ever_raise_wire_errors() -> None:
    rng = np.random.default_rng(10)
    valid = p.encode_message(p.Result(value=[1, (2.0, "x"), {"k": np.arange(3)}]))
    for _ in range(300):
        mutated = bytearray(valid)
        for i in rng.integers(0, len(mutated), size=int(rng.integers(1, 6))):
            mutated[i] = int(rng.integers(0, 256))
        try:
            p.decode_message(bytes(mutated[:int(rng.integers(0, len(mutated) + 1))]))
        except p.WireError:
            pass


def test_the_encoder_refuses_a_header_the_decoder_would_refuse() -> None:
    with pytest.raises(p.WireError, match="header"):
        p.encode_message(p.Failure("E", "x" * (p.MAX_HEADER_BYTES + 1)))


CONTROL = [p.ZygotePing(), p.ZygoteSpawn(limits={"cpu_seconds": 5}, home="/tmp/h", tmp_bytes=1),
           p.ZygoteSpawn(limits={}), p.ZygoteStatus(pid=7, wait=1.5), p.ZygoteKill(pid=7),
           p.ZygoteReady(missing=["torch"], isolation=None), p.ZygotePong(),
           p.ZygoteSpawned(pid=9), p.ZygoteExit(status=None), p.ZygoteExit(status=9),
           p.ZygoteError(error="bad pid")]


@pytest.mark.parametrize("message", CONTROL, ids=lambda m: type(m).__name__)
def test_zygote_control_messages_round_trip(message: object) -> None:
    back = p.decode_control(p.encode_message(message))
    assert back == message
    assert type(back) is type(message)


@pytest.mark.parametrize(("payload", "problem"), [
    (json.dumps({"op": "kill", "pid": -1}).encode(), "message header of"),  # the old dicts
    (_frame({"type": "Evil", "fields": {}, "blobs": []}), "unknown message type 'Evil'"),
    (_frame({"type": ["ZygotePing"], "fields": {}, "blobs": []}), "unknown message type"),
    (_frame({"type": "ZygoteKill", "fields": {}, "blobs": []}), "malformed ZygoteKill"),
    (_frame({"type": "ZygoteKill", "fields": {"pid": "1"}, "blobs": []}), "malformed ZygoteKill"),
    (_frame({"type": "ZygoteKill", "fields": {"pid": True}, "blobs": []}),
     "malformed ZygoteKill"),
    (_frame({"type": "ZygoteStatus", "fields": {"pid": 1, "wait": [1]}, "blobs": []}),
     "malformed ZygoteStatus"),
    (_frame({"type": "ZygoteSpawn", "fields": {"limits": {"$dict": [["cpu", "lots"]]},
                                               "home": None, "tmp_bytes": 0}, "blobs": []}),
     "malformed ZygoteSpawn"),
    (_frame({"type": "ZygoteExit", "fields": {"status": 1.5}, "blobs": []}),
     "malformed ZygoteExit"),
])
def test_malformed_zygote_control_messages_are_wire_errors(payload: bytes, problem: str) -> None:
    with pytest.raises(p.WireError, match=problem):
        p.decode_control(payload)


def test_worker_and_control_messages_do_not_cross_channels() -> None:
    """A worker's frame is not a control message, and a control message is not a worker's."""
    with pytest.raises(p.WireError, match="unknown message type 'Shutdown'"):
        p.decode_control(p.encode_message(p.Shutdown()))
    with pytest.raises(p.WireError, match="unknown message type 'ZygoteKill'"):
        p.decode_message(p.encode_message(p.ZygoteKill(pid=1)))

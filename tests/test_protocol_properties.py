"""Properties of the array codec (grader.worker.protocol.codec): any plain array, tensor or
numpy scalar crosses exactly (values, dtype, byte order, shape, writable, its own memory), and
any description a hostile worker sends is either a well-formed array of exactly the blob's
bytes or a WireError, never another exception and never an object, record or string array."""

from __future__ import annotations

import json
import struct

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.worker import protocol as p

PLAIN = st.one_of(hnp.boolean_dtypes(), hnp.integer_dtypes(endianness="?"),
                  hnp.unsigned_integer_dtypes(endianness="?"),
                  hnp.floating_dtypes(endianness="?", sizes=(16, 32, 64)))
ARRAYS = hnp.arrays(PLAIN, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))


def roundtrip(value: object) -> object:
    return p.decode_message(p.encode_message(p.Result(value=value))).value


def _same(back: np.ndarray, array: np.ndarray) -> None:
    assert type(back) is np.ndarray
    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == array.tobytes()  # bit for bit: NaN payloads and -0.0 too
    assert back.flags.writeable and (back.base is None or back.base.flags.owndata)


@settings(max_examples=80, deadline=None)
@given(array=ARRAYS, layout=st.sampled_from(["C", "F", "strided"]))
def test_any_plain_array_crosses_exactly(array: np.ndarray, layout: str) -> None:
    if layout == "F":
        array = np.asfortranarray(array)
    elif layout == "strided" and array.ndim:
        array = array[..., ::2]
    back = roundtrip([array, {"k": (array,)}])
    _same(back[0], array)
    _same(back[1]["k"][0], array)
    if layout == "F" and array.ndim > 1 and not array.flags.c_contiguous:
        assert back[0].flags.f_contiguous  # the memory order is kept where it was Fortran's
    back[0][...] = 0  # writable, and not shared with the other decoded copy
    assert back[1]["k"][0].tobytes() == array.tobytes()


@settings(max_examples=30, deadline=None)
@given(array=hnp.arrays(PLAIN, hnp.array_shapes(min_dims=0, max_dims=0)))
def test_numpy_scalars_stay_scalars(array: np.ndarray) -> None:
    scalar = array[()]
    back = roundtrip(scalar)
    assert type(back) is type(scalar) and back.tobytes() == scalar.tobytes()


TENSOR_DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64,
                 torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool]


@settings(max_examples=30, deadline=None)
@given(dtype=st.sampled_from(TENSOR_DTYPES),
       shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
       grad=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_any_tensor_crosses_exactly(dtype: torch.dtype, shape: tuple[int, ...], grad: bool,
                                    seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    tensor = (torch.randn(shape, generator=generator) * 50).to(dtype)
    if grad and dtype.is_floating_point:
        tensor.requires_grad_(True)
    back = roundtrip(tensor)
    assert isinstance(back, torch.Tensor)
    assert back.dtype == dtype and back.shape == tensor.shape
    assert back.requires_grad == tensor.requires_grad
    assert torch.equal(back.detach(), tensor.detach())


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
              st.floats(allow_nan=False), st.text(max_size=6)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8)
DTYPE_TEXT = st.one_of(st.sampled_from(["<f8", ">f4", "|b1", "|u1", "<i8", "|O", "<c16",
                                        "|V8", "<U2", "|S3", "<M8[s]", "f8", "=f8", "<f8 "]),
                       st.text(max_size=5), JSONISH)
SHAPE = st.one_of(st.lists(st.integers(-2, 2 ** 33), max_size=6), JSONISH)


@st.composite
def descriptions(draw: st.DrawFn) -> tuple[dict[str, object], bytes, bool]:
    """A description, its blob, and whether it is a consistent one: a consistent one with one
    field (or none) replaced by anything, or every field drawn at random."""
    if draw(st.booleans()):
        dtype = draw(st.sampled_from(["<f8", ">f4", "|b1", "|u1", "<i8", ">u2", "<f2"]))
        shape = draw(st.lists(st.integers(0, 3), max_size=3))
        described: dict[str, object] = {"blob": 0, "dtype": dtype, "shape": shape,
                                        "order": draw(st.sampled_from(["C", "F"]))}
        blob = draw(st.binary(min_size=(size := int(np.prod(shape)) * np.dtype(dtype).itemsize),
                              max_size=size))
        field = draw(st.sampled_from([None, "blob", "dtype", "shape", "order"]))
        if field is not None:
            described[field] = draw({"dtype": DTYPE_TEXT, "shape": SHAPE}.get(field, JSONISH))
        return described, blob, field is None
    return ({"blob": draw(st.one_of(st.just(0), JSONISH)), "dtype": draw(DTYPE_TEXT),
             "shape": draw(SHAPE), "order": draw(st.one_of(st.just("C"), JSONISH))},
            draw(st.binary(max_size=64)), False)



@settings(max_examples=150, deadline=None)
@given(description=descriptions(), scalar=st.one_of(st.booleans(), JSONISH),
       tensor=st.booleans())
def test_any_array_description_is_an_exact_array_or_a_wire_error(
        description: tuple[dict[str, object], bytes, bool], scalar: object, tensor: bool
) -> None:
    """(A consistent description must decode: the property is not met by refusing all.)"""
    described, blob, consistent = description
    value = ({"$tensor": described, "dtype": "torch.float32"} if tensor
             else {"$nd": described, "scalar": scalar})
    fields = {"value": value, "args": None, "kwargs": None}
    header = json.dumps({"type": "Result", "fields": fields,
                         "blobs": [len(blob)]}).encode()
    try:
        back = p.decode_message(struct.pack(">I", len(header)) + header + blob).value
    except p.WireError:
        assert not consistent
        return
    array = back.detach().numpy() if isinstance(back, torch.Tensor) else np.asarray(back)
    assert array.dtype.kind in "biuf"
    assert isinstance(back, torch.Tensor) or array.nbytes == len(blob)
    if array.dtype.kind == "b":
        assert set(array.view(np.uint8).ravel().tolist()) <= {0, 1}


"""Public tests for the assignment ``activations``: easy cases you can check by hand.

Run them with ``python -m pytest public/`` from the assignment folder. Passing them is a good
sign, not a guarantee: the grader's tests also use random inputs of several shapes, very large
inputs, float32 arrays, Python floats, ``alpha`` values other than 1, and check that your
functions leave their input unchanged.
"""

from __future__ import annotations

import math

import numpy as np

X = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])


#: The hint a wrong value gets: the grader's own words for the same mistake (the course's
#: tests check that these match the hidden suite's, so the self-check and the grade agree).
#: sigmoid_grad's and tanh_grad's hints quote a solution line, so they stay in the grader.
HINTS = {
    "relu": "relu(x) = max(0, x) element-wise: np.maximum(0, x).",
    "relu_grad": "ReLU'(x) is 1 where x > 0 and 0 elsewhere.",
    "sigmoid": "sigmoid(x) = 1 / (1 + exp(-x)); check the sign in the exponent.",
    "tanh": "tanh(x) = 2 / (1 + exp(-2x)) - 1 = 2 * sigmoid(2x) - 1.",
    "elu": "ELU(x) = x for x > 0 and alpha * (exp(x) - 1) for x <= 0.",
    "elu_grad": "ELU'(x) = 1 for x > 0 and alpha * exp(x) for x <= 0 (the derivative of "
                "alpha * (exp(x) - 1) has no -1).",
    "softmax": "Softmax normalises each row on its own, along the last axis: reduce with "
               "axis=-1 and keepdims=True, so that the row sums keep shape (..., 1) and divide "
               "the right entries.",
}


def assert_close(got, expected, what):
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    hint = HINTS.get(what.split("(")[0], "")
    hint = f"\nHint: {hint}" if hint else ""
    assert got.shape == expected.shape, (
        f"{what}: got shape {got.shape}, expected shape {expected.shape}")
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-6), (
        f"{what}: got {got.tolist()}, expected {expected.tolist()}{hint}")


def sigma(v):
    return 1.0 / (1.0 + math.exp(-v))


def test_relu_values(student):
    """relu on a few values"""
    assert_close(student.relu(X), [0.0, 0.0, 0.0, 0.5, 2.0], "relu(x)")


def test_relu_grad_values(student):
    """relu_grad on a few values, 0 at x == 0"""
    assert_close(student.relu_grad(X), [0.0, 0.0, 0.0, 1.0, 1.0], "relu_grad(x)")


def test_relu_keeps_shape(student):
    """relu keeps the shape of a matrix"""
    x = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
    assert_close(student.relu(x), [[0.0, 2.0, 0.0], [4.0, 0.0, 6.0]], "relu(x)")


def test_sigmoid_values(student):
    """sigmoid on a few values, sigmoid(0) = 0.5"""
    assert_close(student.sigmoid(X), [sigma(v) for v in X], "sigmoid(x)")


def test_sigmoid_grad_values(student):
    """sigmoid_grad on a few values, sigmoid_grad(0) = 0.25"""
    assert_close(student.sigmoid_grad(X), [sigma(v) * (1 - sigma(v)) for v in X],
                 "sigmoid_grad(x)")


def test_tanh_values(student):
    """tanh on a few values, tanh(0) = 0"""
    assert_close(student.tanh(X), [math.tanh(v) for v in X], "tanh(x)")


def test_tanh_grad_values(student):
    """tanh_grad on a few values, tanh_grad(0) = 1"""
    assert_close(student.tanh_grad(X), [1 - math.tanh(v) ** 2 for v in X], "tanh_grad(x)")


def test_elu_values(student):
    """elu with the default alpha = 1"""
    assert_close(student.elu(X), [math.expm1(-2.0), math.expm1(-0.5), 0.0, 0.5, 2.0], "elu(x)")


def test_elu_grad_values(student):
    """elu_grad with the default alpha = 1"""
    assert_close(student.elu_grad(X), [math.exp(-2.0), math.exp(-0.5), 1.0, 1.0, 1.0],
                 "elu_grad(x)")


def test_softmax_vector(student):
    """softmax of a vector sums to 1"""
    e = np.exp([1.0, 2.0, 3.0])
    assert_close(student.softmax(np.array([1.0, 2.0, 3.0])), e / e.sum(), "softmax(z)")


def test_softmax_batch_rows(student):
    """softmax of a (2, 3) batch normalises each row"""
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    e = np.exp([1.0, 2.0, 3.0])
    assert_close(student.softmax(z), [e / e.sum(), [1 / 3, 1 / 3, 1 / 3]], "softmax(z)")

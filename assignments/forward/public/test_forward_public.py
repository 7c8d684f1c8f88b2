"""Public tests for the assignment ``forward``: small cases you can check by hand.

Run them with ``python -m pytest public/`` from the assignment folder. Passing them is a good
sign, not a guarantee: the grader's tests also use random networks of several depths and widths,
square layers, single samples of shape (in,), every activation, several seeds, a wide layer for
the scale of the initial weights, both label forms for the cross-entropy, and probabilities that
are exactly 0.
"""

from __future__ import annotations

import math

import numpy as np

# A 2 -> 3 layer, W in nn.Linear's (out, in) layout: one row per output neuron.
W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
B = np.array([0.5, 0.0, -0.5])

#: The hint a common mistake gets: the grader's own words for the same mistake (the course's
#: tests check that these match the hidden suite's, so the self-check and the grade agree).
HINTS = {
    "activated output": (
        "Your y_hat is what the network gives with the activation applied to the output layer "
        "as well. The output layer has no activation: y_hat = z of the last layer. Apply the "
        "activation after every hidden layer only."),
}


def assert_close(got, expected, what, hint=""):
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    hint = f"\nHint: {hint}" if hint else ""
    assert got.shape == expected.shape, (
        f"{what}: got shape {got.shape}, expected shape {expected.shape}{hint}")
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-6), (
        f"{what}: got {got.tolist()}, expected {expected.tolist()}{hint}")


def output_hint(y_hat, expected, activation):
    """The hint of a y_hat that is the expected one passed through the activation again."""
    y_hat = np.asarray(y_hat, dtype=float)
    expected = np.asarray(expected, dtype=float)
    again = np.maximum(expected, 0) if activation == "relu" else np.tanh(expected)
    if (y_hat.shape == expected.shape and not np.allclose(y_hat, expected, atol=1e-6)
            and np.allclose(y_hat, again, atol=1e-6)):
        return HINTS["activated output"]
    return ""


def test_init_params_shapes(student):
    """init_params([3, 4, 3, 1]) gives three (W, b) pairs of the right shapes"""
    params = student.init_params([3, 4, 3, 1], 0)
    assert len(params) == 3, f"expected 3 layers, got {len(params)}"
    shapes = [(np.shape(W), np.shape(b)) for W, b in params]
    assert shapes == [((4, 3), (4,)), ((3, 4), (3,)), ((1, 3), (1,))], (
        f"got shapes {shapes}: W is (fan_out, fan_in), b is (fan_out,)")


def test_init_params_same_seed(student):
    """init_params with the same seed twice gives the same weights"""
    first = student.init_params([3, 4, 1], 7)
    again = student.init_params([3, 4, 1], 7)
    for (W1, b1), (W2, b2) in zip(first, again, strict=True):
        assert np.array_equal(W1, W2) and np.array_equal(b1, b2), (
            "the same seed must give the same parameters")


def test_dense_forward_batch(student):
    """dense_forward on a batch of two samples: x @ W.T + b"""
    x = np.array([[1.0, 1.0], [1.0, 0.0]])
    assert_close(student.dense_forward(x, W, B), [[3.5, 7.0, 10.5], [1.5, 3.0, 4.5]],
                 "dense_forward(x, W, b)")


def test_dense_forward_single_sample(student):
    """dense_forward on one sample of shape (2,) gives shape (3,)"""
    assert_close(student.dense_forward(np.array([0.0, 1.0]), W, B), [2.5, 4.0, 5.5],
                 "dense_forward(x, W, b)")


def test_forward_relu_by_hand(student):
    """forward through 2 -> 2 -> 1 with ReLU, and a negative output stays negative"""
    params = [(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([0.0, 0.0])),
              (np.array([[1.0, 1.0]]), np.array([-5.0]))]
    x = np.array([[2.0, 1.0], [0.0, 3.0]])
    # hidden: relu([[1, -1], [-3, 3]]) = [[1, 0], [0, 3]]; output: [1 - 5, 3 - 5]
    y_hat, _cache = student.forward(params, x, "relu")
    expected = [[-4.0], [-2.0]]
    assert_close(y_hat, expected, "forward(params, x, 'relu')[0]",
                 output_hint(y_hat, expected, "relu"))


def test_forward_tanh_by_hand(student):
    """forward through 1 -> 1 -> 1 with tanh"""
    params = [(np.array([[2.0]]), np.array([0.0])), (np.array([[3.0]]), np.array([1.0]))]
    y_hat, _cache = student.forward(params, np.array([[0.5]]), "tanh")
    expected = [[3.0 * math.tanh(1.0) + 1.0]]
    assert_close(y_hat, expected, "forward(params, x, 'tanh')[0]",
                 output_hint(y_hat, expected, "tanh"))


def test_mse_loss_by_hand(student):
    """mse_loss: mean of the squared errors over all elements"""
    y_hat = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([[1.0, 4.0], [3.0, 2.0]])
    assert_close(student.mse_loss(y_hat, y), 2.0, "mse_loss(y_hat, y)")


def test_cross_entropy_loss_by_hand(student):
    """cross_entropy_loss with integer labels and with one-hot targets"""
    probs = np.array([[0.7, 0.2, 0.1], [0.25, 0.5, 0.25]])
    expected = -(math.log(0.7) + math.log(0.5)) / 2
    assert_close(student.cross_entropy_loss(probs, np.array([0, 1])), expected,
                 "cross_entropy_loss(probs, labels)")
    one_hot = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert_close(student.cross_entropy_loss(probs, one_hot), expected,
                 "cross_entropy_loss(probs, one_hot)")

"""Public tests for the assignment ``backprop``: easy cases you can check by hand.

Run them with ``python -m pytest public/`` from the assignment folder. Passing them is a good
sign, not a guarantee: the grader's tests also compare your gradients with PyTorch's autograd
on several architectures and batch sizes (several outputs, square layers, deeper networks),
with hidden pre-activations exactly 0, check that ``numerical_gradient`` uses centred
differences, and that ``train`` records the loss before each update, from
``init_params(layer_sizes, seed)``.
"""

from __future__ import annotations

import numpy as np

# A 2 -> 2 -> 1 network small enough to follow by hand.
W1 = np.array([[1.0, -1.0], [0.5, 2.0]])
B1 = np.array([0.0, -1.0])
W2 = np.array([[2.0, -3.0]])
B2 = np.array([0.5])
X = np.array([[1.0, 2.0], [3.0, 1.0]])
Y = np.array([[1.0], [0.0]])
# z1 = [[-1, 3.5], [2, 2.5]], a1 = [[0, 3.5], [2, 2.5]], y_hat = [[-10], [-3]]


#: The hint a common mistake gets: the grader's own words for the same mistake (the course's
#: tests check that these match the hidden suite's, so the self-check and the grade agree).
HINTS = {
    "sign": "Your gradient has the opposite sign. With L = 1/2 mean((y_hat - y)^2), "
            "dL/dy_hat = (y_hat - y) / N, where N = n * out is the number of elements of "
            "y_hat. The slide's y - y_hat is the negative gradient: the update W - lr dW would "
            "then climb the loss instead of descending it.",
}


def params():
    return [(W1.copy(), B1.copy()), (W2.copy(), B2.copy())]


def assert_close(got, expected, what, rtol=1e-5, atol=1e-8, hint=""):
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    hint = f"\nHint: {hint}" if hint else ""
    assert got.shape == expected.shape, (
        f"{what}: got shape {got.shape}, expected shape {expected.shape}{hint}")
    assert np.allclose(got, expected, rtol=rtol, atol=atol), (
        f"{what}: got {got.tolist()}, expected {expected.tolist()}{hint}")


def gradient_hint(grads, expected, rtol=1e-5, atol=1e-8):
    """The sign hint when every array of ``grads`` is the expected one negated."""
    try:
        pairs = [(np.asarray(g, dtype=float), np.asarray(e, dtype=float))
                 for got, want in zip(grads, expected, strict=True)
                 for g, e in zip(got, want, strict=True)]
    except (TypeError, ValueError):  # not a list of (dW, db): the checks below say so
        return ""
    if all(g.shape == e.shape for g, e in pairs) and \
            not all(np.allclose(g, e, rtol=rtol, atol=atol) for g, e in pairs) and \
            all(np.allclose(g, -e, rtol=rtol, atol=atol) for g, e in pairs):
        return HINTS["sign"]
    return ""


def loss(p, x, y):
    a = x
    for i, (W, b) in enumerate(p):
        z = a @ W.T + b
        a = z if i == len(p) - 1 else np.maximum(z, 0)
    return 0.5 * np.mean((a - y) ** 2)


def test_init_params_shapes(student):
    """init_params((3, 4, 3, 1)) gives W of shape (out, in) and b of shape (out,)"""
    p = student.init_params((3, 4, 3, 1), 0)
    assert len(p) == 3, f"expected 3 layers, got {len(p)}"
    for (W, b), shape in zip(p, [(4, 3), (3, 4), (1, 3)], strict=True):
        assert np.shape(W) == shape, f"W: got shape {np.shape(W)}, expected {shape}"
        assert np.shape(b) == shape[:1], f"b: got shape {np.shape(b)}, expected {shape[:1]}"


def test_init_params_same_seed_same_network(student):
    """init_params with the same seed twice gives the same weights"""
    first, second = student.init_params((3, 4, 1), 7), student.init_params((3, 4, 1), 7)
    for (W, _), (V, _) in zip(first, second, strict=True):
        assert_close(W, V, "W for the same seed")


def test_forward_by_hand(student):
    """forward on a 2-2-1 network: y_hat = [[-10], [-3]]"""
    y_hat, _ = student.forward(params(), X)
    assert_close(y_hat, [[-10.0], [-3.0]], "y_hat")


def test_backward_by_hand(student):
    """backward on the 2-2-1 network, gradients computed by hand"""
    _, cache = student.forward(params(), X)
    grads = student.backward(params(), cache, Y)
    # delta2 = (y_hat - y) / N = [[-5.5], [-1.5]]: dW2 = [[-3, -23]], db2 = [-7]
    # delta1 = (delta2 W2) * ReLU'(z1) = [[0, 16.5], [-3, 4.5]]: dW1 and db1 below
    expected = [([[-9.0, -3.0], [30.0, 37.5]], [-3.0, 21.0]), ([[-3.0, -23.0]], [-7.0])]
    hint = gradient_hint(grads, expected)
    for layer, (dW, db) in reversed(list(enumerate(expected, 1))):
        assert_close(grads[layer - 1][0], dW, f"dW{layer}", hint=hint)
        assert_close(grads[layer - 1][1], db, f"db{layer}", hint=hint)


def test_backward_gradient_check(student):
    """backward on the 3-4-3-1 network agrees with centred finite differences"""
    rng = np.random.default_rng(0)
    p = [(rng.normal(size=(4, 3)), rng.normal(size=4)), (rng.normal(size=(3, 4)),
         rng.normal(size=3)), (rng.normal(size=(1, 3)), rng.normal(size=1))]
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    _, cache = student.forward(p, x)
    grads = student.backward(p, cache, y)
    expected = []
    for W, b in p:
        numerics = []
        for array in (W, b):
            numeric = np.zeros_like(array)
            for i in np.ndindex(array.shape):
                old = array[i]
                array[i] = old + 1e-6
                up = loss(p, x, y)
                array[i] = old - 1e-6
                down = loss(p, x, y)
                array[i] = old
                numeric[i] = (up - down) / 2e-6
            numerics.append(numeric)
        expected.append(tuple(numerics))
    hint = gradient_hint(grads, expected, rtol=1e-4, atol=1e-7)
    for layer, numerics in enumerate(expected):
        for name, got, numeric in zip(("dW", "db"), grads[layer], numerics, strict=True):
            assert_close(got, numeric, f"{name} of layer {layer + 1}", rtol=1e-4, atol=1e-7,
                         hint=hint)


def test_sgd_step_by_hand(student):
    """sgd_step: W - lr dW and b - lr db"""
    grads = [(np.ones((2, 2)), np.array([1.0, -1.0])), (np.array([[2.0, 0.0]]),
                                                          np.array([4.0]))]
    new = student.sgd_step(params(), grads, 0.5)
    assert_close(new[0][0], W1 - 0.5, "W1")
    assert_close(new[0][1], [-0.5, -0.5], "b1")
    assert_close(new[1][0], [[1.0, -3.0]], "W2")
    assert_close(new[1][1], [-1.5], "b2")


def test_numerical_gradient_of_a_square(student):
    """numerical_gradient of f(x) = sum(x**2) is 2x, and x is unchanged"""
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = student.numerical_gradient(lambda v: float(np.sum(v**2)), x)
    assert_close(grad, 2 * np.array([[1.0, -2.0], [0.5, 3.0]]), "numerical_gradient",
                 rtol=1e-5, atol=1e-6)
    assert_close(x, [[1.0, -2.0], [0.5, 3.0]], "x after numerical_gradient", rtol=0, atol=0)


def test_train_lengths_and_progress(student):
    """train returns one loss per epoch, and the loss falls"""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 3))
    y = x @ np.array([[1.0], [-1.0], [0.5]]) + 1.0
    p, losses = student.train(x, y, (3, 4, 3, 1), 0.05, 50, 0)
    assert len(losses) == 50, f"expected 50 losses, got {len(losses)}"
    assert len(p) == 3, f"expected params for 3 layers, got {len(p)}"
    assert losses[-1] < losses[0], f"the loss went from {losses[0]} to {losses[-1]}"

"""Hidden suite for the assignment ``forward`` (100 points).

Test names are ``test_<function>__<aspect>``: the part before ``__`` is the contract function
whose points the test holds (tests/test_forward_suite.py relies on it). Each function is graded
only through its own tests: ``forward`` gets its parameters from the suite, never from the
student's ``init_params``, so one bug costs points in one place (a bug in ``dense_forward`` also
costs ``forward``'s points when ``forward`` calls it).

Reference values: the network's forward pass is built from ``torch.nn.functional.linear`` and
torch's activations in float64 on the same parameters; the losses are computed with numpy in
float64. Random inputs come from ``rng``, seeded per student and test from the course secret.
The ``cache`` that ``forward`` returns is never inspected.

Tolerances: the usual rtol 1e-5 / atol 1e-6 for the losses. For ``dense_forward`` and
``forward`` the absolute tolerance is 1e-5: values are O(1) sums of up to 8 products per layer
over up to 4 layers, and a student computing in float32 (allowed, as in ``activations``) is off
by a few 1e-7 per layer; every mistake these tests look for changes values by far more than 1e-2.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.suite import ATOL, Feedback, check, check_close, check_finite, check_shape, fmt

NET_ATOL = 1e-5  # see the module docstring: float32 forward passes are correct

# --------------------------------------------------------------------------- reference

TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "elu": F.elu,
}


def reference_forward(params: Sequence[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                      activation: str) -> np.ndarray:
    """y_hat of the network, as a stack of nn.Linear layers in float64 (linear output layer)."""
    a = torch.from_numpy(np.asarray(x, dtype=np.float64))
    for layer, (W, b) in enumerate(params):
        a = F.linear(a, torch.from_numpy(W), torch.from_numpy(b))
        if layer < len(params) - 1:
            a = TORCH_ACTIVATIONS[activation](a)
    return a.numpy()


def reference_cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    """-(1/n) sum_i log p_{i, y_i} for integer labels (only used where every p_true > 0)."""
    return float(-np.mean(np.log(probs[np.arange(len(labels)), labels])))


# --------------------------------------------------------------------------- random inputs


def random_params(rng: np.random.Generator, sizes: Sequence[int],
                  weight_scale: float = 1.0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Parameters in nn.Linear's layout, non-zero biases, weights of scale 1/sqrt(fan_in)."""
    return [(rng.normal(scale=weight_scale / np.sqrt(fan_in), size=(fan_out, fan_in)),
             rng.normal(scale=0.5, size=fan_out))
            for fan_in, fan_out in pairwise(sizes)]


def distinct_sizes(rng: np.random.Generator, count: int, low: int = 2,
                   high: int = 9) -> list[int]:
    """``count`` different sizes: no layer is square and no axis can be confused with another."""
    return [int(v) for v in rng.choice(np.arange(low, high), size=count, replace=False)]


def random_probs(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Softmax rows of N(0, 1) logits: every probability is well inside (1e-3, 1 - 1e-3)."""
    logits = rng.normal(size=(n, k))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def shape_text(sizes: Sequence[int]) -> str:
    return "[" + ", ".join(str(s) for s in sizes) + "]"


def expect_close(got: Any, want: Any, *, name: str, inputs: dict[str, Any], hint: str,
                 atol: float = ATOL) -> None:
    """check_close, with the inputs listed whole after the comparison (their shapes differ
    from the result's, so an entry "at the same index" would mean nothing)."""
    try:
        check_close(got, want, name=name, atol=atol)
    except Feedback as failure:
        lines = [str(failure), "Inputs:"]
        lines += [f"  {key} = {fmt(value, 300)}" for key, value in inputs.items()]
        raise Feedback("\n".join([*lines, f"Hint: {hint}"])) from None


# --------------------------------------------------------------------------- init_params (20)

INIT_HINT = ("Return a list with one (W, b) tuple per layer: for layer_sizes = [3, 4, 1] that "
             "is [(W1, b1), (W2, b2)] with W1.shape == (4, 3), b1.shape == (4,), "
             "W2.shape == (1, 4), b2.shape == (1,). W is (fan_out, fan_in), like "
             "torch.nn.Linear's weight, and b is 1-d.")


def layers_of(value: Any, sizes: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The student's init_params result as (W, b) float arrays, checked against ``sizes``."""
    name = f"init_params({shape_text(sizes)})"
    check(isinstance(value, (list, tuple)),
          f"{name} returned {fmt(value, 120)}, expected a list of (W, b) tuples. {INIT_HINT}")
    check(len(value) == len(sizes) - 1,
          f"{name} returned {len(value)} layers, expected {len(sizes) - 1} (one (W, b) pair "
          f"between each two consecutive sizes). {INIT_HINT}")
    layers = []
    for index, (pair, (fan_in, fan_out)) in enumerate(zip(value, pairwise(sizes), strict=True)):
        check(isinstance(pair, (list, tuple)) and len(pair) == 2,
              f"{name}[{index}] is {fmt(pair, 120)}, expected a tuple (W, b). {INIT_HINT}")
        W = check_shape(pair[0], (fan_out, fan_in), name=f"{name}[{index}][0] (W)",
                        hint=INIT_HINT)
        b = check_shape(pair[1], (fan_out,), name=f"{name}[{index}][1] (b)", hint=INIT_HINT)
        check_finite(W, name=f"{name}[{index}][0] (W)")
        check_finite(b, name=f"{name}[{index}][1] (b)")
        layers.append((W, b))
    return layers


@pytest.mark.points(6)
def test_init_params__shapes(student, rng):
    """init_params: one (W, b) per layer, W of shape (out, in), b of shape (out,)"""
    architectures = [distinct_sizes(rng, 2), distinct_sizes(rng, 3), distinct_sizes(rng, 4)]
    for sizes in architectures:
        layers_of(student.init_params(sizes, int(rng.integers(1000))), sizes)


@pytest.mark.points(5)
def test_init_params__seeded(student, rng):
    """init_params: the same seed gives the same values, another seed other values"""
    sizes = distinct_sizes(rng, 3)
    seed, other = (int(s) for s in rng.choice(10_000, size=2, replace=False))
    first = layers_of(student.init_params(sizes, seed), sizes)
    again = layers_of(student.init_params(sizes, seed), sizes)
    check(all(np.array_equal(W1, W2) and np.array_equal(b1, b2)
              for (W1, b1), (W2, b2) in zip(first, again, strict=True)),
          f"Two calls init_params({shape_text(sizes)}, seed={seed}) returned different "
          "weights. The same seed must give the same parameters: create a generator from it, "
          "rng = np.random.default_rng(seed), and draw every random number from rng (not "
          "from np.random.randn, whose global state changes with every call).")
    different = layers_of(student.init_params(sizes, other), sizes)
    check(any(not np.array_equal(W1, W2)
              for (W1, _), (W2, _) in zip(first, different, strict=True)),
          f"init_params({shape_text(sizes)}, seed={seed}) and seed={other} returned the same "
          "weights. Different seeds must give different parameters: use the seed argument, "
          "np.random.default_rng(seed), rather than a fixed seed.")
    default = layers_of(student.init_params(sizes), sizes)
    zero = layers_of(student.init_params(sizes, 0), sizes)
    check(all(np.array_equal(W1, W2) and np.array_equal(b1, b2)
              for (W1, b1), (W2, b2) in zip(default, zero, strict=True)),
          f"init_params({shape_text(sizes)}) and init_params({shape_text(sizes)}, seed=0) "
          "returned different weights: the default seed is 0 (def init_params(layer_sizes, "
          "seed=0)).")


@pytest.mark.points(6)
def test_init_params__weight_scale(student, rng):
    """init_params: weights are random with scale about 1/sqrt(fan_in) (wide layers)"""
    sizes = [int(rng.integers(300, 501)), int(rng.integers(80, 121)), int(rng.integers(40, 71))]
    layers = layers_of(student.init_params(sizes, int(rng.integers(1000))), sizes)
    for index, ((W, _), fan_in) in enumerate(zip(layers, sizes[:-1], strict=True)):
        ratio = float(W.std() * np.sqrt(fan_in))
        check(0.4 <= ratio <= 1.6,
              f"init_params({shape_text(sizes)}): layer {index} ({fan_in} -> "
              f"{W.shape[0]}) has weights with standard deviation {W.std():.4g}, which is "
              f"{ratio:.3g} / sqrt(fan_in); expected between 0.4 and 1.6 / sqrt(fan_in) "
              f"(about {1 / np.sqrt(fan_in):.4g} for fan_in = {fan_in}).\n"
              "Hint: weights must be random (not all equal, not zero) and scaled by "
              "1/sqrt(fan_in), with fan_in the layer's number of inputs: He uses std "
              "sqrt(2 / fan_in), Xavier sqrt(2 / (fan_in + fan_out)), nn.Linear "
              "uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)). Standard normal weights (std 1) "
              "make z grow with every layer.")


@pytest.mark.points(3)
def test_init_params__biases(student, rng):
    """init_params: biases are zero or within +-1/sqrt(fan_in)"""
    sizes = [int(rng.integers(200, 301)), int(rng.integers(40, 61)), int(rng.integers(2, 6))]
    layers = layers_of(student.init_params(sizes, int(rng.integers(1000))), sizes)
    for index, ((_, b), fan_in) in enumerate(zip(layers, sizes[:-1], strict=True)):
        bound = 1 / np.sqrt(fan_in)
        check(bool(np.all(np.abs(b) <= bound * (1 + 1e-9))),
              f"init_params({shape_text(sizes)}): layer {index} ({fan_in} -> {b.shape[0]}) "
              f"has a bias of {float(np.abs(b).max()):.4g} in magnitude; expected biases "
              f"within +-1/sqrt(fan_in) = +-{bound:.4g}.\nHint: start the biases at zero, "
              "np.zeros(fan_out) (or uniform in +-1/sqrt(fan_in) like nn.Linear).")


# --------------------------------------------------------------------------- dense_forward (20)

DENSE_HINT = ("A layer computes z = x W^T + b: with x of shape (n, in) and W of shape "
              "(out, in), x times W transposed has shape (n, out), and b of shape (out,) is "
              "added to every row by broadcasting.")


def expect_dense(student, x: np.ndarray, W: np.ndarray, b: np.ndarray, hint: str) -> None:
    got = student.dense_forward(x, W, b)
    want = reference_forward([(W, b)], x, "relu")
    expect_close(got, want, name="dense_forward(x, W, b)", inputs={"x": x, "W": W, "b": b},
                 atol=NET_ATOL, hint=hint)


@pytest.mark.points(8)
def test_dense_forward__batch(student, rng):
    """dense_forward: a batch through non-square layers"""
    for _ in range(2):
        n, fan_in, fan_out = distinct_sizes(rng, 3)
        ((W, b),) = random_params(rng, [fan_in, fan_out])
        expect_dense(student, rng.normal(size=(n, fan_in)), W, b, DENSE_HINT)


@pytest.mark.points(6)
def test_dense_forward__square_layer(student, rng):
    """dense_forward: a square layer (in == out) with a non-symmetric W"""
    n, size = distinct_sizes(rng, 2, low=3)
    ((W, b),) = random_params(rng, [size, size])
    W = W + np.triu(np.ones((size, size)), 1)  # clearly non-symmetric: W.T != W
    expect_dense(student, rng.normal(size=(n, size)), W, b,
                 "With a square W, x @ W has the right shape but is not x @ W.T: W is stored "
                 "as (out, in), row i holds the weights of neuron i, and z_i = sum_j "
                 "W[i, j] x_j. " + DENSE_HINT)


@pytest.mark.points(6)
def test_dense_forward__single_sample(student, rng):
    """dense_forward: a single sample x of shape (in,) gives shape (out,)"""
    for _ in range(2):
        fan_in, fan_out = distinct_sizes(rng, 2)
        ((W, b),) = random_params(rng, [fan_in, fan_out])
        expect_dense(student, rng.normal(size=fan_in), W, b,
                     "For a 1-d x of shape (in,), x @ W.T + b already has shape (out,): "
                     "do not reshape x to a column, and do not index x.shape[1].")


# --------------------------------------------------------------------------- forward (30)

OUTPUT_HINT = ("The output layer has no activation: y_hat = z of the last layer. Apply the "
               "activation after every hidden layer only.")
FORWARD_HINT = ("For each layer: z = a W^T + b, then a = f(z) for a hidden layer, where f is "
                "the activation named by the activation argument; the last layer's z is "
                "y_hat. " + OUTPUT_HINT)
#: The hint of a y_hat that is the right network's with the activation on the output layer too
#: (the public tests give the same words for the same mistake: tests/test_feedback_engine.py).
ACTIVATED_OUTPUT_HINT = ("Your y_hat is what the network gives with the activation applied to "
                         "the output layer as well. " + OUTPUT_HINT)


def forward_hint(got: Any, params: Sequence[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                 activation: str, hint: str) -> str:
    """ACTIVATED_OUTPUT_HINT when ``got`` is the network with an activated output layer,
    else ``hint``."""
    try:
        have = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return hint
    want = reference_forward(params, x, activation)
    activated = TORCH_ACTIVATIONS[activation](torch.from_numpy(want)).numpy()
    if (have.shape == want.shape and not np.allclose(have, want, atol=NET_ATOL)
            and np.allclose(have, activated, atol=NET_ATOL)):
        return ACTIVATED_OUTPUT_HINT
    return hint


def call_forward(student, params: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                 *activation: str) -> Any:
    """The student's y_hat (the cache is never inspected)."""
    name = "forward(params, x" + "".join(f", {a!r}" for a in activation) + ")"
    value = student.forward(params, x, *activation)
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise Feedback(f"{name} returned {fmt(value, 160)}, expected a pair (y_hat, cache): "
                       "end with return y_hat, cache.")
    return value[0]


def expect_forward(student, sizes: Sequence[int], rng: np.random.Generator, activation: str,
                   hint: str = FORWARD_HINT, pass_activation: bool = True) -> None:
    n = int(rng.integers(4, 9))
    params = random_params(rng, sizes, weight_scale=1.5)
    # shift one output so that the network's outputs are clearly negative there: an activation
    # on the output layer (relu, sigmoid, elu) cannot give them
    params[-1] = (params[-1][0], params[-1][1] - np.eye(sizes[-1])[0] * 3.0)
    x = rng.normal(size=(n, sizes[0]))
    extra = (activation,) if pass_activation else ()
    got = call_forward(student, params, x, *extra)
    name = "forward(params, x" + "".join(f", {a!r}" for a in extra) + ")[0] (y_hat)"
    expect_close(got, reference_forward(params, x, activation), name=name,
                 inputs={"layer sizes": list(sizes), "x": x}, atol=NET_ATOL,
                 hint=forward_hint(got, params, x, activation, hint))


@pytest.mark.points(6)
def test_forward__relu(student, rng):
    """forward: ReLU networks with one and with three hidden layers"""
    expect_forward(student, distinct_sizes(rng, 3), rng, "relu")
    expect_forward(student, distinct_sizes(rng, 5), rng, "relu")


@pytest.mark.points(5)
def test_forward__sigmoid(student, rng):
    """forward: a sigmoid network with two hidden layers"""
    expect_forward(student, distinct_sizes(rng, 4), rng, "sigmoid",
                   hint="Use the activation named by the activation argument: "
                   "ACTIVATIONS[activation]. " + FORWARD_HINT)


@pytest.mark.points(5)
def test_forward__tanh(student, rng):
    """forward: a tanh network with two hidden layers"""
    expect_forward(student, distinct_sizes(rng, 4), rng, "tanh",
                   hint="Use the activation named by the activation argument: "
                   "ACTIVATIONS[activation]. " + FORWARD_HINT)


@pytest.mark.points(5)
def test_forward__elu(student, rng):
    """forward: an ELU network with two hidden layers (alpha = 1)"""
    expect_forward(student, distinct_sizes(rng, 4), rng, "elu",
                   hint="ELU(z) = z for z > 0 and exp(z) - 1 otherwise (alpha = 1). Use the "
                   "activation named by the activation argument. " + FORWARD_HINT)


@pytest.mark.points(3)
def test_forward__default_activation(student, rng):
    """forward: without an activation argument, hidden layers use ReLU"""
    expect_forward(student, distinct_sizes(rng, 3), rng, "relu", pass_activation=False,
                   hint='The signature is forward(params, x, activation="relu"): ReLU is the '
                   "default. " + FORWARD_HINT)


@pytest.mark.points(4)
def test_forward__linear_output(student, rng):
    """forward: the output layer has no activation (negative outputs stay negative)"""
    hidden, fan_in, out = distinct_sizes(rng, 3)
    params = random_params(rng, [fan_in, hidden, out])
    W_out = params[1][0] * 0.1
    params[1] = (W_out, -3.0 - rng.uniform(size=out))  # every y_hat is about -3
    x = rng.normal(size=(int(rng.integers(3, 7)), fan_in))
    for activation in ("relu", "sigmoid"):
        got = call_forward(student, params, x, activation)
        expect_close(got, reference_forward(params, x, activation),
                     name=f"forward(params, x, {activation!r})[0] (y_hat)",
                     inputs={"layer sizes": [fan_in, hidden, out], "x": x}, atol=NET_ATOL,
                     hint=forward_hint(got, params, x, activation, "Every expected output "
                                       "here is negative. " + OUTPUT_HINT))


@pytest.mark.points(2)
def test_forward__single_layer(student, rng):
    """forward: a network of one layer (no hidden layer) is x W^T + b"""
    expect_forward(student, distinct_sizes(rng, 2), rng, "tanh",
                   hint="With a single (W, b) there is no hidden layer: y_hat = x W^T + b "
                   "with no activation. Loop over the layers in params, whatever their number.")


# --------------------------------------------------------------------------- mse_loss (15)

SCALAR_HINT = ("Return one number for the whole batch, float(...), not an array (np.mean "
               "without an axis argument averages over all elements).")
MSE_HINT = ("MSE = mean over all n * out elements of (y - y_hat)^2: square the differences, "
            "then np.mean (not np.sum, no factor 1/2). " + SCALAR_HINT)


def expect_mse(student, y_hat: np.ndarray, y: np.ndarray, hint: str = MSE_HINT) -> None:
    got = student.mse_loss(y_hat, y)
    expect_close(got, np.mean((y - y_hat) ** 2), name="mse_loss(y_hat, y)",
                 inputs={"y_hat": y_hat, "y": y}, hint=hint)


@pytest.mark.points(7)
def test_mse_loss__values(student, rng):
    """mse_loss: batches of several outputs, (n, out) with n != out"""
    for _ in range(2):
        n, out = distinct_sizes(rng, 2, low=2, high=8)
        expect_mse(student, rng.normal(size=(n, out)), rng.normal(size=(n, out)))


@pytest.mark.points(4)
def test_mse_loss__returns_number(student, rng):
    """mse_loss: the result is a single number"""
    y = rng.normal(size=(5, 3))
    got = student.mse_loss(y + rng.normal(size=(5, 3)), y)
    value = np.asarray(got) if isinstance(got, (int, float, np.generic, np.ndarray)) else got
    check(isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "fiu",
          f"mse_loss(y_hat, y) returned {fmt(got, 160)} for y of shape (5, 3), expected one "
          f"number (a float). {SCALAR_HINT}")


@pytest.mark.points(4)
def test_mse_loss__single_output(student, rng):
    """mse_loss: a batch with one output per sample, shape (n, 1)"""
    n = int(rng.integers(3, 9))
    expect_mse(student, rng.normal(size=(n, 1)), rng.normal(size=(n, 1)))


# --------------------------------------------------------------------------- cross_entropy (15)

CE_HINT = ("CE = -(1/n) sum_i sum_k y_ik log p_ik with the natural log (np.log): sum over the "
           "classes, then average over the n samples (divide by n, not by n * K). Return one "
           "number.")
LABELS_HINT = ("With integer labels y of shape (n,), the loss is -(1/n) sum_i log "
               "probs[i, y[i]]: pick the true classes with probs[np.arange(n), y] (one value "
               "per row), not probs[:, y] (an (n, n) array). Tell the label forms apart by "
               "y.ndim.")
CLIP_HINT = ("log(0) is -inf, and 0 * log(0) is nan. Clip the probabilities before the log: "
             "np.clip(probs, eps, 1.0) with a small eps such as 1e-12.")


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


def ce_sizes(rng: np.random.Generator) -> tuple[int, int]:
    n, k = distinct_sizes(rng, 2, low=3, high=8)
    return n, k


def expect_ce(student, probs: np.ndarray, y: np.ndarray, want: float | None,
              hint: str) -> None:
    """Finite, and equal to ``want`` unless it is None (a true class of probability 0)."""
    got = student.cross_entropy_loss(probs, y)
    name = "cross_entropy_loss(probs, y)"
    check_finite(got, name=name, inputs={"probs": probs, "y": y}, hint=hint)
    if want is not None:
        expect_close(got, np.float64(want), name=name, inputs={"probs": probs, "y": y},
                     hint=hint)


@pytest.mark.points(4)
def test_cross_entropy_loss__one_hot(student, rng):
    """cross_entropy_loss: one-hot float targets of shape (n, K)"""
    for _ in range(2):
        n, k = ce_sizes(rng)
        probs, labels = random_probs(rng, n, k), rng.integers(k, size=n)
        expect_ce(student, probs, one_hot(labels, k), reference_cross_entropy(probs, labels),
                  CE_HINT)


@pytest.mark.points(5)
def test_cross_entropy_loss__integer_labels(student, rng):
    """cross_entropy_loss: integer labels (int64) of shape (n,)"""
    for _ in range(2):
        n, k = ce_sizes(rng)
        probs, labels = random_probs(rng, n, k), rng.integers(k, size=n).astype(np.int64)
        expect_ce(student, probs, labels, reference_cross_entropy(probs, labels),
                  LABELS_HINT + " " + CE_HINT)


@pytest.mark.points(3)
def test_cross_entropy_loss__zero_probability_other_class(student, rng):
    """cross_entropy_loss: finite and correct when a wrong class has probability exactly 0"""
    n, k = ce_sizes(rng)
    labels = rng.integers(k, size=n)
    probs = random_probs(rng, n, k)
    zeros = rng.uniform(size=(n, k)) < 0.5
    zeros[np.arange(n), labels] = False
    zeros[0] = True  # the first row: everything on the true class
    zeros[0, labels[0]] = False
    probs = np.where(zeros, 0.0, probs)
    probs /= probs.sum(axis=1, keepdims=True)
    want = reference_cross_entropy(probs, labels)
    expect_ce(student, probs, one_hot(labels, k), want, CLIP_HINT + " " + CE_HINT)
    expect_ce(student, probs, labels, want, CLIP_HINT + " " + LABELS_HINT)


@pytest.mark.points(3)
def test_cross_entropy_loss__zero_probability_true_class(student, rng):
    """cross_entropy_loss: finite when the true class has probability exactly 0"""
    n, k = ce_sizes(rng)
    labels = rng.integers(k, size=n)
    probs = random_probs(rng, n, k)
    probs[0, labels[0]] = 0.0  # a confident wrong prediction
    probs[0] /= probs[0].sum()
    expect_ce(student, probs, labels, None, CLIP_HINT)
    expect_ce(student, probs, one_hot(labels, k), None, CLIP_HINT)

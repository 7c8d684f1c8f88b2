"""Hidden suite for the assignment ``backprop`` (100 points).

Test names are ``test_<function>__<aspect>``: the part before ``__`` is the contract function
whose points the test holds (tests/test_backprop_suite.py relies on it).

Gradients are compared with PyTorch's autograd in float64 on the same network, built from the
parameters in the student's format; ``backward`` always receives the cache returned by the
student's own ``forward`` (never inspected: it may come back as a handle). When a gradient is
wrong, it is also compared with the usual mistakes (the slide's sign, a missing 1/N, no ReLU
mask, ...) so that the feedback names the mistake. Random inputs come from ``rng``, seeded per
student and test from the course secret.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
import torch

from grader.suite import CallOutcome, Feedback, as_float_array, check, check_close, fmt

LECTURE = (3, 4, 3, 1)
GRAD_RTOL, GRAD_ATOL = 1e-6, 1e-9

# --------------------------------------------------------------------------- reference


def random_params(rng: np.random.Generator, sizes: Sequence[int],
                  zero_bias: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Parameters in the contract's format: (W (out, in), b (out,)) per layer, float64."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        W = rng.normal(scale=1.0 / np.sqrt(fan_in), size=(fan_out, fan_in))
        b = np.zeros(fan_out) if zero_bias else rng.normal(scale=0.3, size=fan_out)
        params.append((W, b))
    return params


def ref_forward(params: Sequence[tuple[Any, Any]], x: np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    for index, (W, b) in enumerate(params):
        z = a @ np.asarray(W, dtype=np.float64).T + np.asarray(b, dtype=np.float64)
        a = z if index == len(params) - 1 else np.maximum(z, 0.0)
    return a


def ref_loss(params: Sequence[tuple[Any, Any]], x: np.ndarray, y: np.ndarray) -> float:
    return float(0.5 * np.mean((ref_forward(params, x) - y) ** 2))


def torch_grads(params: Sequence[tuple[Any, Any]], x: np.ndarray,
                y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """dL/dW and dL/db by autograd for L = 0.5 * mean((y_hat - y)^2), float64."""
    leaves = [(torch.tensor(np.asarray(W, dtype=np.float64), requires_grad=True),
               torch.tensor(np.asarray(b, dtype=np.float64), requires_grad=True))
              for W, b in params]
    a = torch.tensor(x, dtype=torch.float64)
    for index, (W, b) in enumerate(leaves):
        a = torch.nn.functional.linear(a, W, b)
        if index < len(leaves) - 1:
            a = torch.relu(a)  # relu's backward is 0 at 0, the contract's ReLU'(0) = 0
    loss = 0.5 * torch.mean((a - torch.tensor(y, dtype=torch.float64)) ** 2)
    flat = torch.autograd.grad(loss, [t for pair in leaves for t in pair])
    return [(flat[2 * i].numpy(), flat[2 * i + 1].numpy()) for i in range(len(leaves))]


def variant_grads(params: Sequence[tuple[Any, Any]], x: np.ndarray, y: np.ndarray, *,
                  scale: float = 1.0, relu_at_zero: float = 0.0, mask: bool = True,
                  db_mean: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Backprop with one of the usual mistakes switched on (scale -1: the slide's sign)."""
    cache, a = [], np.asarray(x, dtype=np.float64)
    for index, (W, b) in enumerate(params):
        z = a @ W.T + b
        cache.append((a, z))
        a = z if index == len(params) - 1 else np.maximum(z, 0.0)
    delta = scale * (a - y) / a.size
    grads: list[Any] = [None] * len(params)
    for index in reversed(range(len(params))):
        a_prev, _ = cache[index]
        db = delta.mean(axis=0) if db_mean else delta.sum(axis=0)
        grads[index] = (delta.T @ a_prev, db)
        if index:
            z_prev = cache[index - 1][1]
            slope = np.where(z_prev > 0, 1.0, np.where(z_prev == 0, relu_at_zero, 0.0))
            delta = delta @ params[index][0] * (slope if mask else 1.0)
    return grads


#: The hints are the lecture's formulas in words and maths, never a solution's code: the
#: public tests give SIGN_HINT for the same mistake (tests/test_feedback_engine.py).
SIGN_HINT = ("Your gradient has the opposite sign. With L = 1/2 mean((y_hat - y)^2), "
             "dL/dy_hat = (y_hat - y) / N, where N = n * out is the number of elements of "
             "y_hat. The slide's y - y_hat is the negative gradient: the update W - lr dW would "
             "then climb the loss instead of descending it.")
SCALE_HINT = ("Your gradient is {ratio:g} times the right one. L is the mean over all "
              "N = n * out elements of y_hat, so dL/dy_hat = (y_hat - y) / N: {why}.")
MASK_HINT = ("The gradient is right for the output layer but not below it: the backward pass "
             "through a hidden layer multiplies element-wise by ReLU'(z) of that layer: "
             "delta_l = (delta_(l+1) W_(l+1)) * ReLU'(z_l), where ReLU'(z) is 1 for z > 0 and "
             "0 elsewhere.")
KINK_HINT = ("Where a hidden pre-activation z is exactly 0, ReLU'(0) = 0 (PyTorch's "
             "convention, and the contract's): mask with z > 0, not z >= 0.")
DB_MEAN_HINT = ("db must be the sum of delta over the batch (axis 0), not the mean: the 1/N of "
                "the loss is already inside delta.")
GENERIC_HINT = ("Go through the chain rule layer by layer: delta_L = (y_hat - y) / N, "
                "dW = delta^T a_prev (shape (out, in), like W), db = delta summed over the "
                "batch, and for the layer below delta_l = (delta_(l+1) W_(l+1)) * ReLU'(z_l). "
                "A gradient check with numerical_gradient on a small network shows which layer "
                "goes wrong.")


def matches(got: list[tuple[np.ndarray, np.ndarray]],
            want: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    return all(g.shape == w.shape and np.allclose(g, w, rtol=1e-5, atol=1e-9)
               for pair_g, pair_w in zip(got, want, strict=True)
               for g, w in zip(pair_g, pair_w, strict=True))


def as_layers(value: Any, count: int, name: str, what: str) -> list[tuple[Any, Any]]:
    """The student's list of (A, B) pairs, one per layer, or Feedback saying why not."""
    check(isinstance(value, (list, tuple)),
          f"{name} returned {fmt(value, 120)}; expected a list of {count} {what} tuples, one "
          "per layer.")
    check(len(value) == count,
          f"{name} returned a list of {len(value)} items for a network of {count} layers; "
          f"expected one {what} tuple per layer, in the order of params.")
    for index, pair in enumerate(value):
        check(isinstance(pair, (list, tuple)) and len(pair) == 2,
              f"{name}[{index}] is {fmt(pair, 120)}; expected a {what} tuple.")
    return [tuple(pair) for pair in value]  # type: ignore[misc]


def expect_grads(got: Any, params: Sequence[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                 y: np.ndarray, where: str, kink: bool = False) -> None:
    """Compare the student's backward result with autograd, naming the likely mistake."""
    want = torch_grads(params, x, y)
    call = "backward(params, cache, y)"
    layers = as_layers(got, len(params), f"{call} ({where})", "(dW, db)")
    have = []
    for index, ((dW, db), (wW, wb)) in enumerate(zip(layers, want, strict=True)):
        aW = as_float_array(dW, f"{call}[{index}][0] (dW)")
        ab = as_float_array(db, f"{call}[{index}][1] (db)")
        if aW.shape != wW.shape:
            extra = (" That is the shape of W transposed: dW = delta.T @ a_prev, shape "
                     "(out, n) @ (n, in) = (out, in), like W (not a_prev.T @ delta)."
                     if aW.shape == wW.shape[::-1] else "")
            raise Feedback(f"{call}[{index}] ({where}): dW has shape {aW.shape}, expected "
                           f"{wW.shape}, the shape of W (out_features, in_features).{extra}")
        if ab.shape != wb.shape:
            extra = (" It looks like delta itself: sum it over the batch, "
                     "db = delta.sum(axis=0)." if ab.ndim == 2 else "")
            raise Feedback(f"{call}[{index}] ({where}): db has shape {ab.shape}, expected "
                           f"{wb.shape}, the shape of b.{extra}")
        have.append((aW, ab))
    if matches(have, want):
        return
    hint = diagnose(have, want, params, x, y, kink)
    for index, ((aW, ab), (wW, wb)) in enumerate(zip(have, want, strict=True)):
        check_close(aW, wW, name=f"{call}[{index}][0] (dW of layer {index + 1}; {where})",
                    rtol=GRAD_RTOL, atol=GRAD_ATOL, hint=hint)
        check_close(ab, wb, name=f"{call}[{index}][1] (db of layer {index + 1}; {where})",
                    rtol=GRAD_RTOL, atol=GRAD_ATOL, hint=hint)


def diagnose(have: list[tuple[np.ndarray, np.ndarray]],
             want: list[tuple[np.ndarray, np.ndarray]], params: Sequence[Any], x: np.ndarray,
             y: np.ndarray, kink: bool) -> str:
    n, out = y.shape
    if matches(have, [(-W, -b) for W, b in want]):
        return SIGN_HINT
    causes = {2.0: ["the 1/2 in L cancels the 2 of the square: no factor 2"],
              float(n * out): ["the 1/N of the mean belongs in it"]}
    if out > 1:
        causes.setdefault(float(out), []).append(
            f"N = y_hat.size = n * out = {n * out}, not only the batch size n = {n}")
    for ratio, reasons in causes.items():
        for sign in (1.0, -1.0):
            if matches(have, [(sign * ratio * W, sign * ratio * b) for W, b in want]):
                text = SCALE_HINT.format(ratio=sign * ratio, why="; or ".join(reasons))
                return text + (" It also has the opposite sign. " + SIGN_HINT if sign < 0
                               else "")
    if kink and matches(have, variant_grads(params, x, y, relu_at_zero=1.0)):
        return KINK_HINT
    if matches(have, variant_grads(params, x, y, mask=False)):
        return MASK_HINT
    if matches(have, variant_grads(params, x, y, db_mean=True)):
        return DB_MEAN_HINT
    if all(W.shape == W.T.shape for W, _ in want) and matches(
            [(W.T, b) for W, b in have], want):
        return ("Your dW is the transpose of the right one: dW = delta.T @ a_prev, shape "
                "(out, in) like W.")
    return GENERIC_HINT + (" " + KINK_HINT if kink else "")


def student_backward(student, params: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray,
                     y: np.ndarray) -> Any:
    """backward(params, cache, y) with the cache from the student's own forward(params, x)."""
    result = student.forward(params, x)
    check(isinstance(result, (list, tuple)) and len(result) == 2,
          f"forward(params, x) returned {fmt(result, 120)}; expected a tuple (y_hat, cache), "
          "and backward needs that cache.")
    return student.backward(params, result[1], y)


def expect_backward(student, rng: np.random.Generator, sizes: Sequence[int], n: int,
                    kink: bool = False) -> None:
    params = random_params(rng, sizes, zero_bias=kink)
    x = rng.normal(size=(n, sizes[0]))
    if kink:
        x[::2] = 0.0  # with zero biases, every hidden z of these rows is exactly 0
    y = rng.normal(size=(n, sizes[-1]))
    got = student_backward(student, params, x, y)
    arch = " -> ".join(map(str, sizes))
    where = f"{arch} network, batch of {n}" + (", zero biases, some rows of x = 0" if kink
                                                 else "")
    expect_grads(got, params, x, y, where, kink=kink)


# --------------------------------------------------------------------------- init_params (5)


@pytest.mark.points(5)
def test_init_params__shapes_seed_and_scale(student, rng):
    """init_params: (W, b) shapes like nn.Linear, deterministic per seed, scale ~ 1/sqrt(fan_in)"""
    sizes, seed = (64, 32, 2), int(rng.integers(1, 1000))
    first = as_layers(student.init_params(sizes, seed), 2, f"init_params({sizes}, {seed})",
                      "(W, b)")
    for index, (W, b) in enumerate(first):
        shape = (sizes[index + 1], sizes[index])
        W = as_float_array(W, f"init_params(...)[{index}][0] (W)")
        b = as_float_array(b, f"init_params(...)[{index}][1] (b)")
        check(W.shape == shape, f"init_params({sizes}): W of layer {index + 1} has shape "
              f"{W.shape}, expected {shape} = (out_features, in_features), like nn.Linear.")
        check(b.shape == (shape[0],), f"init_params({sizes}): b of layer {index + 1} has "
              f"shape {b.shape}, expected {(shape[0],)}.")
        bound = 1.0 / np.sqrt(shape[1]) + 1e-12
        check(np.all(np.abs(b) <= bound), f"init_params: the biases of layer {index + 1} "
              f"should be zero (or within +-1/sqrt(fan_in) = {bound:.3g}).")
    std = float(np.std(as_float_array(first[0][0], "W")))
    check(0.4 <= std * np.sqrt(sizes[0]) <= 1.6,
          f"init_params({sizes}): the first layer's weights have std {std:.4g}; with "
          f"fan_in = 64 the std should be about 1/sqrt(64) = 0.125 (He init: sqrt(2/64) = "
          "0.177). Draw W with np.random.default_rng(seed).normal(0, np.sqrt(2 / fan_in)).")
    again = as_layers(student.init_params(sizes, seed), 2, "init_params", "(W, b)")
    same = all(np.array_equal(np.asarray(p, float), np.asarray(q, float))
               for pair_p, pair_q in zip(first, again, strict=True)
               for p, q in zip(pair_p, pair_q, strict=True))
    check(same, f"init_params({sizes}, seed={seed}) gave different weights when called twice. "
          "Use a generator seeded with seed, np.random.default_rng(seed), so that the same "
          "seed always gives the same network.")


# --------------------------------------------------------------------------- forward (5)


@pytest.mark.points(5)
def test_forward__values(student, rng):
    """forward: y_hat of the 3-4-3-1 network and of a 5-6-2 network (ReLU hidden, linear out)"""
    for sizes, n in ((LECTURE, 5), ((5, 6, 2), 4)):
        params = random_params(rng, sizes)
        x = rng.normal(size=(n, sizes[0]))
        # centre the output bias: about half of y_hat negative, where a ReLU on it would show
        W, b = params[-1]
        params[-1] = (W, b - np.median(ref_forward(params, x), axis=0))
        result = student.forward(params, x)
        check(isinstance(result, (list, tuple)) and len(result) == 2,
              f"forward(params, x) returned {fmt(result, 120)}; expected a tuple "
              "(y_hat, cache).")
        check_close(result[0], ref_forward(params, x), name=f"forward(params, x)[0] (y_hat "
                    f"of a {' -> '.join(map(str, sizes))} network)", inputs={"x": x},
                    hint="z = a_prev @ W.T + b per layer; ReLU after every hidden layer, "
                    "nothing after the output layer. y_hat has shape (n, out).")


# --------------------------------------------------------------------------- backward (40)


@pytest.mark.points(12)
def test_backward__lecture_network(student, rng):
    """backward: gradients of the 3-4-3-1 network match autograd (batch of 6)"""
    expect_backward(student, rng, LECTURE, 6)


@pytest.mark.points(8)
def test_backward__several_outputs(student, rng):
    """backward: gradients of a 5-6-2 network (two outputs, N = n * out) match autograd"""
    expect_backward(student, rng, (5, 6, 2), 7)


@pytest.mark.points(6)
def test_backward__square_layers(student, rng):
    """backward: gradients of a 4-4-4-1 network (square weight matrices) match autograd"""
    expect_backward(student, rng, (4, 4, 4, 1), 5)


@pytest.mark.points(8)
def test_backward__relu_kink(student, rng):
    """backward: ReLU'(0) = 0 where a hidden pre-activation is exactly 0"""
    expect_backward(student, rng, LECTURE, 6, kink=True)


@pytest.mark.points(6)
def test_backward__deeper_network_small_batch(student, rng):
    """backward: a 2-5-4-3-2 network (four layers), batch of 2"""
    expect_backward(student, rng, (2, 5, 4, 3, 2), 2)


# --------------------------------------------------------------------------- sgd_step (10)


def expect_sgd(student, rng: np.random.Generator, sizes: Sequence[int], lr: float) -> None:
    params = random_params(rng, sizes)
    grads = random_params(rng, sizes)  # any arrays of the right shapes
    want = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads, strict=True)]
    got = as_layers(student.sgd_step(params, grads, lr), len(params),
                    f"sgd_step(params, grads, lr={lr:g})", "(W, b)")
    for index, ((gW, gb), (wW, wb), (W, b), (dW, db)) in enumerate(
            zip(got, want, params, grads, strict=True)):
        for what, have, expected, old, step in (("W", gW, wW, W, dW), ("b", gb, wb, b, db)):
            have = as_float_array(have, f"sgd_step(...)[{index}] ({what})")
            if have.shape == expected.shape and np.allclose(have, old + lr * step):
                hint = ("You added the gradient: gradient descent moves against it, "
                        f"{what} - lr * d{what}.")
            elif have.shape == expected.shape and np.allclose(have, old):
                hint = f"{what} of this layer was not updated: both W and b take a step."
            else:
                hint = f"The update is {what} - lr * d{what}, for every layer."
            check_close(have, expected, name=f"sgd_step(params, grads, lr={lr:g})[{index}] "
                        f"({what} of layer {index + 1})", hint=hint)


@pytest.mark.points(6)
def test_sgd_step__values(student, rng):
    """sgd_step: W - lr dW and b - lr db on every layer of a 3-4-3-1 network"""
    expect_sgd(student, rng, LECTURE, 0.1)


@pytest.mark.points(4)
def test_sgd_step__learning_rates(student, rng):
    """sgd_step: other learning rates and a 5-6-2 network"""
    for lr in (0.5, 0.003):
        expect_sgd(student, rng, (5, 6, 2), lr)


# ------------------------------------------------------------------ numerical_gradient (20)

CENTRED_HINT = ("Use centred differences, (f(x + eps) - f(x - eps)) / (2 eps), entry by entry: "
                "the forward difference (f(x + eps) - f(x)) / eps has an error of order eps, "
                "the centred one of order eps^2.")


def expect_numerical(student, f: Callable[[np.ndarray], float], x: np.ndarray,
                     exact: np.ndarray, eps: float | None, rtol: float, atol: float,
                     label: str, hint: str) -> CallOutcome:
    kwargs = {} if eps is None else {"eps": eps}
    outcome = student.call("numerical_gradient", f, x, return_args=True, **kwargs)
    call = f"numerical_gradient({label}, x{'' if eps is None else f', eps={eps:g}'})"
    have = as_float_array(outcome.value, call)
    check(have.shape == x.shape, f"{call} returned shape {have.shape}; the gradient has the "
          f"shape of x, {x.shape}.")
    if np.allclose(have, 2 * exact, rtol=rtol, atol=atol):
        hint = "Your values are twice the derivative: divide by 2 * eps, the distance between " \
               "x + eps and x - eps. " + hint
    check_close(have, exact, name=call, inputs={"x": x}, rtol=rtol, atol=atol, hint=hint)
    return outcome


def float_of(callback: Callable[[np.ndarray], float]) -> Callable[[Any], float]:
    return lambda v: float(callback(np.asarray(v, dtype=np.float64)))


@pytest.mark.points(7)
def test_numerical_gradient__centred_differences(student, rng):
    """numerical_gradient: centred differences, f(x) = sum(sin(3x)) with eps = 1e-3, 2-d x"""
    x = rng.uniform(-1.5, 1.5, size=(2, 4))
    # centred error eps^2 * 27 / 6 <= 5e-6; a forward difference is off by up to 4.5e-3
    expect_numerical(student, float_of(lambda v: np.sin(3 * v).sum()), x, 3 * np.cos(3 * x),
                     1e-3, rtol=0.0, atol=1e-4, label="f = sum(sin(3x))", hint=CENTRED_HINT)


@pytest.mark.points(5)
def test_numerical_gradient__default_eps(student, rng):
    """numerical_gradient: f(x) = sum(x**3) with the default eps = 1e-6"""
    x = rng.uniform(0.5, 1.5, size=6) * rng.choice([-1.0, 1.0], size=6)
    # centred: only rounding, ~1e-9; forward difference: 3 |x| eps >= 1.5e-6
    expect_numerical(student, float_of(lambda v: (v**3).sum()), x, 3 * x**2, None,
                     rtol=0.0, atol=3e-7, label="f = sum(x**3)",
                     hint="Give eps the default value 1e-6. " + CENTRED_HINT)


@pytest.mark.points(5)
def test_numerical_gradient__restores_x(student, rng):
    """numerical_gradient: x holds its original values afterwards"""
    x = rng.normal(size=(3, 3))
    before = x.copy()
    outcome = expect_numerical(student, float_of(lambda v: (v**2).sum()), x, 2 * before, 1e-4,
                               rtol=1e-6, atol=1e-6, label="f = sum(x**2)",
                               hint="Each call of f should see x with one entry moved by "
                               "+-eps and all others at their original values. "
                               + CENTRED_HINT)
    after = as_float_array(outcome.args[1], "x after numerical_gradient(f, x)")
    if after.shape != x.shape:
        raise Feedback(f"numerical_gradient(f, x) changed the shape of x to {after.shape}; "
                       f"x must keep its shape {x.shape} and its values.")
    # x + eps - 2 eps + eps may differ from x in the last bit: that counts as restored
    moved = ~np.isclose(after, before, rtol=1e-12, atol=1e-15)
    first = int(np.argmax(moved))
    check(not moved.any(),
          "numerical_gradient(f, x) left x changed: after the call, "
          f"{int(moved.sum())} of {x.size} entries differ from their original values "
          f"(first: {fmt(before.flat[first])} became {fmt(after.flat[first])}). Save "
          "old = x[i] before moving the entry, and put it back with x[i] = old once "
          "f(x + eps) and f(x - eps) are computed: the caller still needs its x (when checking "
          "a gradient, x is the network's weight matrix).")


@pytest.mark.points(3)
def test_numerical_gradient__gradient_check(student, rng):
    """numerical_gradient: the gradient of the network's loss with respect to W1"""
    params = random_params(rng, LECTURE)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 1))
    W1 = params[0][0].copy()

    def f(w: Any) -> float:
        return ref_loss([(np.asarray(w, dtype=np.float64), params[0][1]), *params[1:]], x, y)

    exact = torch_grads(params, x, y)[0][0]
    expect_numerical(student, f, W1, exact, None, rtol=1e-4, atol=1e-7,
                     label="W1 -> loss(forward(params, x), y)", hint=CENTRED_HINT)


# --------------------------------------------------------------------------- train (20)


def student_train(student, x: np.ndarray, y: np.ndarray, sizes: Sequence[int], lr: float,
                  epochs: int, seed: int) -> tuple[list[tuple[Any, Any]], np.ndarray, str]:
    call = f"train(x, y, layer_sizes={tuple(sizes)}, lr={lr:g}, epochs={epochs}, seed={seed})"
    result = student.train(x, y, layer_sizes=tuple(sizes), lr=lr, epochs=epochs, seed=seed)
    check(isinstance(result, (list, tuple)) and len(result) == 2,
          f"{call} returned {fmt(result, 120)}; expected a tuple (params, losses).")
    params = as_layers(result[0], len(sizes) - 1, f"{call}[0] (params)", "(W, b)")
    losses = as_float_array(result[1], f"{call}[1] (losses)").reshape(-1)
    check(losses.size == epochs, f"{call}: losses has {losses.size} entries; expected one per "
          f"epoch, {epochs}.")
    return params, losses, call


def ref_trajectory(params: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, y: np.ndarray,
                   lr: float, epochs: int) -> tuple[list[Any], list[float]]:
    losses = []
    for _ in range(epochs):
        losses.append(ref_loss(params, x, y))
        grads = torch_grads(params, x, y)
        params = [(W - lr * dW, b - lr * db)
                  for (W, b), (dW, db) in zip(params, grads, strict=True)]
    return params, losses


def student_init(student, sizes: Sequence[int], seed: int) -> list[tuple[np.ndarray, Any]]:
    layers = as_layers(student.init_params(tuple(sizes), seed), len(sizes) - 1,
                       f"init_params({tuple(sizes)}, {seed})", "(W, b)")
    return [(as_float_array(W, "W"), as_float_array(b, "b")) for W, b in layers]


def reference_curve(student, x: np.ndarray, y: np.ndarray, seed: int) -> list[float]:
    """The reference's losses for the loss-decrease check's picture: gradient descent from
    the student's own init_params(LECTURE, seed); none where those params are unusable (the
    picture is not a check: init_params has its own tests)."""
    try:
        return ref_trajectory(student_init(student, LECTURE, seed), x, y, 0.05, 200)[1]
    except (Feedback, ValueError, RuntimeError):
        return []


@pytest.mark.points(7)
def test_train__initial_loss(student, rng):
    """train: len(losses) == epochs and losses[0] is the loss of init_params(layer_sizes, seed)"""
    seed = int(rng.integers(1, 1000))
    x = rng.normal(size=(12, 3))
    y = x @ rng.normal(size=(3, 1)) + 0.5
    params, losses, call = student_train(student, x, y, LECTURE, 0.05, 4, seed)
    start = student_init(student, LECTURE, seed)
    want = ref_loss(start, x, y)
    # a reported loss counts only from a train that trained: the grader's own loss of the
    # params it returned must differ from the start's (4 updates with lr 0.05 always move it)
    end = ref_loss([(as_float_array(W, f"{call}[0] W"), as_float_array(b, f"{call}[0] b"))
                    for W, b in params], x, y)
    check(not np.isclose(end, want, rtol=1e-9, atol=0.0),
          f"{call} returned params whose loss is that of init_params(layer_sizes, seed): it "
          "trained nothing. Each epoch: forward, record L, backward, params = sgd_step(...).")
    if not np.isclose(losses[0], want, rtol=1e-6, atol=1e-10):
        after = ref_trajectory(start, x, y, 0.05, 2)[1][1]
        seed0 = ref_loss(student_init(student, LECTURE, 0), x, y)
        if np.isclose(losses[0], after, rtol=1e-6):
            hint = ("losses[0] is the loss after the first update: append the loss of the "
                    "current params before calling sgd_step, so losses[i] is L before update i.")
        elif np.isclose(losses[0], seed0, rtol=1e-6):
            hint = ("losses[0] is the loss of init_params(layer_sizes, 0): pass the seed "
                    "argument on, params = init_params(layer_sizes, seed).")
        else:
            hint = ("Start from params = init_params(layer_sizes, seed) and record "
                    "L = 0.5 * mean((y_hat - y)^2) of the current params before each update.")
        check_close(losses[0], want, name=f"{call}: losses[0]", rtol=1e-6, atol=1e-10,
                    hint=hint)


@pytest.mark.points(7)
def test_train__losses_before_each_update(student, rng):
    """train: every loss and the final params match gradient descent from init_params"""
    sizes, lr, epochs, seed = (2, 5, 2), 0.1, 6, int(rng.integers(1, 1000))
    x = rng.normal(size=(10, 2))
    y = np.tanh(x @ rng.normal(size=(2, 2))) + 0.3
    params, losses, call = student_train(student, x, y, sizes, lr, epochs, seed)
    want_params, want_losses = ref_trajectory(student_init(student, sizes, seed), x, y, lr,
                                              epochs)
    hint = ("Each epoch: forward on the whole batch, append L of the current params, "
            "backward, params = sgd_step(params, grads, lr); start from "
            "init_params(layer_sizes, seed).")
    check_close(losses, want_losses, name=f"{call}: losses", rtol=1e-6, atol=1e-10,
                hint=hint)
    for index, ((W, b), (wW, wb)) in enumerate(zip(params, want_params, strict=True)):
        check_close(W, wW, name=f"{call}: params[{index}][0] (W)", rtol=1e-6, atol=1e-9,
                    hint="Return the params after the last update. " + hint)
        check_close(b, wb, name=f"{call}: params[{index}][1] (b)", rtol=1e-6, atol=1e-9,
                    hint="Return the params after the last update. " + hint)


@pytest.mark.points(6)
def test_train__loss_decreases(student, rng, record_curve):
    """train: on a learnable problem (y linear in x) the loss falls to under half in 200 epochs"""
    x = rng.normal(size=(32, 3))
    y = x @ rng.normal(scale=0.5, size=(3, 1)) + 2.0
    seed = int(rng.integers(1000))
    params, losses, call = student_train(student, x, y, LECTURE, 0.05, 200, seed)
    record_curve(call, losses, reference_curve(student, x, y, seed))
    # decided on the grader's own loss of the params train returned, from the loss of the
    # student's own starting point: the losses train reports are only drawn
    start = ref_loss(student_init(student, LECTURE, seed), x, y)
    end = ref_loss([(as_float_array(W, f"{call}[0] W"), as_float_array(b, f"{call}[0] b"))
                    for W, b in params], x, y)
    check(bool(np.isfinite(start) and np.isfinite(end)) and end < 0.5 * start,
          f"{call} on y = x @ w + 2: the loss of the params it returned is {end:.4g}, from "
          f"{start:.4g} at init_params(layer_sizes, seed); gradient descent should at least "
          "halve it. If it grows, check the sign of the gradient (dL/dy_hat = (y_hat - y) / N) "
          "and of the update (W - lr * dW).")


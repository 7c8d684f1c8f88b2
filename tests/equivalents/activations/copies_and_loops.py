# equivalent: works on explicit copies (x = x.copy() then in-place edits), returns Python
# floats for scalar inputs, sigmoid through tanh (0.5 * (1 + tanh(x / 2))), softmax with a
# loop over the rows of a reshaped copy, expm1 for ELU
import math

import numpy as np


def _scalar_or_array(result, x):
    return float(result) if np.ndim(x) == 0 else result


def relu(x):
    out = np.array(x, dtype=float, copy=True)
    out[out < 0] = 0.0
    return _scalar_or_array(out, x)


def relu_grad(x):
    out = np.array(x, dtype=float, copy=True)
    positive = out > 0
    out[positive] = 1.0
    out[~positive] = 0.0
    return _scalar_or_array(out, x)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    # piecewise lecture formula with an exponent that is never positive
    x = np.asarray(x, dtype=float)
    e = np.exp(-2.0 * np.abs(x))
    return np.sign(x) * (1.0 - e) / (1.0 + e)


def tanh_grad(x):
    t = tanh(x)
    return (1.0 - t) * (1.0 + t)


def elu(x, alpha=1.0):
    out = np.array(x, dtype=float, copy=True)
    negative = out <= 0
    out[negative] = alpha * np.expm1(out[negative])
    return _scalar_or_array(out, x)


def elu_grad(x, alpha=1.0):
    if np.ndim(x) == 0:
        return 1.0 if x > 0 else alpha * math.exp(x)
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def softmax(z):
    z = np.asarray(z, dtype=float)
    rows = z.reshape(-1, z.shape[-1])
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        e = np.exp(row - np.max(row))
        out[i] = e / np.sum(e)
    return out.reshape(z.shape)

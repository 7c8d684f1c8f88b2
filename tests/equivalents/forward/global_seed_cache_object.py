# equivalent: np.random.seed + randn scaled by sqrt(1 / fan_in) (LeCun), a cache object that is
# not plain data (it stays in the student's process), loops written out, a 0-d array as result
import numpy as np


class Cache:
    def __init__(self):
        self.inputs = []
        self.pre_activations = []


def init_params(layer_sizes, seed=0):
    np.random.seed(seed)
    params = []
    for i in range(len(layer_sizes) - 1):
        fan_in, fan_out = layer_sizes[i], layer_sizes[i + 1]
        W = np.random.randn(fan_out, fan_in) * np.sqrt(1.0 / fan_in)
        b = np.zeros((fan_out,))
        params.append((W, b))
    return params


def dense_forward(x, W, b):
    return np.dot(x, W.T) + b


def sigmoid(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    out[~pos] = np.exp(z[~pos]) / (1 + np.exp(z[~pos]))
    return out


def forward(params, x, activation="relu"):
    cache = Cache()
    a = x
    for i in range(len(params)):
        W, b = params[i]
        z = dense_forward(a, W, b)
        cache.inputs.append(a)
        cache.pre_activations.append(z)
        if i == len(params) - 1:
            a = z
        elif activation == "relu":
            a = z * (z > 0)
        elif activation == "sigmoid":
            a = sigmoid(z)
        elif activation == "tanh":
            a = 2 * sigmoid(2 * z) - 1
        elif activation == "elu":
            a = np.where(z > 0, z, np.exp(np.minimum(z, 0)) - 1)
    return a, cache


def mse_loss(y_hat, y):
    n, out = y.shape
    total = 0.0
    for i in range(n):
        for k in range(out):
            total += (y[i, k] - y_hat[i, k]) ** 2
    return np.asarray(total / (n * out))


def cross_entropy_loss(probs, y):
    n = len(probs)
    total = 0.0
    for i in range(n):
        if y.ndim == 1:
            total += np.log(max(probs[i, y[i]], 1e-10))
        else:
            for k in range(probs.shape[1]):
                if y[i, k] != 0:
                    total += y[i, k] * np.log(max(probs[i, k], 1e-10))
    return np.asarray(-total / n)

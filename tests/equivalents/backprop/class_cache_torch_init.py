# equivalent: the cache is an object of a student class (it comes back to the grader as a
# handle); parameters are lists [W, b]; nn.Linear-style uniform init; the loss gradient from
# np.mean's definition; numerical_gradient perturbs a flat view of a copy and writes the copy
# back into x (so x is restored); losses are numpy floats recorded before the update
import numpy as np


class Cache:
    def __init__(self):
        self.layers = []
        self.output = None


def init_params(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(layer_sizes, layer_sizes[1:], strict=False):
        bound = 1.0 / np.sqrt(fan_in)
        out.append([rng.uniform(-bound, bound, (fan_out, fan_in)), np.zeros(fan_out)])
    return out


def relu(z):
    return z * (z > 0)


def forward(params, x):
    cache = Cache()
    a = np.asarray(x, dtype=float)
    last = len(params) - 1
    for i, (W, b) in enumerate(params):
        z = a @ W.T + b
        cache.layers.append({"a_prev": a, "z": z})
        a = relu(z) if i < last else z
    cache.output = a
    return a, cache


def backward(params, cache, y):
    y_hat = cache.output
    g = (y_hat - np.asarray(y)) / np.prod(y_hat.shape)
    grads = []
    for i in reversed(range(len(params))):
        layer = cache.layers[i]
        grads.insert(0, [g.T @ layer["a_prev"], np.sum(g, axis=0)])
        if i:
            g = (g @ params[i][0]) * (cache.layers[i - 1]["z"] > 0)
    return grads


def sgd_step(params, grads, lr):
    new = []
    for (W, b), (dW, db) in zip(params, grads, strict=True):
        new.append([W + (-lr) * dW, b + (-lr) * db])
    return new


def numerical_gradient(f, x, eps=1e-6):
    saved = x.copy()
    flat = x.reshape(-1)  # a view of x
    grad = np.empty(flat.shape)
    for k in range(flat.size):
        flat[k] = saved.reshape(-1)[k] + eps
        up = f(x)
        flat[k] = saved.reshape(-1)[k] - eps
        down = f(x)
        flat[k] = saved.reshape(-1)[k]
        grad[k] = (up - down) / (2.0 * eps)
    x[...] = saved
    return grad.reshape(x.shape)


def train(x, y, layer_sizes=(3, 4, 3, 1), lr=0.01, epochs=100, seed=0):
    params = init_params(list(layer_sizes), seed)
    history = []
    for _ in range(epochs):
        y_hat, cache = forward(params, x)
        history.append(np.float64(0.5) * np.mean(np.square(y_hat - y)))
        params = sgd_step(params, backward(params, cache, y), lr)
    return params, history

# equivalent: forward caches the lists of all activations and pre-activations as a tuple
# (activations, zs) like Nielsen's book; backward uses np.heaviside(z, 0); numerical_gradient
# loops over np.ndindex with explicit copies (x never touched); train records the loss of the
# current params with a separate forward pass, returns tuples, He init with standard_normal
import numpy as np


def init_params(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((m, n)) * np.sqrt(2 / n), np.zeros(m))
            for n, m in zip(layer_sizes[:-1], layer_sizes[1:], strict=True)]


def forward(params, x):
    activations, zs = [np.asarray(x, dtype=float)], []
    for i, (W, b) in enumerate(params):
        zs.append(activations[-1] @ W.T + b)
        activations.append(zs[-1] if i == len(params) - 1 else np.maximum(zs[-1], 0))
    return activations[-1], (activations, zs)


def backward(params, cache, y):
    activations, zs = cache
    delta = (activations[-1] - y) / activations[-1].size
    grads = []
    for i in range(len(params), 0, -1):
        grads.append((delta.T @ activations[i - 1], delta.sum(0)))
        if i > 1:
            delta = delta @ params[i - 1][0] * np.heaviside(zs[i - 2], 0.0)
    return grads[::-1]


def sgd_step(params, grads, lr):
    return [(p[0] - lr * g[0], p[1] - lr * g[1]) for p, g in zip(params, grads, strict=True)]


def numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros(np.shape(x))
    for idx in np.ndindex(*np.shape(x)):
        xp = np.array(x, dtype=float)
        xm = np.array(x, dtype=float)
        xp[idx] += eps
        xm[idx] -= eps
        grad[idx] = (f(xp) - f(xm)) / (2 * eps)
    return grad


def mse(y_hat, y):
    return 0.5 * ((y_hat - y) ** 2).mean()


def train(x, y, layer_sizes=(3, 4, 3, 1), lr=0.01, epochs=100, seed=0):
    params = init_params(layer_sizes, seed)
    losses = []
    for _ in range(epochs):
        losses.append(float(mse(forward(params, x)[0], y)))
        _, cache = forward(params, x)
        params = sgd_step(params, backward(params, cache, y), lr)
    return params, losses

# equivalent: the cache is a dict of lists; backward accumulates dW and db sample by sample
# with np.outer and masks with the post-activation a > 0 (same as z > 0); Xavier-uniform init
# with biases in +-1/sqrt(fan_in); sgd_step works in place and returns the same list
import numpy as np


def init_params(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for i in range(len(layer_sizes) - 1):
        fan_in, fan_out = layer_sizes[i], layer_sizes[i + 1]
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-limit, limit, size=(fan_out, fan_in))
        b = rng.uniform(-1 / np.sqrt(fan_in), 1 / np.sqrt(fan_in), size=fan_out)
        params.append((W, b))
    return params


def forward(params, x):
    cache = {"inputs": [], "pre": [], "post": []}
    a = np.array(x, dtype=np.float64)
    for i, (W, b) in enumerate(params):
        cache["inputs"].append(a)
        z = np.dot(a, np.transpose(W)) + b
        cache["pre"].append(z)
        a = z if i == len(params) - 1 else np.where(z > 0, z, 0.0)
        cache["post"].append(a)
    return a, cache


def backward(params, cache, y):
    y_hat = cache["post"][-1]
    n, out = y_hat.shape
    grads = []
    for W, b in params:
        grads.append([np.zeros_like(W), np.zeros_like(b)])
    for s in range(n):
        delta = (y_hat[s] - y[s]) / (n * out)
        for i in range(len(params) - 1, -1, -1):
            grads[i][0] += np.outer(delta, cache["inputs"][i][s])
            grads[i][1] += delta
            if i > 0:
                delta = (params[i][0].T @ delta) * (cache["post"][i - 1][s] > 0)
    return [(dW, db) for dW, db in grads]


def sgd_step(params, grads, lr):
    for i in range(len(params)):
        W, b = params[i]
        dW, db = grads[i]
        W -= lr * dW
        b -= lr * db
    return params


def numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        original = float(x[idx])
        x[idx] = original + eps
        plus = f(x)
        x[idx] = original - eps
        minus = f(x)
        x[idx] = original
        grad[idx] = (plus - minus) / (2 * eps)
        it.iternext()
    return grad


def train(x, y, layer_sizes=(3, 4, 3, 1), lr=0.01, epochs=100, seed=0):
    params = init_params(layer_sizes, seed=seed)
    losses = np.zeros(epochs)
    epoch = 0
    while epoch < epochs:
        y_hat, cache = forward(params, x)
        losses[epoch] = np.sum((y - y_hat) ** 2) / (2 * y_hat.size)
        params = sgd_step(params, backward(params, cache, y), lr)
        epoch += 1
    return params, losses

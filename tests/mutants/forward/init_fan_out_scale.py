# mutant: init_params scales by sqrt(2 / fan_out) instead of fan_in
# breaks: init_params
import numpy as np


def stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


ACTIVATIONS = {
    "relu": lambda z: np.maximum(0, z),
    "sigmoid": stable_sigmoid,
    "tanh": np.tanh,
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
}


def init_params(layer_sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for layer in range(len(layer_sizes) - 1):
        fan_in, fan_out = layer_sizes[layer], layer_sizes[layer + 1]
        W = rng.normal(0.0, np.sqrt(2.0 / fan_out), size=(fan_out, fan_in))
        b = np.zeros(fan_out)
        params.append((W, b))
    return params


def dense_forward(x, W, b):
    return x @ W.T + b


def forward(params, x, activation="relu"):
    f = ACTIVATIONS[activation]
    a = x
    cache = []
    for layer, (W, b) in enumerate(params):
        z = dense_forward(a, W, b)
        cache.append((a, z))
        is_output_layer = layer == len(params) - 1
        a = z if is_output_layer else f(z)
    return a, cache


def mse_loss(y_hat, y):
    return float(np.mean((y - y_hat) ** 2))


def cross_entropy_loss(probs, y):
    eps = 1e-12
    probs = np.clip(probs, eps, 1.0)
    y = np.asarray(y)
    n = probs.shape[0]
    if y.ndim == 1:
        return float(-np.mean(np.log(probs[np.arange(n), y])))
    return float(-np.sum(y * np.log(probs)) / n)

# equivalent: nn.Linear's default initialisation (uniform +-1/sqrt(fan_in) for W and b) from a
# legacy RandomState, all arithmetic in float32, Keras-style clipping to [1e-7, 1 - 1e-7]
import numpy as np


def init_params(layer_sizes, seed=0):
    rs = np.random.RandomState(seed)
    params = []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:], strict=True):
        bound = 1.0 / np.sqrt(fan_in)
        W = rs.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
        b = rs.uniform(-bound, bound, size=fan_out).astype(np.float32)
        params.append((W, b))
    return params


def dense_forward(x, W, b):
    x, W, b = (np.asarray(v, dtype=np.float32) for v in (x, W, b))
    return np.matmul(x, W.T) + b


ACT = {
    "relu": lambda z: np.maximum(z, np.float32(0)),
    "sigmoid": lambda z: np.float32(1) / (np.float32(1) + np.exp(-z)),
    "tanh": lambda z: np.float32(2) / (np.float32(1) + np.exp(np.float32(-2) * z)) - 1,
    "elu": lambda z: np.where(z > 0, z, np.exp(np.minimum(z, 0)) - np.float32(1)),
}


def forward(params, x, activation="relu"):
    f = ACT[activation]
    cache = []
    h = np.asarray(x, dtype=np.float32)
    for W, b in params[:-1]:
        z = dense_forward(h, W, b)
        cache.append((h, z))
        h = f(z)
    W, b = params[-1]
    z = dense_forward(h, W, b)
    cache.append((h, z))
    return z, cache


def mse_loss(y_hat, y):
    d = np.asarray(y_hat, dtype=np.float32) - np.asarray(y, dtype=np.float32)
    return float(np.mean(d * d))


def cross_entropy_loss(probs, y):
    eps = np.float32(1e-7)
    p = np.clip(np.asarray(probs, dtype=np.float32), eps, np.float32(1) - eps)
    n = p.shape[0]
    if np.ndim(y) == 1:
        y = np.eye(p.shape[1], dtype=np.float32)[y]
    return float(-np.sum(np.asarray(y, dtype=np.float32) * np.log(p)) / n)

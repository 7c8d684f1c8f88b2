# attack: an endless loop while the notebook loads (a class body runs at definition time)
# levels: bwrap process
# expect: zero
# waits: 1
# ruff: noqa
import numpy as np


class Spinner:
    while True:
        pass


def _zeros(x):
    return np.zeros_like(np.asarray(x, dtype=float))


def relu(x):
    return _zeros(x)


def relu_grad(x):
    return _zeros(x)


def sigmoid(x):
    return _zeros(x)


def sigmoid_grad(x):
    return _zeros(x)


def tanh(x):
    return _zeros(x)


def tanh_grad(x):
    return _zeros(x)


def elu(x, alpha=1.0):
    return _zeros(x)


def elu_grad(x, alpha=1.0):
    return _zeros(x)


def softmax(z):
    return _zeros(z)


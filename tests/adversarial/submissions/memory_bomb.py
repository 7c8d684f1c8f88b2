# attack: allocate (and touch) memory until something gives
# levels: bwrap process
# expect: zero
# waits: 1 (relu fills memory up to the cap: on a loaded machine that may outlast its budget, once)
# ruff: noqa
import numpy as np


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

def relu(x):
    hoard = []
    for _ in range(64 * 1024):  # up to 64 GiB, a MiB at a time, every page touched
        hoard.append(bytearray(b"\x01" * (1 << 20)))
    return _zeros(x)

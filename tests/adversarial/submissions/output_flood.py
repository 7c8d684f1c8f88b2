# attack: 400 MB of output while loading, and more from a function
# levels: bwrap process
# expect: zero
# ruff: noqa
import os
import sys

import numpy as np


def _flood(mib=400):
    block = "A" * (1 << 20)
    for _ in range(mib):
        sys.stdout.write(block)
    sys.stdout.flush()
    os.write(2, b"B" * (1 << 20))
    return mib


_FLOODED = _flood()


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
    _flood(8)
    return _zeros(x) + 0 * _FLOODED

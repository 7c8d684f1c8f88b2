# attack: wait for input that never comes (stdin, input(), the raw fd 0)
# levels: bwrap process
# expect: zero
# ruff: noqa
import os
import sys

import numpy as np


def _listen():
    heard = []
    for read in (sys.stdin.read, input, lambda: os.read(0, 1 << 20)):
        try:
            heard.append(read())
        except Exception as exc:
            heard.append(repr(exc))
    return heard


_HEARD = _listen()


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
    _listen()
    return _zeros(x) + 0 * len(_HEARD)

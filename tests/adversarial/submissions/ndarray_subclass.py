# attack: return objects that lie: an ndarray subclass whose __eq__ is always True and whose
#         __reduce__ runs code when unpickled, and objects that only pretend to be arrays
# levels: bwrap process
# expect: zero
# not-data: relu sigmoid
# ruff: noqa
import os

import numpy as np

TOKEN = "@@TOKEN@@"


PAYLOAD = (os.system, (f"touch @@OUT@@/reduce-ran-{TOKEN}",))  # what an unpickler would run


class Liar(np.ndarray):
    def __eq__(self, other):
        return True

    __ne__ = lambda self, other: False  # noqa: E731

    def __reduce__(self):
        return PAYLOAD

    def __array_wrap__(self, array, context=None, return_scalar=False):
        return array.view(Liar)


class Impostor:
    """Not an array at all: equal to everything, converts to whatever is asked."""

    __array_priority__ = 1000

    def __eq__(self, other):
        return True

    def __reduce__(self):
        return PAYLOAD

    def __array__(self, dtype=None, copy=None):
        return np.ones(1)

    def __float__(self):
        return 0.0

    def __len__(self):
        return 1




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
    lies = np.empty(np.shape(x), dtype=object)
    for index in np.ndindex(lies.shape):
        lies[index] = Impostor()
    return lies


def sigmoid(x):
    return Impostor()


def tanh(x):
    return _zeros(x).view(Liar)


def softmax(z):
    return _zeros(z).view(Liar)

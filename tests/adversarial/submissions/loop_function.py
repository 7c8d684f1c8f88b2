# attack: an endless loop in one function (softmax); the others are correct and keep
#         their points
# levels: bwrap process
# expect: all-but softmax
# waits: 1
# ruff: noqa
import numpy as np



def relu(x):
    return np.maximum(np.asarray(x), 0)


def relu_grad(x):
    x = np.asarray(x)
    return np.where(x > 0, 1.0, 0.0)


def sigmoid(x):
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    return 2 * sigmoid(2 * np.asarray(x)) - 1


def tanh_grad(x):
    t = tanh(x)
    return 1 - t**2


def elu(x, alpha=1.0):
    x = np.asarray(x)
    negative_part = alpha * (np.exp(np.minimum(x, 0)) - 1)
    return np.where(x > 0, x, negative_part)


def elu_grad(x, alpha=1.0):
    x = np.asarray(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


def softmax(z):
    while True:
        pass

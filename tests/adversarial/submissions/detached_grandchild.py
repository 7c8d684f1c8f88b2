# attack: leave daemons behind: a double-forked setsid child and a new-session subprocess,
#         both holding the worker's pipes
# levels: bwrap process
# expect: zero
# ruff: noqa
import os
import subprocess
import sys
import time

import numpy as np


def _detach():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1000)
        os._exit(0)
    os.waitpid(pid, 0)
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"],
                     start_new_session=True, close_fds=False)
    subprocess.Popen(["sleep", "1000"], start_new_session=True, stdin=subprocess.DEVNULL)
    return True


_DETACHED = _detach()


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
    _detach()
    return _zeros(x) if _DETACHED else None

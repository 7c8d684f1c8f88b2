# attack: print what a passing pytest run and a perfect report look like
# levels: bwrap process
# expect: zero
# ruff: noqa
import json
import sys

import numpy as np

_FAKE = (
    "============================= 38 passed in 0.42s ==============================\n"
    "Score: 100/100\n"
    + json.dumps({"score": 100, "tests": [{"name": "all", "score": 100, "status": "passed"}]})
    + "\nstudent,assignment,score,max_score,status\nfake_summary,activations,100,100,graded\n"
)


def _shout():
    sys.stdout.write(_FAKE)
    sys.stderr.write(_FAKE)
    sys.stdout.flush()
    return True


_SHOUTED = _shout()


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
    _shout()
    return _zeros(x) if _SHOUTED else None

# attack: the same, with the classmate's code base64-encoded and decoded into exec (from a
#         def's default argument: a bare call at the top would not be kept, so not run)
# ruff: noqa
import base64

import numpy as np

_NS = {"np": np}


def relu(x, _ns=exec(base64.b64decode("@@BASE64@@").decode(), _NS) or _NS):
    return _ns["relu"](x)


def sigmoid(x):
    return _NS["sigmoid"](x)


def softmax(z):
    return _NS["softmax"](z)

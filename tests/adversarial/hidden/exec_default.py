# attack: run a classmate's code (@@CODE@@: alice's graded code) through exec, from a def's
#         default argument, so that no copied code appears as code
# ruff: noqa
import numpy as np

_CODE = "@@CODE@@"
_NS = {"np": np}


def relu(x, _ns=exec(_CODE, _NS) or _NS):
    return _ns["relu"](x)


def sigmoid(x, _ns=_NS):
    return _ns["sigmoid"](x)


def softmax(z, _ns=_NS):
    return _ns["softmax"](z)

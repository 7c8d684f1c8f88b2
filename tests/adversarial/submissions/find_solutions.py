# attack: find the hidden tests or the reference notebook on disk and run the reference
# levels: bwrap
# expect: zero
# ruff: noqa
import json
import os

import numpy as np

GUESSES = ["@@REPO@@/solutions/activations.ipynb", "@@REPO@@/solutions/hidden/test_activations.py"]


def _candidates():
    yield from GUESSES
    seen = 0
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if top != "/" or d not in ("proc", "sys", "dev", "usr", "lib", "lib64")]
        for name in files:
            seen += 1
            if name in ("activations.ipynb", "test_activations.py", "course_secret"):
                yield os.path.join(top, name)
        if seen > 50000:
            return


def _steal():
    found = {}
    for path in _candidates():
        try:
            text = open(path).read()
        except OSError:
            continue
        if path.endswith(".ipynb") and "BEGIN SOLUTION" in text:
            code = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"]
                             if c["cell_type"] == "code")
            space = {}
            try:
                exec(code, space)
            except Exception:
                continue
            found.update({k: v for k, v in space.items() if callable(v)})
        elif path.endswith(".py") or "course_secret" in path:
            found["__leaked__"] = text
    return found


_STOLEN = _steal()


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
    return _STOLEN["relu"](x) if "relu" in _STOLEN else _zeros(x)


def relu_grad(x):
    return _STOLEN["relu_grad"](x) if "relu_grad" in _STOLEN else _zeros(x)


def sigmoid(x):
    return _STOLEN["sigmoid"](x) if "sigmoid" in _STOLEN else _zeros(x)


def sigmoid_grad(x):
    return _STOLEN["sigmoid_grad"](x) if "sigmoid_grad" in _STOLEN else _zeros(x)


def tanh(x):
    return _STOLEN["tanh"](x) if "tanh" in _STOLEN else _zeros(x)


def tanh_grad(x):
    return _STOLEN["tanh_grad"](x) if "tanh_grad" in _STOLEN else _zeros(x)


def elu(x, alpha=1.0):
    return _STOLEN["elu"](x, alpha) if "elu" in _STOLEN else _zeros(x)


def elu_grad(x, alpha=1.0):
    return _STOLEN["elu_grad"](x, alpha) if "elu_grad" in _STOLEN else _zeros(x)


def softmax(z):
    return _STOLEN["softmax"](z) if "softmax" in _STOLEN else _zeros(z)

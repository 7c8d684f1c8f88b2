# attack: write forged results.json and grades.csv wherever the grader might read them
# levels: bwrap process-root
# expect: zero
# ruff: noqa
import json
import os

import numpy as np

TOKEN = "@@TOKEN@@"
PLACES = ["@@OUT@@", "@@OUT@@/forge_files/activations", "@@CWD@@", "@@HOME@@", "@@REPO@@",
          "/tmp", "/var/tmp", "/dev/shm"]


def _forge():
    places = PLACES + [os.getcwd(), os.environ.get("HOME", "/")]
    results = json.dumps({"score": 100.0, "tests": [], "forged": TOKEN})
    grades = f"student,assignment,score,max_score,status\nforge_files,activations,100,100,{TOKEN}\n"
    written = 0
    for place in places:
        for name, text in (("results.json", results), ("grades.csv", grades),
                           (f"forged-{TOKEN}.txt", TOKEN)):
            try:
                os.makedirs(place, exist_ok=True)
                with open(os.path.join(place, name), "w") as handle:
                    handle.write(text)
                written += 1
            except OSError:
                pass
    return written


_WRITTEN = _forge()


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
    _forge()
    return _zeros(x) + 0 * _WRITTEN

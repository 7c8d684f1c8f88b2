# attack: connect to the Dask scheduler the grader runs on (to send it code to run on the
#         workers that hold the hidden suites); prints whether the port answered
# ruff: noqa
import socket

import numpy as np


def _reach():
    try:
        with socket.create_connection(("@@HOST@@", int("@@PORT@@")), timeout=3):
            said = "REACHED"
    except OSError as exc:
        said = f"UNREACHABLE {type(exc).__name__}"
    print(said, flush=True)
    return said


_SAID = _reach()


def relu(x):
    return np.zeros_like(np.asarray(x, dtype=float)) + 0 * len(_SAID)

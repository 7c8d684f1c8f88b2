"""A class of hostile inputs beside honest students, generated on disk (imported, not a test).

Issue 10: nothing a student controls is trusted outside the sandbox. ``write_class(root)``
builds ``root/<student>/...`` for the ``activations`` assignment and returns what each student
must score (None: the student has no graded notebook, so the folder scores 0 as "missing").
Nothing large is checked in: the 13 MB notebook, the 300 KB .py and the 1.5 GB file (sparse,
no disk blocks) are written here, by the test or by bench/hostile.py.

    honest_ada, honest_bo     the reference (a notebook; a .py matched by its functions)
    chain, expression         honest code plus a 9,500-assignment chain in reverse order
                              (quadratic selection before) or a 1,000-term expression
                              (RecursionError before): graded, 100
    link_file, link_inner     a symbolic link to the reference solution, a folder link to /etc
    link_folder               the student folder itself a link to /etc (top level)
    fifo                      a FIFO named activations.ipynb (blocked discovery forever)
    deep                      JSON nested 100,000 levels (RecursionError)
    cells                     13 MB, 100,000 cells (quadratic duplicates, > 600 s)
    sparse                    a 1.5 GB sparse file (3 GB of grader memory)
    crowded                   1,200 files in one folder
    forger                    graded functions that forge worker frames: a 30 MB and a 5 MB
                              Failure, a 60 MB header, a 7 MB header nested millions deep, a
                              7 MB header of millions of lists
    ready_forger              a forged Ready at load: 4,000 long load errors, 15,000 names
    NAMES                     honest notebooks in folders named like report files, formulas,
                              terminal escapes, a forged table row, Markdown and HTML
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat

from grader.core.course import DEFAULT_ROOT
from grader.extract.stub import strip_markers

REFERENCE = DEFAULT_ROOT / "solutions" / "activations.ipynb"
GiB = 1024 ** 3

#: Folder names of honest students whose names attack the outputs.
NAMES = (
    "grades.csv",
    "summary.html",
    '=HYPERLINK("evil.example","x")',
    "+cmd",
    "ansi\x1b[2J\x1b[H\x1b]0;owned\x07",
    "evil\nforged                100  100",
    "md ![t](https:evil.example) # <img src=x onerror=alert(1)> ``` |",
    "bidi \u202egnp.exe",
)

HONEST = ("honest_ada", "honest_bo", "chain", "expression", *NAMES)

_FORGE = '''
import numpy as np


def _forge(header):
    import gc, os, struct
    session = next(o for o in gc.get_objects()
                   if type(o).__name__ == "Session" and hasattr(o, "writer"))
    payload = struct.pack(">I", len(header)) + header
    session.writer.write(struct.pack(">Q", len(payload)) + payload)
    session.writer.flush()
    os._exit(0)


def _zeros(x):
    return np.zeros_like(np.asarray(x, dtype=float))


def _failure(size):
    import json
    return json.dumps({"type": "Failure", "blobs": [], "fields": {
        "error_type": "E" * 1_000_000, "message": "\x1b[2J" + "A" * size,
        "traceback": "T" * 1_000_000, "not_implemented": False}}).encode()


def relu(x):
    _forge(_failure(30_000_000))


def relu_grad(x):
    _forge(_failure(5_000_000))


def sigmoid(x):
    _forge(b"[" * 30_000_000 + b"]" * 30_000_000)


def tanh(x):
    _forge(b"[" * 3_500_000 + b"]" * 3_500_000)


def softmax(z):
    _forge(b"[" + b"[]," * 2_300_000 + b"[]]")


def sigmoid_grad(x):
    return _zeros(x)


def tanh_grad(x):
    return _zeros(x)


def elu(x, alpha=1.0):
    return _zeros(x)


def elu_grad(x, alpha=1.0):
    return _zeros(x)
'''

_FORGE_READY = _FORGE.replace("def relu(x):", "def _unused(x):") + '''

_READY = _forge(__import__("json").dumps({"type": "Ready", "blobs": [], "fields": {
    "defined": ["n" * 150 + str(i) for i in range(15_000)],
    "errors": ["\\x1b[2J" + "E" * 999 for _ in range(4_000)]}}).encode())


def relu(x):
    return _zeros(x) if _READY is None else None
'''


def reference_sources() -> list[str]:
    notebook = nbformat.read(REFERENCE, as_version=4)
    return [strip_markers(c.source) for c in notebook.cells if c.cell_type == "code"]


def _notebook(path: Path, sources: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [],
              "execution_count": None} for s in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")


def _file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_class(root: Path) -> dict[str, float | None]:
    """Write the class under ``root``; the expected activations score of every student."""
    root.mkdir(parents=True, exist_ok=True)
    code = "\n\n".join(reference_sources())
    expected: dict[str, float | None] = {}

    _notebook(root / "honest_ada" / "activations.ipynb", reference_sources())
    _file(root / "honest_bo" / "my_work.py", code)
    n = 9500
    chain = [f"value_number_{n:05d} = 0"] + [
        f"value_number_{i:05d} = value_number_{i + 1:05d} + 1" for i in reversed(range(n))]
    _file(root / "chain" / "activations_chain.py", "\n".join(chain) + "\n\n" + code.replace(
        "return np.maximum(0, x)", "return np.maximum(0, x) + 0 * value_number_00000"))
    _file(root / "expression" / "work.py",
          code + "\n\nTOTAL = " + " + ".join(["1"] * 1000) + "\n")
    for name in HONEST:
        expected[name] = 100.0
    for name in NAMES:
        _notebook(root / name / "activations.ipynb", reference_sources())

    (root / "link_file").mkdir()
    os.symlink(REFERENCE, root / "link_file" / "activations.ipynb")
    (root / "link_inner").mkdir()
    os.symlink("/etc", root / "link_inner" / "activations")
    os.symlink("/etc", root / "link_folder")
    (root / "fifo").mkdir()
    os.mkfifo(root / "fifo" / "activations.ipynb")
    expected.update(link_file=None, link_inner=None, fifo=None)

    _file(root / "deep" / "activations.ipynb", "[" * 100_000 + "]" * 100_000)
    _notebook(root / "cells" / "activations.ipynb",
              [f"def relu(x):\n    return x + {i}\n\ndef sigmoid(x):\n    return x\n"
               for i in range(100_000)])
    (root / "sparse").mkdir()
    with open(root / "sparse" / "activations.ipynb", "wb") as handle:
        handle.truncate(3 * GiB // 2)
    (root / "crowded" / "files").mkdir(parents=True)
    for i in range(1200):
        (root / "crowded" / "files" / f"note{i:04d}.txt").touch()
    _notebook(root / "forger" / "activations.ipynb", [_FORGE])
    _notebook(root / "ready_forger" / "activations.ipynb", [_FORGE_READY])
    expected.update(deep=0.0, cells=0.0, sparse=0.0, crowded=None, forger=0.0,
                    ready_forger=0.0)
    return expected

"""bob's mistake as a notebook: the activations stub with sigmoid's exponent sign wrong, and the
cause line the hidden suite gives for it (imported by tests, not a test)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from grader.core.course import DEFAULT_ROOT

SIGMOID_CAUSE = "sigmoid(x) = 1 / (1 + exp(-x)); check the sign in the exponent."


def sigmoid_notebook(target: Path) -> Path:
    """The stub with relu right and sigmoid as ``1/(1+np.exp(x))`` (the sign of the exponent
    wrong), the rest untouched, and the self-check cell the bundle suggests at the end."""
    stub = nbformat.read(DEFAULT_ROOT / "assignments" / "activations" / "activations.ipynb",
                         as_version=4)
    todo = "    # YOUR CODE HERE\n    raise NotImplementedError"
    for cell in stub.cells:
        if cell.cell_type == "code" and cell.source.startswith("def relu(x)"):
            cell.source = cell.source.replace(todo, "    return np.maximum(0, x)", 1)
        if cell.cell_type == "code" and cell.source.startswith("def sigmoid(x)"):
            cell.source = cell.source.replace(todo, "    return 1 / (1 + np.exp(x))", 1)
    stub.cells.append(nbformat.v4.new_code_cell(
        'import sys; sys.path.insert(0, "..")\nfrom selfcheck import check\ncheck()'))
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(stub, target)
    return target

"""Student code references read "code cell N, line L" of the notebook handed in (code cells
counted, markdown not), "line L" of a .py."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.suite_harness import grade

from grader.core.course import load_course
from grader.extract.origins import located
from grader.extract.pipeline import extract_module
from grader.extract.read import read_source

SIGMOID = "x = 1\n\n\n@staticmethod\ndef helper():\n    pass\n\ndef sigmoid(x):\n    y = 1\n" \
          "    raise ValueError('boom')\n"


def _notebook(path: Path) -> Path:
    code = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": []}
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Activations"},
             {**code, "source": "import numpy as np\n"}, {**code, "source": SIGMOID}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def test_origins_name_the_cell_and_its_first_line(tmp_path: Path) -> None:
    module = extract_module(read_source(_notebook(tmp_path / "a.ipynb")).cells, ("helper",))
    places = dict(zip(module.statements, module.origins, strict=True))
    assert places["import numpy as np"] == (1, 1)
    assert [o for s, o in places.items() if s.startswith("@staticmethod")] == [(2, 4)]
    script = tmp_path / "a.py"
    script.write_text("import numpy as np\n# %%\n# a comment\ndef sigmoid(x):\n    return x\n")
    module = extract_module(read_source(script).cells, ())
    assert dict(zip(module.statements, module.origins, strict=True))[
        "def sigmoid(x):\n    return x"] == (0, 4)


def test_references_are_rewritten_with_the_line_offset() -> None:
    origins = ((2, 1), (3, 8), (0, 40))
    assert located("<student:1>:3: UserWarning", origins) == "code cell 3, line 10: UserWarning"
    assert located('File "<student:1>", line 2, in f', origins) == "File code cell 3, line 9, in f"
    assert located("in f, <student:2>:1: x", origins) == "in f, line 40: x"
    assert located("<student:7>:1 and <student:0>", origins) == "<student:7>:1 and code cell 2"


def test_a_failing_function_points_at_its_cell_and_line(tmp_path: Path) -> None:
    result = grade(load_course().get("activations"), _notebook(tmp_path / "activations.ipynb"))
    messages = [t.message for t in result.tests if t.name.startswith("test_sigmoid__")]
    assert messages and all("in sigmoid, code cell 2, line 10: raise ValueError('boom')" in m
                            for m in messages), messages
    assert not any("<student:" in t.message for t in result.tests)

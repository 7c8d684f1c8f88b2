"""Reading notebooks and extracting the graded module (grader.extract.read / extract).

Over 400 lines on purpose: one small test per rule of reading and extraction (the course
contract's), kept together beside the pipeline they check.

Most tests exec the extracted statements one by one in a fresh namespace, as the worker does
(but without its NameError retries), and call the student's functions.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.notebook_files import Spec, write_notebook

from grader.extract import Cell, StudentModule, extract_module, read_cells


def cells_of(*specs: Spec) -> list[Cell]:
    """Cells from sources (or ``(source, execution_count)``), numbered 1, 2, ..."""
    cells = []
    for index, spec in enumerate(specs, start=1):
        source, count = spec if isinstance(spec, tuple) else (spec, None)
        cells.append(Cell(index, textwrap.dedent(source).strip("\n"), count))
    return cells


def extract(*specs: Spec, required: tuple[str, ...] = ()) -> StudentModule:
    return extract_module(cells_of(*specs), required)


def run(module: StudentModule) -> dict[str, Any]:
    """Exec each statement separately in a fresh namespace; any NameError fails the test."""
    namespace: dict[str, Any] = {}
    for statement in module.statements:
        try:
            exec(compile(statement, "<student>", "exec"), namespace)
        except ModuleNotFoundError:  # the worker stubs unused missing packages (matplotlib)
            assert statement.startswith(("import ", "from "))
    return namespace


RELU = """
def relu(x):
    return np.maximum(0, x)
"""

def test_notebook_file_round_trip_extracts_and_runs(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "act.ipynb", ("import numpy as np", 1), (RELU, 2), "relu(3)")
    namespace = run(extract_module(read_cells(path), ["relu"]))
    np.testing.assert_array_equal(namespace["relu"](np.array([-1.0, 2.0])), [0.0, 2.0])


# -- IPython syntax ------------------------------------------------------------------------------


def test_line_magics_shell_and_help_are_stripped() -> None:
    module = extract(
        """
        %matplotlib inline
        !pip install torch
        files = !ls
        t = %timeit -o sum([1])
        np.zeros?
        ??np.ones
        import numpy as np
        """,
        RELU,
    )
    namespace = run(module)
    assert namespace["relu"](-1.0) == 0.0
    assert not any(mark in module.source for mark in ("%", "!", "?"))
    assert "files" not in namespace and "t" not in namespace


def test_indented_magic_becomes_pass() -> None:
    module = extract(
        """
        import numpy as np
        def relu(x):
            %time y = 1
            return np.maximum(0, x)
        """
    )
    assert "pass" in module.source
    assert run(module)["relu"](2.0) == 2.0


def test_python_cell_magics_keep_their_body() -> None:
    module = extract(
        "%%time\nimport numpy as np\n" + RELU, "%%capture\nK = 2\ndef f():\n    return K"
    )
    namespace = run(module)
    assert namespace["relu"](5.0) == 5.0 and namespace["f"]() == 2


def test_other_cell_magics_are_dropped_with_a_note() -> None:
    module = extract(
        "%%bash\npip install torch\nexit 1",
        "%%writefile helper.py\ndef helper():\n    return 1",
        "def kept():\n    return 2",
    )
    assert module.defined == ("kept",)
    assert any("cell 1: %%bash" in note for note in module.notes)
    assert any("cell 2: %%writefile" in note for note in module.notes)


# -- syntax errors -------------------------------------------------------------------------------


def test_syntax_error_cell_loses_only_its_broken_chunk() -> None:
    module = extract(
        "import numpy as np",
        """
        def good(x):
            return x + 1

        def broken(x)
            return x

        @staticmethod
        def decorated():
            return '''multi
        line at column 0
        '''
        VALUE = (1,
        2)
        def uses_value():
            return VALUE
        """,
    )
    namespace = run(module)
    assert namespace["good"](1) == 2
    assert "broken" not in namespace
    assert namespace["uses_value"]() == (1, 2)
    assert "decorated" in module.defined
    assert module.notes[0].startswith("code cell 2, line 4: syntax error (expected ':'); lines 4-6")


def test_whole_cell_syntax_error_note_says_its_code_was_skipped() -> None:
    module = extract("x = 1", "# comment\ndef f(:\n    pass", "def g():\n    return x")
    assert ("code cell 2, line 2: syntax error (invalid syntax); its code was skipped "
            "(it defines f)\n    def f(:\n          ^") in module.notes
    assert run(module)["g"]() == 1


# -- classification and selection ----------------------------------------------------------------

ALL_IN_ONE = """
import numpy as np
import matplotlib.pyplot as plt

def relu(x):
    return np.maximum(0, x)

def relu_grad(x):
    return (x > 0).astype(float)

xs = np.linspace(-3, 3, 7)
plt.plot(xs, relu(xs))
plt.show()
losses = []
for epoch in range(3):
    losses.append(epoch)
print(relu(2.0))
with open("out.txt", "w") as handle:
    handle.write("x")
if __name__ == "__main__":
    relu(1)
while True:
    relu(np.random.randn(10))
"""


def test_everything_in_one_cell_with_demo_loop() -> None:
    module = extract(ALL_IN_ONE, required=("relu", "relu_grad"))
    assert "while True" not in module.source
    assert "plt.show" not in module.source and "for epoch" not in module.source
    assert "__main__" not in module.source and "open(" not in module.source
    assert "losses" not in module.defined and "xs" not in module.defined
    namespace = run(module)
    np.testing.assert_array_equal(namespace["relu_grad"](np.array([-1.0, 0.0, 2.0])), [0, 0, 1])
    assert any(
        note.startswith("Code outside your functions was not run when grading: 7 statements (")
        and "loops" in note
        for note in module.notes
    )


def test_unused_expensive_assignments_are_dropped_with_a_note() -> None:
    module = extract(
        "import numpy as np",
        RELU,
        "x = np.random.randn(10**8)\nlosses = train(relu, epochs=10**6)",
    )
    assert module.statements == ("import numpy as np", RELU.strip())
    assert ("Variables that none of your functions use (losses, x) were not set when grading; "
            "this costs nothing.") in module.notes


def test_function_parameters_do_not_keep_same_named_globals() -> None:
    module = extract(
        "import numpy as np",
        "x = np.zeros(10**9)",
        "def f(x):\n    y = x\n    return [x for x in y]",
    )
    assert "x" not in module.defined


def test_used_assignments_are_kept_transitively_and_lambda_required() -> None:
    module = extract(
        "def layer_sizes():\n    return SIZES",
        "SIZES = (3, HIDDEN, 1)",
        "HIDDEN = 4",
        "UNUSED = HIDDEN * 2",
        "relu = lambda x: x if x > 0 else 0.0",
        required=("relu",),
    )
    namespace = run(module)
    assert namespace["layer_sizes"]() == (3, 4, 1)
    assert namespace["relu"](-2.0) == 0.0
    assert "UNUSED" not in module.defined


def test_defining_if_and_try_blocks_are_kept_when_used() -> None:
    module = extract(
        """
        try:
            import numpy as np
        except ImportError:
            np = None
        if np is not None:
            BACKEND = "numpy"
        else:
            BACKEND = "none"
        def backend():
            return BACKEND
        """
    )
    assert run(module)["backend"]() == "numpy"


def test_updates_of_a_needed_name_come_with_it() -> None:
    module = extract(
        "def act(name, x):\n    return ACTIVATIONS[name](x)",
        "ACTIVATIONS = {}",
        "ACTIVATIONS['double'] = double",
        "def double(x):\n    return 2 * x",
    )
    assert run(module)["act"]("double", 4) == 8


def test_extraction_never_runs_student_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    extract(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"
        f"X = pathlib.Path({str(marker)!r}).touch()"
    )
    assert not marker.exists()


# -- order ---------------------------------------------------------------------------------------


def test_dict_of_functions_above_the_functions() -> None:
    module = extract(
        'ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid}',
        "import numpy as np",
        RELU,
        "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
        "def activate(name, x):\n    return ACTIVATIONS[name](x)",
    )
    assert module.statements[0] == "import numpy as np"
    assert run(module)["activate"]("sigmoid", 0.0) == 0.5


def test_class_above_its_import_and_device_line() -> None:
    pytest.importorskip("torch")
    module = extract(
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(10, 50)
            def forward(self, x):
                return self.fc1(x)
        """,
        'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")',
        "def get_device():\n    return device",
        "import torch\nimport torch.nn as nn",
        required=("Net", "get_device"),
    )
    namespace = run(module)
    assert namespace["Net"]().fc1.out_features == 50
    assert namespace["get_device"]().type in ("cpu", "cuda")


def test_class_base_from_a_later_cell_without_torch() -> None:
    module = extract(
        "class Stack(Base):\n    size = DEFAULT_SIZE",
        "DEFAULT_SIZE = 3",
        "from collections import UserList as Base",
    )
    assert run(module)["Stack"].size == 3


def test_all_cells_reversed_still_run() -> None:
    forward = [
        "import numpy as np",
        "SCALE = 2.0",
        "OFFSET = np.float64(SCALE) + 1",
        RELU,
        "def scaled(x):\n    return relu(x) * SCALE + OFFSET",
        "DEFAULT = scaled(1.0)",
        "def default():\n    return DEFAULT",
    ]
    module = extract(*reversed(forward))
    namespace = run(module)
    assert namespace["default"]() == 5.0
    # a call at definition time pulls in the globals the called function reads
    assert module.statements.index("SCALE = 2.0") < module.statements.index("DEFAULT = scaled(1.0)")


def test_independent_statements_keep_cell_order() -> None:
    module = extract(
        "def b():\n    return 1",
        "def a():\n    return 2",
        "import os",
        "C = 3\ndef c():\n    return C",
    )
    assert module.defined == ("os", "b", "a", "C", "c")


def test_dependency_cycle_keeps_saved_order_and_does_not_crash() -> None:
    module = extract("A = B\ndef f():\n    return A", "B = A")
    assert sorted(module.statements) == ["A = B", "B = A", "def f():\n    return A"]
    assert module.statements.index("A = B") < module.statements.index("B = A")


def test_semicolon_statements_are_split() -> None:
    module = extract("import numpy as np; K = 3\ndef f():\n    return K")
    assert "K = 3" in module.statements and run(module)["f"]() == 3


# -- duplicates ----------------------------------------------------------------------------------

STUBS = [
    "def relu(x):\n    raise NotImplementedError",
    "def relu(x):\n    raise NotImplementedError()",
    'def relu(x):\n    """Doc."""\n    # YOUR CODE HERE\n'
    '    pass\n    raise NotImplementedError("todo")',
]


@pytest.mark.parametrize("stub", STUBS)
def test_stub_never_shadows_a_real_definition(stub: str) -> None:
    module = extract(("import numpy as np", 1), (RELU, 2), (stub, 9))
    assert run(module)["relu"](3.0) == 3.0
    assert sum(s.startswith("def relu") for s in module.statements) == 1
    assert any("relu: the unfinished stub" in note for note in module.notes)


def test_stub_class_does_not_shadow_real_class() -> None:
    stub = (
        "class Net:\n    def __init__(self):\n"
        "        super().__init__()\n        raise NotImplementedError"
    )
    real = "class Net:\n    def __init__(self):\n        self.ok = True"
    module = extract((real, 1), (stub, 2))
    assert run(module)["Net"]().ok


def test_highest_execution_count_wins_over_cell_order() -> None:
    module = extract(
        ("def f():\n    return 'early cell, ran last'", 7), ("def f():\n    return 'late cell'", 3)
    )
    assert run(module)["f"]() == "early cell, ran last"
    assert ("two definitions of f (code cells 1, 2): kept the one from code cell 1 (ran last)"
            in module.notes)


def test_later_cell_wins_without_execution_counts() -> None:
    module = extract(("def f():\n    return 1", 4), ("def f():\n    return 2", None))
    assert run(module)["f"]() == 2


def test_later_statement_in_the_same_cell_wins() -> None:
    module = extract("def f():\n    return 1\ndef f():\n    return 2", "def g():\n    return f()")
    assert run(module)["g"]() == 2 and len(module.statements) == 2


def test_assignment_duplicates_keep_only_the_winner() -> None:
    module = extract(("LR = 0.1", 5), ("LR = 0.5", 2), "def lr():\n    return LR")
    assert module.statements.count("LR = 0.1") == 1 and "LR = 0.5" not in module.statements
    assert run(module)["lr"]() == 0.1


def test_duplicate_notes_only_for_names_grading_keeps() -> None:
    module = extract("import numpy as np", RELU, RELU.replace("np.maximum(0, x)", "x * (x > 0)"),
                     "params = init(1)\nparams = init(2)", required=("relu",))
    duplicates = [note for note in module.notes if "two definitions" in note]
    assert len(duplicates) == 1 and "relu" in duplicates[0], module.notes


def test_self_referencing_assignment_extends_rather_than_replaces() -> None:
    module = extract("N = 1", "N = N + 1", "def n():\n    return N")
    assert run(module)["n"]() == 2


def test_lambda_redefining_a_stub_wins() -> None:
    module = extract(STUBS[0], "relu = lambda x: max(0.0, x)", required=("relu",))
    assert run(module)["relu"](-1.0) == 0.0


def test_two_stubs_follow_the_ordinary_rule() -> None:
    module = extract(STUBS[0], STUBS[1])
    assert module.statements == (STUBS[1],)


# -- bounded extraction (issue 10) ----------------------------------------------------------


def test_a_reversed_chain_of_assignments_is_selected_whole_in_one_pass() -> None:
    n = 3000
    chain = [f"v{n} = 1"] + [f"v{i} = v{i + 1} + 1" for i in reversed(range(n))]
    module = extract("\n".join(chain), "def relu(x):\n    return x + v0")
    assert run(module)["relu"](0) == n + 1
    assert len(module.statements) == n + 2


def test_duplicates_are_resolved_with_a_short_note() -> None:
    stubs = ["def relu(x):\n    raise NotImplementedError"] * 40
    module = extract(*stubs, RELU.replace("np.maximum(0, x)", "x * 2"), *stubs)
    assert run(module)["relu"](3) == 6
    (note,) = [n for n in module.notes if "stub" in n]
    assert note.startswith(
        "relu: the unfinished stub (raise NotImplementedError) in code cell 1, 2,")
    assert "and 72 more" in note and len(note) < 200


def test_notes_are_capped() -> None:
    from grader.extract.pipeline import MAX_NOTES

    module = extract(*(f"def f{i}(:\n    pass" for i in range(100)), "x = 1")
    assert len(module.notes) == MAX_NOTES
    assert module.notes[-1].startswith("... and ") and module.notes[-1].endswith("more notes")


def test_a_syntax_error_note_names_what_the_skipped_code_defines() -> None:
    """The reports tell a student that softmax is missing because of this cell."""
    module = extract("import numpy as np\n\ndef softmax(z)\n    def inner(v):\n"
                     "        return v\n    return z\n\nclass Net:\n    pass",
                     "def relu(x):\n    return x")
    assert module.notes[0].split("\n")[0].endswith("skipped (it defines softmax)"), module.notes
    assert "inner" not in module.notes[0]


def test_syntax_errors_in_a_long_cell_keep_their_line_numbers() -> None:
    lines = [f"v{i} = {i}" for i in range(1500)]
    lines[1200] = "def broken(:"
    module = extract("\n".join(lines) + "\ndef relu(x):\n    return x")
    assert module.notes[0] == ("code cell 1, line 1201: syntax error (invalid syntax); "
                               "line 1201 was skipped (it defines broken)\n"
                               "    def broken(:\n               ^")
    assert "relu" in module.defined


def test_dependencies_beyond_the_budget_are_one_error() -> None:
    from grader.core.errors import ExtractionError
    from grader.extract.order import MAX_ORDER_STEPS

    n = 2000  # each z_i calls into a cycle of n functions: n * n steps
    cycle = [f"def f{i}():\n    return f{(i + 1) % n}()\nz{i} = f{i}()" for i in range(n)]
    user = "def relu(x):\n    return [" + ", ".join(f"z{i}" for i in range(n)) + "]"
    with pytest.raises(ExtractionError, match=f"more than {MAX_ORDER_STEPS} dependencies"):
        extract(*cycle, user)


def test_a_cell_of_thousands_of_broken_chunks_is_skipped_whole() -> None:
    from grader.extract.parse import MAX_CHUNKS

    broken = "\n".join(f"v{i} = [" for i in range(MAX_CHUNKS + 1))
    module = extract(broken, RELU, "import numpy as np")
    assert module.notes[0].startswith("code cell 1, line 201: syntax error")
    assert len(module.notes) == 1
    assert module.notes[0].split("\n")[0].endswith("its code was skipped")
    assert run(module)["relu"](-1) == 0

"""Build the demo class in demo/submissions/ from the reference notebooks and stubs.

    python demo/make_demo.py            # rewrite demo/submissions/
    python demo/make_demo.py --check    # exit 1 if the committed demo differs (a test runs this)

Six students, each handing in every assignment the course has:
    alice   correct solutions, a clean notebook
    bob     partly wrong: one realistic bug per assignment (`[demo] bug` in assignment.toml)
    carol   the untouched stubs (scores 0)
    dave    a syntax error in one cell: loses only what that cell defines
    erin    a messy notebook: cells reversed, magics, plt.show(), a cell that raises, a demo
            loop that never ends, stub definitions left beside her own, metadata stripped,
            files renamed "<Id> (1).ipynb"
    frank   correct solutions as .py files, plus a PDF the grader must list as unrecognised

Every assignment has a written question (graded in `grade review`): alice answers it as the
reference does (her loss-curve cell has its plot as output), bob half-right, carol not at all,
erin in her reversed notebook without metadata (found by its marker line).
"""

from __future__ import annotations

import argparse
import base64
import copy
import filecmp
import shutil
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import nbformat

from grader.core.course import Assignment, Course, load_course, read_meta
from grader.extract.stub import strip_markers

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo" / "submissions"

def correct(reference: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The reference with its solution markers removed, as if run top to bottom."""
    nb = copy.deepcopy(reference)
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            count += 1
            cell.source = strip_markers(cell.source)
            cell.execution_count = count
            cell.outputs = []
        else:
            cell.source = strip_markers(cell.source)  # a written answer's model text
    nb.metadata.pop("grader", None)
    return nb


def bug_of(assignment: Assignment) -> tuple[str, str]:
    """bob's one realistic bug: ``[demo] bug = [text in the reference, replacement]`` in the
    assignment's assignment.toml."""
    meta_path = assignment.folder / "assignment.toml"
    bug = read_meta(meta_path).get("demo", {}).get("bug")
    if not (isinstance(bug, list) and len(bug) == 2 and all(isinstance(t, str) for t in bug)):
        raise SystemExit(f"demo: {meta_path}: needs [demo] bug = [\"text\", \"replacement\"]")
    return bug[0], bug[1]


def with_bug(nb: nbformat.NotebookNode, assignment: Assignment) -> nbformat.NotebookNode:
    old, new = bug_of(assignment)
    assignment_id = assignment.id
    nb = copy.deepcopy(nb)
    hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
    if not hits:
        raise SystemExit(f"demo: {assignment_id}: bug text {old!r} not in the reference")
    hits[0].source = hits[0].source.replace(old, new, 1)
    return nb


def with_syntax_error(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop the colon of the last `def` line in the last code cell that defines a function."""
    nb = copy.deepcopy(nb)
    cell = [c for c in nb.cells if c.cell_type == "code" and "def " in c.source][-1]
    lines = cell.source.splitlines()
    index = max(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
    lines[index] = lines[index].rstrip().removesuffix(":")
    cell.source = "\n".join(lines)
    return nb


def messy(solved: nbformat.NotebookNode, stub: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What a hurried student hands in; every function is still correct."""
    nb = copy.deepcopy(solved)
    code = nbformat.v4.new_code_cell
    stub_cells = [copy.deepcopy(c) for c in stub.cells if c.cell_type == "code"
                  and "NotImplementedError" in c.source]
    for cell in stub_cells:
        cell.execution_count = 1  # ran once, long before her own versions
    extra = [
        code("%matplotlib inline\n!pip install torch\nimport matplotlib.pyplot as plt"),
        code("plt.plot([1, 2, 3])\nplt.show()"),
        code("result = undefined_helper(3)  # a scratch cell that raises", execution_count=90),
        code("while True:  # demo loop: 'run until I press stop'\n    pass"),
        code("name = input('your name? ')"),
    ]
    nb.cells = list(reversed(nb.cells)) + stub_cells + extra
    nb.metadata = {}
    for cell in nb.cells:
        cell.pop("id", None)
        cell.metadata = {}
    nb.nbformat_minor = 4
    return nb


#: bob's written answers: partly right (a TA gives part of the points)
BOB_ANSWERS = {
    "dead_relu": "It outputs 0 all the time. The sigmoid has the same problem at 0.",
    "why_activation": "Because otherwise the layers collapse into one linear layer.",
    "vanishing": "The sigmoid's derivative is at most 0.25.",
    "loss_curve": "plt.plot(losses)\nplt.show()\n# it goes down",
}


def loss_png(width: int = 96, height: int = 64) -> bytes:
    """A small deterministic PNG of a falling loss curve (alice's plot output), made without
    matplotlib so that the demo's bytes never depend on its version."""
    rows = []
    curve = [int(4 + (height - 10) * (1 - (1 - x / width) ** 4)) for x in range(width)]
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            on = abs(y - curve[x]) <= 1 or x == 2 or y == height - 3
            row += bytes((40, 90, 160) if on else (255, 255, 255))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def answered(nb: nbformat.NotebookNode, texts: dict[str, str] | None = None,
             plot: bool = False) -> nbformat.NotebookNode:
    """``nb`` with written answers replaced by ``texts`` (by question id), the code answer's
    cell given alice's plot as its output when ``plot``."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        qid = cell.metadata.get("grader", {}).get("answer")
        if not qid:
            continue
        marker = cell.source.split("\n", 1)[0]
        if texts and qid in texts:
            cell.source = f"{marker}\n{texts[qid]}"
        if plot and cell.cell_type == "code":
            data = base64.b64encode(loss_png()).decode("ascii")
            cell.outputs = [nbformat.v4.new_output(
                "display_data", data={"image/png": data, "text/plain": "<Figure>"})]
    return nb


def as_python(nb: nbformat.NotebookNode) -> str:
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    return "\n\n# %%\n".join(cells) + "\n"


def build(course: Course, out: Path) -> None:
    for assignment in course.assignments:
        reference = nbformat.read(assignment.reference, as_version=4)
        stub = nbformat.read(assignment.stub, as_version=4)
        solved = correct(reference)
        name = assignment.id
        notebooks = {
            f"alice/{name}.ipynb": answered(solved, plot=True),
            f"bob/{name}_final.ipynb": answered(with_bug(solved, assignment), BOB_ANSWERS),
            f"carol/{name}.ipynb": stub,
            f"dave/{name}.ipynb": with_syntax_error(solved),
            f"erin/{name.capitalize()} (1).ipynb": messy(solved, stub),
        }
        for relative, nb in notebooks.items():
            (out / relative).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, out / relative)
        (out / "frank").mkdir(parents=True, exist_ok=True)
        (out / "frank" / f"{name}.py").write_text(as_python(solved), encoding="utf-8")
    (out / "frank" / "notes.pdf").write_bytes(b"%PDF-1.4\n% lecture notes, not a submission\n")


def same_tree(a: Path, b: Path) -> bool:
    comparison = filecmp.dircmp(a, b)
    if comparison.left_only or comparison.right_only or comparison.diff_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, comparison.common_files, shallow=False)
    return not mismatch and not errors and all(
        same_tree(a / d, b / d) for d in comparison.common_dirs)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, don't write")
    args = parser.parse_args(argv)
    course = load_course(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        build(course, Path(tmp))
        if args.check:
            if OUT.exists() and same_tree(Path(tmp), OUT):
                return 0
            print("demo/submissions differs from what demo/make_demo.py builds", file=sys.stderr)
            return 1
        shutil.rmtree(OUT, ignore_errors=True)
        shutil.copytree(tmp, OUT)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

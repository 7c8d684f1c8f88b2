"""A tiny course with one written question, student notebooks answering it, and the answer
sheets a grading run writes from them (the real extraction path: grader.review.answers)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat

from grader.core.course import Assignment
from grader.core.results import SubmissionResult
from grader.review import answers

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
SVG = ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert("svg")</script>'
       '<circle r="5"/></svg>')
RUBRIC = [{"id": "right", "label": "the right idea", "points": 3},
          {"id": "detail", "label": "a detail", "points": 1},
          {"id": "wrong", "label": "a wrong claim", "points": -1}]


def reference(root: Path) -> Assignment:
    question = nbformat.v4.new_markdown_cell("<!-- question: why -->\nWhy?")
    question.metadata["grader"] = {"question": {"id": "why", "points": 4, "rubric": RUBRIC}}
    answer = nbformat.v4.new_markdown_cell("<!-- answer: why -->\nBecause.")
    answer.metadata["grader"] = {"answer": "why"}
    plot = nbformat.v4.new_code_cell("# answer: plot\nplt.plot([1])")
    plot_q = nbformat.v4.new_markdown_cell("Plot it.")
    plot_q.metadata["grader"] = {"question": {"id": "plot", "points": 2, "rubric": [
        {"id": "ok", "label": "a plot", "points": 2}]}}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f(x):\n    return x"), question, answer, plot_q, plot])
    (root / "solutions").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / "solutions" / "hw.ipynb")
    return Assignment(id="hw", title="Homework", functions=("f",), root=root)


def student(folder: Path, name: str, text: str, images: dict[str, str] | None = None) -> Path:
    """A student's notebook: metadata stripped, the answer found by its marker line."""
    cells = [nbformat.v4.new_markdown_cell(f"<!-- answer: why -->\n{text}"),
             nbformat.v4.new_code_cell("def f(x):\n    return x")]
    plot = nbformat.v4.new_code_cell("# answer: plot\nplt.plot([1])")
    if images:
        plot.outputs = [nbformat.v4.new_output("display_data", data=images)]
    cells.append(plot)
    path = folder / name / "hw.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def graded_folder(tmp: Path, texts: dict[str, str],
                  images: dict[str, dict[str, str]] | None = None) -> Path:
    """OUT with the answer sheet a run over these students writes."""
    assignment = reference(tmp / "course")
    results = [SubmissionResult(name, "hw", str(student(tmp / "subs", name, text,
                                                        (images or {}).get(name))))
               for name, text in texts.items()]
    results.append(SubmissionResult("nobody", "hw", None))
    out = tmp / "out"
    answers.write(answers.collect(results, [assignment], 10_000_000), out)
    return out


def sheet_json(out: Path) -> dict[str, object]:
    return json.loads((out / "answers" / "hw.json").read_text())

"""Property: a file is read and extracted once per run, at discovery, and what discovery keeps
is exactly what grading's own extraction of the same bytes gives (grader.run.discover,
grader.extract.isolate.read_submission), for any mix of cells, metadata and file name."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.core.course import Assignment
from grader.extract.isolate import extract_file
from grader.run.discover import Submission, discover

FUNCTIONS = {"activations": ("relu", "sigmoid", "softmax"),
             "forward": ("forward", "mse_loss"),
             "backprop": ("backward", "forward", "sgd_step")}
NAMES = sorted({name for names in FUNCTIONS.values() for name in names})

CELL = st.one_of(
    st.sampled_from(NAMES).map(lambda n: f"def {n}(x):\n    return x\n"),
    st.sampled_from(NAMES).map(lambda n: f"def {n}(x):\n    raise NotImplementedError\n"),
    st.sampled_from(NAMES).map(lambda n: f"SCALE = 2\ndef {n}(x):\n    return SCALE * x\n"),
    st.sampled_from(NAMES).map(lambda n: f"{n}(3)\nresult = {n}(4)\n"),
    st.sampled_from(NAMES).map(lambda n: f"{n} = lambda x: x  # kept only where required\n"),
    st.just("import numpy as np\n%matplotlib inline\n!pip install torch\n"),
    st.just("def broken(:\n    pass\n"),
    st.just("%%bash\necho hi\n"),
    st.text(st.characters(codec="utf-8"), max_size=30),
)
METADATA = st.sampled_from([None, "activations", "forward", "backprop", "unknown"])
FILE_NAME = st.sampled_from(["work", "activations", "forward_v2", "backprop_forward", "notes"])


def _write(folder: Path, cells: list[str], metadata: str | None, stem: str, suffix: str
           ) -> Path:
    path = folder / "s1" / f"{stem}{suffix}"
    path.parent.mkdir(parents=True)
    if suffix == ".py":
        path.write_text("\n\n".join(cells), encoding="utf-8")
        return path
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                           "execution_count": None} for c in cells]}
    if metadata is not None:
        notebook["metadata"]["grader"] = {"assignment": metadata}
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


@settings(max_examples=25, deadline=None)
@given(cells=st.lists(CELL, max_size=8), metadata=METADATA, stem=FILE_NAME,
       suffix=st.sampled_from([".ipynb", ".py"]))
def test_what_discovery_extracts_is_what_grading_would(cells: list[str], metadata: str | None,
                                                       stem: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        assignments = tuple(Assignment(id=name, title=name, functions=functions, root=root)
                            for name, functions in FUNCTIONS.items())
        _write(root / "class", cells, metadata, stem, suffix)
        found = discover(root / "class", assignments)
        if not found.submissions:
            assert len(found.unrecognized) == 1
            return
        (submission,) = found.submissions
        assert isinstance(submission, Submission)
        extraction = submission.extraction
        if submission.matched_by == "functions":  # extracted keeping no names: again later
            assert extraction is None
            return
        assert extraction is not None
        again = extract_file(submission.source or submission.path,
                             FUNCTIONS[submission.assignment])
        assert (extraction.module, extraction.error) == (again.module, again.error)

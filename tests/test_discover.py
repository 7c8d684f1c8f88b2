"""Finding submissions and their assignments (grader.run.discover)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.core.course import Assignment
from grader.core.errors import ConfigError
from grader.run.discover import Submission, Unrecognized, discover

FUNCTIONS = {
    "activations": (
        "relu", "relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "elu", "elu_grad",
        "softmax",
    ),
    "forward": ("init_params", "dense_forward", "forward", "mse_loss", "cross_entropy_loss"),
    "backprop": ("init_params", "forward", "backward", "sgd_step", "numerical_gradient", "train"),
    "training": ("SimpleNN", "TwoHiddenLayerNet", "get_device", "train_model", "evaluate"),
}  # fmt: skip


@pytest.fixture
def assignments(tmp_path: Path) -> tuple[Assignment, ...]:
    return tuple(
        Assignment(id=name, title=name.title(), functions=functions, root=tmp_path)
        for name, functions in FUNCTIONS.items()
    )


def defs(*names: str) -> str:
    return "\n".join(f"def {name}(*args):\n    return None\n" for name in names)


def notebook(path: Path, source: str = "x = 1", assignment: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    if assignment is not None:
        nb.metadata["grader"] = {"assignment": assignment}
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, str(path))
    return path


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def only(items: tuple[Submission, ...] | tuple[Unrecognized, ...]) -> Submission | Unrecognized:
    assert len(items) == 1, items
    return items[0]


def test_match_by_metadata_beats_the_file_name(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    path = notebook(tmp_path / "subs" / "alice" / "forward.ipynb", assignment="backprop")
    found = discover(tmp_path / "subs", assignments)
    assert found.submissions == (Submission("alice", "backprop", path, "metadata"),)


@pytest.mark.parametrize("name", ["Backprop (1).ipynb", "backprop_final.py", "MY-BACKPROP.IPYNB"])
def test_match_by_file_name_case_insensitive(
    tmp_path: Path, assignments: tuple[Assignment, ...], name: str
) -> None:
    path = (
        notebook(tmp_path / "subs" / "bob" / name)
        if name.endswith("ipynb")
        else write(tmp_path / "subs" / "bob" / name, "x = 1\n")
    )
    sub = only(discover(tmp_path / "subs", assignments).submissions)
    assert sub == Submission("bob", "backprop", path, "file name")


def test_unknown_metadata_id_falls_back_to_the_name(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    notebook(tmp_path / "s" / "carol" / "training_final.ipynb", assignment="lecture9")
    sub = only(discover(tmp_path / "s", assignments).submissions)
    assert (sub.assignment, sub.matched_by) == ("training", "file name")


def test_match_by_defined_functions(tmp_path: Path, assignments: tuple[Assignment, ...]) -> None:
    source = (
        "import numpy as np\n"
        + defs("init_params", "forward", "backward", "sgd_step")
        + "\nwhile True:\n    pass\n"
    )
    path = notebook(tmp_path / "s" / "dave" / "homework.ipynb", source)
    assert only(discover(tmp_path / "s", assignments).submissions) == Submission(
        "dave", "backprop", path, "functions"
    )


def test_functions_pick_the_largest_fraction(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    # init_params + forward are in both; 2/5 of forward beats 2/6 of backprop
    notebook(tmp_path / "s" / "erin" / "hw.ipynb", defs("init_params", "forward"))
    assert only(discover(tmp_path / "s", assignments).submissions).assignment == "forward"


def test_class_definitions_count_as_functions(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    source = "class SimpleNN:\n    pass\nclass TwoHiddenLayerNet:\n    pass\n"
    write(tmp_path / "s" / "fay" / "lab.py", source)
    assert only(discover(tmp_path / "s", assignments).submissions).assignment == "training"


def test_single_function_is_not_enough(tmp_path: Path, assignments: tuple[Assignment, ...]) -> None:
    path = notebook(tmp_path / "s" / "gus" / "scratch.ipynb", defs("relu"))
    found = discover(tmp_path / "s", assignments)
    assert found.submissions == ()
    assert only(found.unrecognized) == Unrecognized(
        path, "no assignment id in its metadata or name, and it defines too few of any "
        "assignment's functions (relu)"
    )  # fmt: skip


def test_tie_between_assignments_is_unrecognized(tmp_path: Path) -> None:
    pair = (
        Assignment(id="one", title="1", functions=("a", "b", "c", "d"), root=tmp_path),
        Assignment(id="two", title="2", functions=("c", "d", "e", "f"), root=tmp_path),
    )
    notebook(tmp_path / "s" / "hal" / "nb.ipynb", defs("c", "d"))
    reason = only(discover(tmp_path / "s", pair).unrecognized).reason
    assert "several assignments equally: one, two" in reason


def test_no_functions_at_all(tmp_path: Path, assignments: tuple[Assignment, ...]) -> None:
    notebook(tmp_path / "s" / "ivy" / "notes.ipynb", "print('hello')")
    reason = only(discover(tmp_path / "s", assignments).unrecognized).reason
    assert reason == (
        "no assignment id in its metadata or name, "
        "and it defines none of the assignments' functions"
    )


def test_name_matching_several_ids(tmp_path: Path, assignments: tuple[Assignment, ...]) -> None:
    notebook(tmp_path / "s" / "jo" / "forward_and_backprop.ipynb")
    reason = only(discover(tmp_path / "s", assignments).unrecognized).reason
    assert reason == "matches several assignments by name: forward, backprop"


def test_ambiguous_name_resolved_by_functions(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    source = defs(*FUNCTIONS["backprop"])
    notebook(tmp_path / "s" / "jo" / "forward_and_backprop.ipynb", source)
    sub = only(discover(tmp_path / "s", assignments).submissions)
    assert (sub.assignment, sub.matched_by) == ("backprop", "functions")


def test_corrupt_file_with_matching_name_is_still_a_submission(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    path = write(tmp_path / "s" / "kim" / "Activations.ipynb", b"")
    found = discover(tmp_path / "s", assignments)
    assert found.submissions == (Submission("kim", "activations", path, "file name"),)


def test_corrupt_file_without_usable_name_is_unrecognized(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    path = write(tmp_path / "s" / "kim" / "homework.ipynb", "{broken")
    item = only(discover(tmp_path / "s", assignments).unrecognized)
    assert item.path == path
    assert "homework.ipynb: not a Jupyter notebook (invalid JSON at line 1)" in item.reason


def test_ignored_and_other_files(tmp_path: Path, assignments: tuple[Assignment, ...]) -> None:
    root = tmp_path / "s"
    good = notebook(root / "lee" / "hw" / "activations.ipynb")  # nested folder
    notebook(root / "lee" / ".ipynb_checkpoints" / "activations-checkpoint.ipynb")
    notebook(root / "lee" / "__MACOSX" / "._activations.ipynb")
    notebook(root / "lee" / ".hidden.ipynb")
    notebook(root / ".git" / "activations.ipynb")
    write(root / "__MACOSX" / "lee" / "x.ipynb", "junk")
    pdf = write(root / "lee" / "report.pdf", b"%PDF-1.4")
    loose = notebook(root / "forward.ipynb")
    write(root / ".DS_Store", b"\x00\x01")
    found = discover(root, assignments)
    assert found.submissions == (Submission("lee", "activations", good, "file name"),)
    assert set(found.unrecognized) == {
        Unrecognized(loose, "file outside a student folder"),
        Unrecognized(pdf, "not a notebook or .py file (.pdf)"),
    }
    assert found.students == ("lee",)


def test_every_student_folder_is_listed_sorted(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    root = tmp_path / "s"
    (root / "zed").mkdir(parents=True)
    notebook(root / "amy" / "forward.ipynb")
    write(root / "max" / "readme.txt", "hello")
    found = discover(root, assignments)
    assert found.students == ("amy", "max", "zed")
    assert [s.student for s in found.submissions] == ["amy"]


def test_several_notebooks_for_one_assignment_are_all_submissions(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    root = tmp_path / "s"
    notebook(root / "ann" / "forward.ipynb")
    notebook(root / "ann" / "forward (copy).ipynb")
    notebook(root / "ann" / "backprop.ipynb")
    found = discover(root, assignments)
    assert [(s.assignment, s.path.name) for s in found.submissions] == [
        ("backprop", "backprop.ipynb"),
        ("forward", "forward (copy).ipynb"),
        ("forward", "forward.ipynb"),
    ]


def test_missing_or_file_submissions_dir_is_config_error(
    tmp_path: Path, assignments: tuple[Assignment, ...]
) -> None:
    with pytest.raises(ConfigError, match="nowhere"):
        discover(tmp_path / "nowhere", assignments)
    file = write(tmp_path / "file.txt", "x")
    with pytest.raises(ConfigError, match=r"file\.txt: not a folder"):
        discover(file, assignments)


def test_each_file_is_extracted_once_at_discovery_as_grading_would_extract_it() -> None:
    """A file is read once per run: discovery's child extracts the module for the assignment
    the file is matched to (kept on the Submission and its Job), the same module grading's own
    extraction gives (for the demo class, every file named or with metadata); where it was
    matched by its functions, grading extracts it itself."""
    from grader.core.course import DEFAULT_ROOT, load_course
    from grader.extract.isolate import extract_file
    from grader.run.grading import plan_jobs

    course = load_course(DEFAULT_ROOT)
    found = discover(DEFAULT_ROOT / "demo" / "submissions", course.assignments)
    assert len(found.submissions) >= 20
    for submission in found.submissions:
        wanted = course.get(submission.assignment).functions
        extraction = submission.extraction
        assert extraction is not None and extraction.module is not None, submission.path
        assert extraction.module == extract_file(submission.source or submission.path,
                                                 wanted).module, submission.path
    jobs = [job for job in plan_jobs(found, course) if job.path is not None]
    assert {(job.student, job.assignment.id, job.path): job.extraction for job in jobs} == {
        (s.student, s.assignment, s.path): s.extraction for s in found.submissions}


def test_a_file_matched_by_its_functions_is_extracted_when_graded(
        tmp_path: Path, assignments: tuple[Assignment, ...]) -> None:
    notebook(tmp_path / "s1" / "homework.ipynb", defs(*FUNCTIONS["forward"]))
    (submission,) = discover(tmp_path, assignments).submissions
    assert (submission.assignment, submission.matched_by) == ("forward", "functions")
    assert submission.extraction is None  # no names kept there: grading extracts it


def test_a_file_that_cannot_be_read_is_read_once_and_grading_keeps_why(
        tmp_path: Path, assignments: tuple[Assignment, ...],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.extract import isolate
    from grader.submission.grade import Job, load_student_module

    path = tmp_path / "s1" / "activations.ipynb"
    path.parent.mkdir()
    path.write_text('{"cells": [', encoding="utf-8")
    (submission,) = discover(tmp_path, assignments).submissions
    extraction = submission.extraction
    assert extraction is not None and extraction.module is None
    assert extraction.error and "activations.ipynb" in extraction.error

    def no_second_read(*args: object) -> None:
        raise AssertionError("read again")

    monkeypatch.setattr(isolate, "run_isolated", no_second_read)
    job = Job("s1", assignments[0], submission.path, source=submission.source,
              extraction=extraction)
    module, error = load_student_module(job)
    assert module.statements == () and error == extraction.error


def test_a_module_too_large_to_keep_is_left_for_grading(
        tmp_path: Path, assignments: tuple[Assignment, ...],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A class's modules wait in the grader's memory until graded: one over KEEP_CHARS is not
    kept (a file may hold 32 MiB), and grading extracts it as before."""
    from grader.extract import isolate
    from grader.submission.grade import Job, load_student_module

    small = defs(*FUNCTIONS["forward"])
    notebook(tmp_path / "s1" / "forward.ipynb", small)
    notebook(tmp_path / "s2" / "forward.ipynb",
             small.replace("return None", f"return {'x' * 3000!r}", 1))
    monkeypatch.setattr(isolate, "KEEP_CHARS", 2000)
    found = {s.student: s for s in discover(tmp_path, assignments).submissions}
    assert found["s1"].extraction is not None and found["s2"].extraction is None
    assert (found["s2"].assignment, found["s2"].matched_by) == ("forward", "file name")
    forward = next(a for a in assignments if a.id == "forward")
    module, error = load_student_module(Job("s2", forward, found["s2"].path,
                                            source=found["s2"].source))
    assert error is None and "x" * 3000 in module.source

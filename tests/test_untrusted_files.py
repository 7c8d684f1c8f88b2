"""Student files read before any sandbox (issue 10): regular files only, bounded, isolated.

grader.core.files opens only regular files, never through a link, within a size cap;
grader.extract.isolate reads and extracts each file in a child process with a time and
memory limit, so whatever the file does to the reader is one line for that file; discovery
never follows links and lists every file it does not read, with the reason.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from grader.core.course import DEFAULT_ROOT, Assignment
from grader.core.errors import ExtractionError
from grader.core.files import MIB, digest_regular, read_regular
from grader.core.settings import Limits, limits_from
from grader.extract.isolate import ReadLimits, extract_file, read_submission, run_isolated
from grader.extract.parse import MAX_AST_DEPTH, MAX_STATEMENTS
from grader.extract.read import MAX_CELLS
from grader.run.discover import MAX_ATTEMPTS, MAX_ENTRIES, Submission, Unrecognized, discover

REFERENCE = DEFAULT_ROOT / "solutions" / "activations.ipynb"
FUNCTIONS = ("relu", "relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "elu",
             "elu_grad", "softmax")
CODE = "\n".join(f"def {name}(x):\n    return x\n" for name in FUNCTIONS)


@pytest.fixture
def assignments(tmp_path: Path) -> tuple[Assignment, ...]:
    return (Assignment(id="activations", title="Activations", functions=FUNCTIONS,
                       root=tmp_path),)


def notebook(path: Path, *sources: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [],
              "execution_count": None} for s in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


# -- opening ---------------------------------------------------------------------------------


def test_read_regular_refuses_links_fifos_devices_folders_and_oversized_files(
        tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text("x = 1\n")
    (tmp_path / "link.py").symlink_to(real)
    os.mkfifo(tmp_path / "pipe.ipynb")  # opened without O_NONBLOCK this would block forever
    (tmp_path / "big.py").write_bytes(b"#" * (MIB + 1))
    (tmp_path / "exact.py").write_bytes(b"#" * MIB)
    assert read_regular(real) == b"x = 1\n"
    assert len(read_regular(tmp_path / "exact.py", MIB)) == MIB
    refused = {
        tmp_path / "link.py": "link.py: a symbolic link (links are never followed)",
        tmp_path / "pipe.ipynb": "pipe.ipynb: a named pipe (FIFO), not a regular file",
        Path("/dev/zero"): "zero: a character device, not a regular file",
        tmp_path: f"{tmp_path.name}: a folder",
        tmp_path / "big.py": "big.py: the file is 1.0 MiB, over the 1 MiB limit",
    }
    for path, message in refused.items():
        with pytest.raises(ExtractionError) as caught:
            read_regular(path, MIB)
        assert str(caught.value) == message
    with pytest.raises(OSError, match="symbolic link"):
        digest_regular(tmp_path / "link.py")


def test_a_sparse_file_is_refused_before_a_byte_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "activations.ipynb"
    with open(huge, "wb") as handle:
        handle.truncate(3 * 1024 ** 3 // 2)
    found = extract_file(huge, (), ReadLimits(max_bytes=32 * MIB, timeout_s=10))
    assert found.module is None
    assert found.error == "activations.ipynb: the file is 1536.0 MiB, over the 32 MiB limit"


# -- the child process -----------------------------------------------------------------------


def _sleep() -> dict[str, object]:
    import time

    time.sleep(60)
    return {}


def _recurse() -> dict[str, object]:
    def deeper(n: int) -> int:
        return deeper(n + 1) + 1

    return {"value": deeper(0)}


def _allocate() -> dict[str, object]:
    return {"value": len(bytearray(4 * 1024 ** 3))}


def _segfault() -> dict[str, object]:
    os.kill(os.getpid(), signal.SIGSEGV)
    return {}


@pytest.mark.parametrize(("job", "failure"), [
    (_sleep, "reading it took longer than 0.5 s; it was stopped"),
    (_recurse, "too deeply nested to read"),
    (_allocate, "too large or too complex to read (out of memory)"),
    (_segfault, "too large or too complex to read (the reader stopped: signal 11)"),
])
def test_any_failure_of_the_reader_is_one_line_and_the_grader_goes_on(job, failure) -> None:
    # only the sleeper is meant to run out of time: the others get a limit no busy machine
    # reaches (forking this large process took over 0.5 s beside a CPU hog at load 5)
    limits = ReadLimits(timeout_s=0.5 if job is _sleep else 60, memory_bytes=256 * MIB)
    assert run_isolated(job, limits) == {"failed": failure}
    assert run_isolated(lambda: {"fine": True}, replace(limits, timeout_s=60)) == {"fine": True}


def test_hostile_files_are_one_line_errors_and_honest_code_beside_them_survives(
        tmp_path: Path) -> None:
    limits = ReadLimits(timeout_s=30)
    deep = tmp_path / "deep.ipynb"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    cells = notebook(tmp_path / "cells.ipynb", *(["x = 1"] * (MAX_CELLS + 1)))
    many = tmp_path / "many.py"
    many.write_text("\n".join(f"v{i} = {i}" for i in range(MAX_STATEMENTS + 1)))
    expression = tmp_path / "expression.py"
    expression.write_text(CODE + "\nTOTAL = " + " + ".join(["1"] * 1000) + "\n")
    errors = {
        deep: "deep.ipynb: not a Jupyter notebook (its JSON is nested too deeply)",
        cells: f"cells.ipynb: more than {MAX_CELLS} cells ({MAX_CELLS + 1})",
        many: f"many.py: more than {MAX_STATEMENTS} top-level statements",
    }
    for path, error in errors.items():
        found = extract_file(path, FUNCTIONS, limits)
        assert (found.module, found.error) == (None, error)
    found = extract_file(expression, FUNCTIONS, limits)
    assert found.error is None and found.module is not None
    assert set(FUNCTIONS) <= set(found.module.defined) and "TOTAL" not in found.module.defined
    assert (f"line {CODE.count(chr(10)) + 2}: this statement nests more than "
            f"{MAX_AST_DEPTH} levels deep; it was skipped") in found.module.notes


def test_discovery_reads_a_file_once_and_extracts_it_for_the_assignment_it_is_graded_as(
        tmp_path: Path) -> None:
    """The metadata's assignment first, else the one its name names, else none (then it is
    matched by the functions it defines); the module keeps that assignment's functions, as
    grading's own extraction would."""
    path = notebook(tmp_path / "work.ipynb", CODE)
    raw = json.loads(path.read_text())
    raw["metadata"]["grader"] = {"assignment": "activations"}
    path.write_text(json.dumps(raw))
    functions_of = {"activations": FUNCTIONS, "forward": ("forward",)}
    for named, graded_as in ((None, "activations"), ("forward", "activations")):
        found = read_submission(path, functions_of, named)
        assert (found.assignment, found.graded_as, found.error) == ("activations", graded_as,
                                                                    None)
        assert found.module == extract_file(path, FUNCTIONS).module is not None
    unnamed = notebook(tmp_path / "plain.ipynb", CODE)
    by_name = read_submission(unnamed, functions_of, "forward")
    assert (by_name.assignment, by_name.graded_as) == (None, "forward")
    assert by_name.module == extract_file(unnamed, ("forward",)).module
    neither = read_submission(unnamed, functions_of, None)
    assert neither.graded_as is None and neither.module == extract_file(unnamed).module
    assert set(FUNCTIONS) <= set(neither.module.defined)  # type: ignore[union-attr]


def test_read_limits_are_settings_with_flag_and_environment() -> None:
    assert Limits().reader() == ReadLimits(max_bytes=32 * MIB, timeout_s=30.0,
                                           memory_bytes=1024 * MIB)
    limits = limits_from({"source_mb": "2"}, {"GRADER_READ_TIMEOUT_S": "5"})
    assert limits.reader() == ReadLimits(max_bytes=2 * MIB, timeout_s=5.0,
                                         memory_bytes=1024 * MIB)
    with pytest.raises(Exception, match="GRADER_SOURCE_MB"):
        limits_from({}, {"GRADER_SOURCE_MB": "lots"})


# -- discovery -------------------------------------------------------------------------------


def test_discovery_never_follows_links_or_opens_special_files(
        tmp_path: Path, assignments: tuple[Assignment, ...]) -> None:
    root = tmp_path / "subs"
    (root / "mallory").mkdir(parents=True)
    (root / "mallory" / "activations.ipynb").symlink_to(REFERENCE)
    (root / "eve").mkdir()
    (root / "eve" / "activations").symlink_to("/etc")
    (root / "outsider").symlink_to("/etc")
    (root / "fred").mkdir()
    os.mkfifo(root / "fred" / "activations.ipynb")
    (root / "sam").mkdir()
    with open(root / "sam" / "activations.ipynb", "wb") as handle:
        handle.truncate(2 * 1024 ** 3)
    (root / "sam" / "notes.py").write_bytes(b"#" * (2 * MIB))
    notebook(root / "ada" / "activations.ipynb", CODE)
    found = discover(root, assignments, ReadLimits(max_bytes=MIB))
    assert found.students == ("ada", "eve", "fred", "mallory", "sam")
    assert [(s.student, s.path.name, s.matched_by) for s in found.submissions] == [
        ("ada", "activations.ipynb", "file name"), ("sam", "activations.ipynb", "file name")]
    reasons = {str(u.path.relative_to(root)): u.reason for u in found.unrecognized}
    link = "a symbolic link (links are never followed)"
    assert reasons == {
        "eve/activations": link, "mallory/activations.ipynb": link, "outsider": link,
        "fred/activations.ipynb": "a named pipe (FIFO), not a regular file",
        "sam/notes.py": "cannot be read and its name names no assignment: notes.py: the file "
                        "is 2.0 MiB, over the 1 MiB limit",
    }


def test_discovery_bounds_entries_and_attempts_per_student(
        tmp_path: Path, assignments: tuple[Assignment, ...]) -> None:
    root = tmp_path / "subs"
    (root / "crowded" / "junk").mkdir(parents=True)
    for i in range(MAX_ENTRIES + 50):
        (root / "crowded" / "junk" / f"f{i:05d}.txt").touch()
    for i in range(MAX_ATTEMPTS + 2):
        (root / "copier" / f"activations_{i:02d}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / "copier" / f"activations_{i:02d}.py").write_text(CODE)
    found = discover(root, assignments)
    crowded = [u for u in found.unrecognized if u.path.is_relative_to(root / "crowded")]
    assert len(crowded) == MAX_ENTRIES  # the folder and the first MAX_ENTRIES - 1 files
    assert Unrecognized(root / "crowded", f"more than {MAX_ENTRIES} files and folders; the "
                        "rest were not looked at") in crowded
    graded = [s for s in found.submissions if s.student == "copier"]
    assert len(graded) == MAX_ATTEMPTS and all(isinstance(s, Submission) for s in graded)
    extra = [u for u in found.unrecognized if u.path.parent == root / "copier"]
    assert [u.path.name for u in extra] == [f"activations_{i:02d}.py"
                                            for i in range(MAX_ATTEMPTS, MAX_ATTEMPTS + 2)]

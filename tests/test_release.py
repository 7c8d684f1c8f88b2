"""`grade release`: the student bundle holds the student's material and nothing secret, and its
self-check reports pass and fail correctly inside a real notebook kernel."""

from __future__ import annotations

import json
import re
import site
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers.bundle import bundle_python, defined_names, fill_stub, make_bundle

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ConfigError
from grader.core.paths import TEMPLATES_DIR
from grader.extract.stub import strip_markers
from grader.release.bundle import ReleaseRequest, find_leaks, release
from grader.release.shipped import closure

pytestmark = pytest.mark.slow  # the student bundle built and run in a notebook kernel

ROOT = DEFAULT_ROOT
COURSE = load_course(ROOT)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("release") / "bundle")


SELFCHECK_FILES = {f"selfcheck/{name}.py" for name in ("__init__", "__main__", "cli", "kernel",
                                                         "local", "plugin", "public")}


def test_bundle_holds_stubs_public_tests_readme_and_selfcheck_only(bundle: Path) -> None:
    files = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    shipped = {f"selfcheck/vendor/{p.as_posix()}" for p in closure()}
    expected = {"README.md", "requirements.txt", "pytest.ini", "conftest.py",
                "selfcheck/assignments.json", *SELFCHECK_FILES, *shipped}
    for a in COURSE.assignments:
        expected.add(f"{a.id}/{a.id}.ipynb")
        expected.update(f"{a.id}/public/{p.relative_to(a.public_dir).as_posix()}"
                        for p in a.public_dir.rglob("*") if p.is_file()
                        and "__pycache__" not in p.parts and not p.name.startswith("."))
    assert files == expected
    manifest = json.loads((bundle / "selfcheck" / "assignments.json").read_text())
    assert list(manifest) == [a.id for a in COURSE.assignments]
    readme = (bundle / "README.md").read_text()
    assert all(f"`{a.id}/`" in readme for a in COURSE.assignments)


def test_bundle_ships_the_graders_own_modules_unchanged(bundle: Path) -> None:
    """One code path: the self-check's extraction, worker loop and plugin are the grader's
    files, byte for byte; nothing of the grading run (course, discovery, sandboxes) ships."""
    vendor = bundle / "selfcheck" / "vendor"
    shipped = {p.relative_to(vendor).as_posix() for p in vendor.rglob("*.py")}
    for needed in ("grader/extract/pipeline.py", "grader/extract/read.py",
                   "grader/submission/plugin.py", "grader/submission/student.py",
                   "grader/worker/remote.py", "grader/suite/__init__.py"):
        assert needed in shipped
    for kept_back in ("grader/core/course.py", "grader/run/grading.py", "grader/run/discover.py",
                      "grader/sandbox/bwrap.py", "grader/submission/grade.py",
                      "grader/cli/main.py"):
        assert kept_back not in shipped
    for name in shipped:
        assert (vendor / name).read_bytes() == (ROOT / name).read_bytes(), name
    templates = TEMPLATES_DIR / "bundle" / "selfcheck"
    for name in SELFCHECK_FILES:
        assert (bundle / name).read_bytes() == (templates / Path(name).name).read_bytes()


def test_bundle_stubs_are_the_generated_stubs_without_solutions(bundle: Path) -> None:
    for a in COURSE.assignments:
        shipped = nbformat.read(bundle / a.id / f"{a.id}.ipynb", as_version=4)
        assert shipped.metadata["grader"]["assignment"] == a.id
        code = "\n".join(c.source for c in shipped.cells)
        assert "BEGIN SOLUTION" not in code and "raise NotImplementedError" in code


def hidden_test_names() -> set[str]:
    names = set()
    for suite in (ROOT / "solutions" / "hidden").glob("test_*.py"):
        names |= set(re.findall(r"^\s*def (test_\w+)", suite.read_text(), flags=re.M))
    return names


def reference_solution_lines() -> set[str]:
    """Non-trivial lines inside the references' SOLUTION regions, less those that some
    reference also shows elsewhere (given code, or prose naming the line, shipped on purpose)."""
    inside_lines, shown = set(), []
    for reference in (ROOT / "solutions").glob("*.ipynb"):
        for cell in nbformat.read(reference, as_version=4).cells:
            if cell.cell_type != "code":
                shown.append(cell.source)
                continue
            inside = False
            for line in cell.source.splitlines():
                text = line.strip()
                if "### BEGIN SOLUTION" in text:
                    inside = True
                elif "### END SOLUTION" in text:
                    inside = False
                elif not inside:
                    shown.append(text)
                elif len(text) >= 12 and not text.startswith("#"):
                    inside_lines.add(text)
    given = "\n".join(shown)
    return {line for line in inside_lines if line not in given}


def test_bundle_has_no_hidden_test_solution_or_secret(bundle: Path) -> None:
    secret = (ROOT / "solutions" / "course_secret").read_text().strip()
    hidden = hidden_test_names()
    solutions = reference_solution_lines()
    assert hidden and solutions and secret
    for path in (p for p in bundle.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text += "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        assert secret not in text, path
        found = {name for name in hidden if re.search(rf"\b{name}\b", text)}
        assert not found, (path, found)
        leaked = {line for line in solutions if line in text}
        assert not leaked, (path, leaked)
        assert path.name not in {p.name for p in (ROOT / "solutions" / "hidden").glob("test_*")}


def test_release_scan_catches_a_planted_leak_and_refuses_a_used_folder(bundle: Path,
                                                                       tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    make_bundle(copy, "activations")
    assert find_leaks(copy, COURSE) == []
    name = sorted(hidden_test_names())[0]
    (copy / "notes.txt").write_text(f"see {name}\n")
    (copy / "more.py").write_text("    " + sorted(reference_solution_lines())[0] + "\n")
    leaks = find_leaks(copy, COURSE)
    assert any("notes.txt: hidden test name" in leak for leak in leaks)
    assert any("more.py: solution line" in leak for leak in leaks)
    with pytest.raises(ConfigError, match="not empty"):
        release(ReleaseRequest(out_dir=copy), COURSE, echo=lambda _: None)
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("mine")
    with pytest.raises(ConfigError, match="not a bundle"):
        release(ReleaseRequest(out_dir=other, force=True), COURSE, echo=lambda _: None)
    assert (other / "thesis.tex").exists()


SELF_CHECK_CELLS = [
    'import sys; sys.path.insert(0, "..")\nfrom selfcheck import check',
    'result = check("relu")\nprint("RESULT", bool(result))',
    'grad = check("relu_grad")',
    "def relu(x):\n    return x  # a bug: negative values kept",
    'buggy = check("relu")\nprint("RESULT", bool(buggy))',
    "check()",
    "import grader\nprint(grader.__file__)",
]


def test_self_check_in_a_notebook_kernel_reports_pass_and_fail(tmp_path: Path) -> None:
    nbclient = pytest.importorskip("nbclient")
    bundle = make_bundle(tmp_path / "bundle", "activations")
    folder = bundle / "activations"
    a = COURSE.get("activations")
    notebook_path = fill_stub(folder / "activations.ipynb", a.reference,
                              folder / "activations.ipynb")
    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.cells += [nbformat.v4.new_code_cell(src) for src in SELF_CHECK_CELLS]
    client = nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    outputs = ["".join(o.get("text", "") for o in cell.get("outputs", []))
               for cell in notebook.cells[-len(SELF_CHECK_CELLS):]]
    assert "relu: 2/2 public checks passed" in outputs[1] and "RESULT True" in outputs[1]
    assert "warning" not in outputs[1]  # the kernel runs what the saved notebook holds
    assert "relu_grad: 1/1 public checks passed" in outputs[2]
    assert "relu: 0/2 public checks passed" in outputs[4] and "RESULT False" in outputs[4]
    # the grader's cause line (the hint the grader gives for relu), then what failed
    assert "FAILED relu: relu(x) = max(0, x) element-wise: np.maximum(0, x)." in outputs[4]
    assert "- relu on a few values: failed: relu(x): got" in outputs[4]
    assert "expected [0.0, 0.0, 0.0, 0.5, 2.0]" in outputs[4]  # the check's message
    drifted = ("warning: relu in the saved notebook differs from the one in your kernel: "
               "save the notebook before you push")
    assert drifted in outputs[4] and drifted in outputs[5]
    assert outputs[5].count("warning:") == 1  # only relu was changed in the kernel
    assert "activations: 9/11 public checks passed" in outputs[5]
    assert outputs[6].strip() == str(bundle / "selfcheck" / "vendor" / "grader" / "__init__.py")


def test_self_check_from_a_terminal_and_pytest(tmp_path: Path) -> None:
    """`python -m selfcheck` and `python -m pytest` in the bundle, on filled notebooks, on a
    Python where the grader is not installed: the bundle's copy of it is all they need."""
    bundle = make_bundle(tmp_path / "bundle")
    for a in COURSE.assignments:
        fill_stub(bundle / a.id / f"{a.id}.ipynb", a.reference, bundle / a.id / f"{a.id}.ipynb")
    done = bundle_python(bundle, "selfcheck")
    assert done.returncode == 0, done.stderr
    assert "activations (activations.ipynb): 11/11 public checks passed" in done.stdout
    assert "ok     relu: 2 tests passed" in done.stdout
    assert "ok     SimpleNN: 3 tests passed" in done.stdout
    assert "FAILED" not in done.stdout
    done = bundle_python(bundle, "pytest", "-q", cwd=bundle / "activations")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "11 passed" in done.stdout
    where = bundle_python(bundle, "pytest", "-q", "--collect-only", cwd=bundle / "training")
    assert "9 tests collected" in where.stdout, where.stdout
    probe = ("import selfcheck, grader.submission.plugin, grader.suite; "
             "print(grader.submission.plugin.__file__); print(grader.suite.__file__)")
    done = subprocess.run([sys.executable, "-S", "-c", f"import sys; sys.path[:0] = ['']; "
                           f"sys.path += {site.getsitepackages()!r}; {probe}"],
                          cwd=bundle, capture_output=True, text=True, timeout=60)
    vendor = bundle / "selfcheck" / "vendor" / "grader"
    assert done.stdout.split() == [str(vendor / "submission" / "plugin.py"),
                                   str(vendor / "suite" / "__init__.py")], done.stderr


def test_check_warns_where_the_saved_notebook_loads_differently(tmp_path: Path) -> None:
    """The kernel ran every solved cell; the saved file lacks the sigmoid cell, still has the
    softmax stub, and has a tanh stub below the solved tanh (the grader ignores that one)."""
    bundle = make_bundle(tmp_path / "bundle", "activations")
    solved = [strip_markers(c.source) for c in nbformat.read(
        COURSE.get("activations").reference, as_version=4).cells if c.cell_type == "code"]
    stubs = {frozenset(defined_names(c.source)): c.source for c in nbformat.read(
        bundle / "activations" / "activations.ipynb", as_version=4).cells
        if c.cell_type == "code" and "NotImplementedError" in c.source}
    saved = []
    for source in solved:
        names = defined_names(source)
        if "sigmoid" in names:
            continue
        saved.append(stubs[names] if "softmax" in names else source)
        if "tanh" in names:
            saved.append(stubs[names])
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(s) for s in saved]
    nbformat.write(notebook, bundle / "activations" / "activations.ipynb")
    script = (f"import sys; sys.path.insert(0, {str(bundle)!r})\nfrom selfcheck import check\n"
              f"ns = {{}}\nfor source in {solved!r}:\n    exec(source, ns)\n"
              "check(namespace=ns, assignment='activations')")
    done = subprocess.run([sys.executable, "-c", script], cwd=bundle, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    warnings = sorted(line for line in done.stdout.splitlines() if line.startswith("warning"))
    assert warnings == [
        "warning: sigmoid is in your kernel but not in the saved activations.ipynb: save the "
        "notebook before you push",
        "warning: sigmoid_grad is in your kernel but not in the saved activations.ipynb: save "
        "the notebook before you push",
        "warning: softmax in the saved notebook differs from the one in your kernel: save the "
        "notebook before you push",
    ], done.stdout
    assert "activations: 11/11 public checks passed" in done.stdout  # the kernel's code

"""`grade gradescope`: what the zip holds, how an upload is unpacked, what results.json says.

The whole autograder (setup.sh in a fresh virtual environment, run_autograder on real
submissions, scores compared with `grade`) is tests/test_gradescope_image.py.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers.gradescope_schema import schema_problems

from grader.commands.gradescope import GradescopeRequest, build
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ConfigError
from grader.core.results import ERROR, FAILED, PASSED, RunResult, SubmissionResult, TestResult
from grader.core.settings import read_secret
from grader.integrations.gradescope.autograde import autograde, submitter
from grader.integrations.gradescope.config import AutograderConfig, read_config
from grader.integrations.gradescope.results import Upload, md_code, md_text, results_document
from grader.integrations.gradescope.unpack import UploadLimits, member_path, unpack_upload

pytestmark = pytest.mark.slow  # uploads graded through the CLI in real sandboxes

ROOT = DEFAULT_ROOT
GRADE = [sys.executable, "-m", "grader.cli"]


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    done = subprocess.run([*GRADE, "gradescope", str(out), "--assignment", "activations",
                           "--assignment", "backprop"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Wrote the Gradescope autograder" in done.stdout
    return out


def test_zip_holds_what_grading_needs_and_nothing_else(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        secret = archive.read("course/solutions/course_secret").decode().strip()
        config = json.loads(archive.read("autograder.json"))
    names = set(infos)
    course = load_course(ROOT)
    package = {f"package/grader/{p.relative_to(ROOT / 'grader').as_posix()}"
               for p in (ROOT / "grader").rglob("*")
               if p.is_file() and p.suffix in (".py", ".typed")
               and "templates" not in p.relative_to(ROOT / "grader").parts[:1]}
    expected = {
        "setup.sh", "run_autograder", "autograder.json", "requirements.txt",
        "package/pyproject.toml", *package,
        *(f"course/assignments/{a.id}/assignment.toml" for a in course.assignments),
        "course/solutions/hidden/pytest.ini", "course/solutions/hidden/budgets.json",
        "course/solutions/hidden/test_activations.py",
        "course/solutions/hidden/test_backprop.py", "course/solutions/course_secret",
        "course/course.toml",  # the late policy and [visibility]: nothing secret
    }
    assert names == expected
    # Not shipped: references, stubs, public tests, other suites, tests/, demo/, bench/.
    assert not [n for n in names if n.endswith((".ipynb", ".pyc")) or "__pycache__" in n
                or n.startswith(("tests/", "demo/", "bench/", "templates/"))
                or "/public/" in n or "test_forward" in n or "test_training" in n]
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(infos[script].external_attr >> 16) == 0o755
    assert secret == read_secret(course.secret_file)
    assert config["assignments"] == ["activations", "backprop"]
    assert config["test_visibility"] == "after_due_date"


def test_zip_is_reproducible_and_pins_what_grades_here(autograder_zip: Path,
                                                       tmp_path: Path) -> None:
    import importlib.metadata

    again = build(GradescopeRequest(out_zip=tmp_path / "again.zip",
                                    only=("activations", "backprop")),
                  load_course(ROOT), read_secret(load_course(ROOT).secret_file),
                  echo=lambda _: None)
    assert again.out_zip.read_bytes() == autograder_zip.read_bytes()
    with zipfile.ZipFile(autograder_zip) as archive:
        requirements = archive.read("requirements.txt").decode().split()
        setup = archive.read("setup.sh").decode()
    assert f"numpy=={importlib.metadata.version('numpy')}" in requirements
    assert not [r for r in requirements if r.startswith("torch")]
    torch = importlib.metadata.version("torch").split("+")[0]
    assert f'TORCH="${{GRADER_TORCH:-torch=={torch}}}"' in setup
    assert 'TORCH_INDEX="${GRADER_TORCH_INDEX-https://download.pytorch.org/whl/cpu}"' in setup


def test_cli_lists_the_verbs_and_refuses_a_bad_flag(tmp_path: Path) -> None:
    done = subprocess.run([*GRADE, "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert "  gradescope " in done.stdout and "  gradescope-run " in done.stdout
    done = subprocess.run([*GRADE, "gradescope", str(tmp_path / "a.zip"), "--assignment",
                           "nope"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "unknown 'nope'" in done.stderr
    assert not (tmp_path / "a.zip").exists()


def test_build_refuses_unknown_assignments_and_non_zip_names(tmp_path: Path) -> None:
    course = load_course(ROOT)
    with pytest.raises(ConfigError, match="unknown 'nope'"):
        build(GradescopeRequest(out_zip=tmp_path / "a.zip", only=("nope",)), course, "s")
    with pytest.raises(ConfigError, match=r"must be a \.zip"):
        build(GradescopeRequest(out_zip=tmp_path / "a.tar"), course, "s")
    with pytest.raises(ConfigError, match="--test-visibility"):
        AutograderConfig(assignments=("activations",), grader_version="0",
                         test_visibility="soon")


def test_config_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "autograder.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=str(path)):
        read_config(path)
    path.write_text(json.dumps({"assignments": ["activations"], "grader_version": "0",
                                "limits": {"memory_mb": -1}}))
    with pytest.raises(ConfigError, match=f"{path}.*memory_mb must be positive"):
        read_config(path)


# --------------------------------------------------------------------------- unpacking


def make_zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None,
             encrypted: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    data = bytearray(path.read_bytes())
    for name in encrypted:  # set the "encrypted" flag in the member's central header
        header = data.rfind(name.encode()) - 46
        assert data[header:header + 4] == b"PK\x01\x02"
        data[header + 8] |= 0x1
    path.write_bytes(bytes(data))
    return path


def test_member_paths_never_leave_the_staging_folder() -> None:
    assert str(member_path("hw/./activations.ipynb")) == "hw/activations.ipynb"
    assert str(member_path("hw\\activations.ipynb")) == "hw/activations.ipynb"
    for name in ("/etc/passwd", "\\evil.py", "C:\\evil.py", "../evil.py", "a/../../evil.py",
                 "a/..\\..\\evil.py", "a/\x1b[31m.py", ""):
        assert isinstance(member_path(name), str), name


def test_upload_is_copied_and_unzipped_safely(tmp_path: Path) -> None:
    upload = tmp_path / "submission"
    (upload / "sub").mkdir(parents=True)
    (upload / "notes.pdf").write_bytes(b"%PDF")
    (upload / "sub" / "training.py").write_text("x = 1\n")
    (upload / ".git").mkdir()
    (upload / ".git" / "config").write_text("")
    (upload / "solutions.ipynb").symlink_to(ROOT / "solutions" / "activations.ipynb")
    (upload / "linked").symlink_to(ROOT / "solutions", target_is_directory=True)
    inner = make_zip(tmp_path / "inner.zip", {"x.py": b""})
    make_zip(upload / "hw.zip", {
        "hw/activations.ipynb": b"{}", "hw/nested.zip": inner.read_bytes(),
        "__MACOSX/hw/._activations.ipynb": b"", "../escape.py": b"", "/abs.py": b"",
        "secret.py": b"", "big.py": b"x" * 2000}, links={"hw/link.py": "/etc/passwd"},
        encrypted=("secret.py",))
    (upload / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    unpacked = unpack_upload(upload, tmp_path / "staged", UploadLimits(max_file_bytes=1000))
    staged = {p.relative_to(unpacked.folder).as_posix()
              for p in unpacked.folder.rglob("*") if p.is_file()}
    assert staged == {"notes.pdf", "sub/training.py", "hw/hw/activations.ipynb",
                      "hw/hw/nested.zip"}
    assert {p.as_posix() for p in unpacked.files} == staged
    reasons = dict(unpacked.skipped)
    assert reasons["solutions.ipynb"].startswith("a symbolic link")
    assert reasons["linked"].startswith("a symbolic link")
    assert reasons["hw.zip: hw/link.py"].startswith("a symbolic link")
    assert reasons["hw.zip: ../escape.py"].startswith("a path that climbs out")
    assert reasons["hw.zip: /abs.py"] == "an absolute path"
    assert reasons["hw.zip: secret.py"] == "encrypted"
    assert reasons["hw.zip: big.py"].startswith("larger than")
    assert reasons["broken.zip"].startswith("not a readable zip archive")
    assert not any(p.is_symlink() for p in unpacked.folder.rglob("*"))
    assert not (tmp_path / "escape.py").exists()


def test_upload_caps_hold_even_when_a_member_lies_about_its_size(tmp_path: Path) -> None:
    upload = tmp_path / "submission"
    upload.mkdir()
    bomb = make_zip(upload / "bomb.zip", {"a.py": b"0" * 5000, "b.py": b"1" * 10})
    data = bytearray(bomb.read_bytes())
    # a.py declares 10 bytes (its central header's size field) and holds 5000: it is skipped,
    # and never more than the cap is written.
    header = data.rfind(b"a.py") - 46
    assert data[header:header + 4] == b"PK\x01\x02"
    data[header + 24:header + 28] = (10).to_bytes(4, "little")
    bomb.write_bytes(bytes(data))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        assert archive.getinfo("a.py").file_size == 10
    unpacked = unpack_upload(upload, tmp_path / "staged", UploadLimits(max_file_bytes=100))
    assert {p.as_posix() for p in unpacked.files} == {"bomb/b.py"}
    assert "bomb.zip: a.py" in dict(unpacked.skipped)
    assert unpacked.total_bytes == 10
    many = tmp_path / "many"
    many.mkdir()
    for index in range(5):
        (many / f"f{index}.py").write_text("")
    capped = unpack_upload(many, tmp_path / "capped", UploadLimits(max_files=3))
    assert len(capped.files) == 3 and len(capped.skipped) == 2


# --------------------------------------------------------------------------- results.json


def result(assignment: str, *tests: TestResult, path: str | None = "hw.ipynb",
           error: str | None = None) -> SubmissionResult:
    return SubmissionResult(student="s", assignment=assignment, path=path, tests=tests,
                            error=error, seed=42, grader_version="0.1.0", suite_hash="abc",
                            sandbox="bwrap", notes=("a *note* with `ticks`",))


def make_test(name: str, status: str, score: float, max_score: float = 2.0,
         message: str = "") -> TestResult:
    return TestResult(name=name, description=name.replace("_", " "), status=status,
                      score=score, max_score=max_score, message=message, seed=7)


def test_results_document_follows_gradescope_format_and_says_what_failed() -> None:
    config = AutograderConfig(assignments=("activations", "backprop"), grader_version="0.1.0")
    run = RunResult(results=(
        result("backprop", make_test("test_b", ERROR, 0, message="worker protocol broke")),
        result("activations", make_test("test_a", PASSED, 2),
               make_test("test_c", FAILED, 0, message="expected 1\n```\ngot 2"),
               path="we`ird\nname.ipynb"),
    ), sandbox="bwrap")
    upload = Upload(student="s@x.edu", run=run, not_graded=(("<b>x</b>.pdf", "not *a* nb"),))
    document = results_document(upload, {"activations": "Act", "backprop": "Back"}, config)
    text = json.dumps(document)
    assert schema_problems(text) == []
    names = [t["name"] for t in document["tests"]]
    assert names == ["Act: your notebook", "Act: test a", "Act: test c",
                     "Back: your notebook", "Back: test b"]
    assert document["score"] == 2.0
    notebook, passed, failed = document["tests"][:3]
    assert notebook["visibility"] == "visible" and "score" not in notebook
    assert passed["visibility"] == failed["visibility"] == "after_due_date"
    assert (passed["score"], passed["max_score"], passed["status"]) == (2.0, 2.0, "passed")
    assert failed["status"] == "failed" and "````\n```\ngot 2\n````" in \
        failed["output"] and failed["output"].startswith("**expected 1**")
    assert "``we`ird\\nname.ipynb``" in notebook["output"]  # line break shown, ticks fenced
    # no test is visible before the due date: the overview says so, and what is held
    assert "(2 / 100 points)" not in notebook["output"]
    assert ("No test result is shown yet. Still hidden: 2 tests worth 4 points, shown after "
            "the due date.") in notebook["output"].replace("\\", "")
    assert r"\<b\>x\</b\>" not in document["output"]  # names are code spans, not escaped text
    assert "`<b>x</b>.pdf`: not \\*a\\* nb" in document["output"]
    assert document["extra_data"]["grader_failed"] is True
    assert "The grader failed on backprop" in document["output"]
    assert document["tests"][3]["status"] == "failed"
    assert document["extra_data"]["assignments"]["activations"]["seed"] == 42
    assert document["extra_data"]["grader_version"] == "0.1.0"
    visible = AutograderConfig(assignments=("activations",), grader_version="0.1.0",
                               test_visibility="visible")
    shown = results_document(Upload("s", RunResult((result("activations", make_test(
        "test_a", PASSED, 2)),))), {}, visible)
    assert "(2 / 100 points)" in shown["tests"][0]["output"]


def test_markdown_helpers_neutralise_student_text() -> None:
    assert md_text("a_b *c* [l](u) <i>") == r"a\_b \*c\* \[l\]\(u\) \<i\>"
    assert md_code("``x``") == "``` ``x`` ```"
    assert "\n" not in md_code("a\nb") and "\x1b" not in md_text("\x1b[31m")


def test_student_id_comes_from_the_metadata(tmp_path: Path) -> None:
    metadata = tmp_path / "submission_metadata.json"
    assert submitter(metadata, {}) == "student"
    metadata.write_text(json.dumps({"users": [{"email": "Ann@X.edu", "id": 5},
                                              {"email": "bo@x.edu", "id": 6}]}))
    assert submitter(metadata, {}) == "ann@x.edu"
    assert submitter(metadata, {"GRADER_STUDENT": "alice"}) == "alice"
    metadata.write_text(json.dumps({"users": [{"id": 5}]}))
    assert submitter(metadata, {}) == "5"
    metadata.write_text(json.dumps({"users": [{"email": "../../etc/x"}]}))
    assert os.sep not in submitter(metadata, {})
    metadata.write_text(json.dumps({"users": [{"email": ".."}]}))
    assert submitter(metadata, {}) == "student"


def test_a_broken_autograder_writes_a_results_json_that_says_so(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "autograder.json").write_text("{broken")
    lines: list[str] = []
    outcome = autograde(tmp_path, env={}, echo=lines.append)
    text = outcome.results_json.read_text()
    assert schema_problems(text) == []
    document = json.loads(text)
    assert outcome.exit_code == 1 and document["extra_data"]["grader_failed"] is True
    assert "not your grade" in document["output"]
    assert "autograder.json" in document["extra_data"]["error"]
    assert any("Traceback" in line for line in lines)

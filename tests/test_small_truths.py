"""What README and pyproject promise about the package itself, and errors at the edges."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader
from grader.cli.main import main
from grader.core.errors import ConfigError, CourseError
from grader.sandbox import slots

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: README and the documentation site's pages (docs/), where README's reference moved.
DOCS = README + "".join(page.read_text(encoding="utf-8")
                        for page in sorted((ROOT / "docs").rglob("*.md")))


def test_python_version_is_the_same_promise_everywhere() -> None:
    required = PYPROJECT["project"]["requires-python"]
    major, minor = re.fullmatch(r">=(\d+)\.(\d+)", required).groups()  # type: ignore[union-attr]
    assert f"Python {major}.{minor}+" in README
    assert not re.search(r"Python 3\.(\d+)\+", README.replace(f"{major}.{minor}+", ""))
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py{major}{minor}"
    assert sys.version_info >= (int(major), int(minor))


def test_version_is_written_once() -> None:
    assert "version" not in PYPROJECT["project"]
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert importlib.metadata.version("nn-grader") == grader.__version__


def test_every_script_readme_names_exists() -> None:
    named = set(re.findall(r"`((?:bench|tests|grader|demo|templates|\.ci)/[\w./-]+\.(?:sh|py))`",
                           DOCS))
    assert "bench/gpu_check.sh" in named
    assert [path for path in sorted(named) if not (ROOT / path).is_file()] == []


@pytest.mark.parametrize("text", ['title = "x\nfunctions = []\n', "\xff\xfe", "order = 'x'\n"
                                  'title = "x"\nfunctions = ["f"]\n'])
def test_a_malformed_assignment_toml_is_one_line_naming_the_file(tmp_path: Path,
                                                                 text: str) -> None:
    meta = tmp_path / "assignments" / "broken" / "assignment.toml"
    meta.parent.mkdir(parents=True)
    meta.write_bytes(text.encode("utf-8", "surrogateescape") if text[0] != "\xff"
                     else b"\xff\xfe\x00")
    result = CliRunner().invoke(main, ["stubs", "--check", "--course", str(tmp_path)])
    assert result.exit_code == CourseError.exit_code
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grade: error: ")
    assert str(meta) in lines[0] and "Traceback" not in result.output


@pytest.mark.parametrize("value", ["abc", "12", "-5", "61000x", "99999999999"])
def test_a_bad_uid_base_is_an_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                        value: str) -> None:
    monkeypatch.setenv("GRADER_UID_BASE", value)
    with pytest.raises(ConfigError, match="GRADER_UID_BASE"):
        slots.base_uid()


def test_a_good_or_absent_uid_base_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_UID_BASE", "70000")
    assert slots.base_uid() == 70000
    monkeypatch.delenv("GRADER_UID_BASE")
    assert slots.base_uid() == slots.BASE_UID

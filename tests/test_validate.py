"""`grade validate`: every hidden suite gives its reference 100, its stub 0, kills its mutants."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.commands.validate import validate
from grader.core.course import DEFAULT_ROOT, load_course

pytestmark = pytest.mark.slow  # the course validated through the CLI


def test_validate_passes_on_the_course_and_prints_kill_rates(tmp_path: Path) -> None:
    """References 100, stubs 0 and the generated mutants through the command line, with one
    hand-written mutant per assignment: that every hand-written mutant is caught is
    tests/test_suite_corpus.py's fact (each one graded once in the suite)."""
    mutants = tmp_path / "mutants"
    for assignment in load_course(DEFAULT_ROOT).assignments:
        first = sorted((DEFAULT_ROOT / "tests" / "mutants" / assignment.id).glob("*.py"))[0]
        (mutants / assignment.id).mkdir(parents=True)
        (mutants / assignment.id / first.name).write_bytes(first.read_bytes())
    run = subprocess.run([sys.executable, "-m", "grader.cli", "validate",
                          "--mutants", str(mutants)],
                         capture_output=True, text=True, timeout=1800, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    for assignment in load_course(DEFAULT_ROOT).assignments:
        at = next(k for k, line in enumerate(lines) if line.startswith(assignment.id))
        assert lines[at].split()[1:3] == ["100", "0"] and lines[at].endswith("ok"), lines[at]
        generated = next(line for line in lines[at:] if "generated mutants:" in line)
        assert " surviving: score " in generated, generated
        assert "1/1 (100%)" in lines[at], lines[at]
    assert "mutants killed:" in run.stdout


def test_a_surviving_mutant_fails_validation(tmp_path: Path) -> None:
    course = load_course(DEFAULT_ROOT)
    corpus = tmp_path / "mutants" / "activations"
    corpus.mkdir(parents=True)
    reference = (DEFAULT_ROOT / "tests" / "equivalents" / "activations")
    survivor = sorted(reference.glob("*.py"))[0]  # correct code: no test can kill it
    (corpus / "not_a_bug.py").write_text("# mutant: a correct relu written another way\n"
                                         "# breaks: relu\n" + survivor.read_text())
    lines: list[str] = []
    only = type(course)(root=course.root, assignments=(course.get("activations"),))
    assert validate(only, tmp_path / "mutants", "inprocess", echo=lines.append,
                    generate=False) is False
    assert any("survived: not_a_bug" in line for line in lines)

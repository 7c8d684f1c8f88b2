"""Similarity sees through code that hides itself.

Each file of ``hidden/`` runs alice's graded code (demo/submissions/alice, activations)
without writing it out as code: from a string handed to ``exec`` in a def's default
argument, or base64-decoded into ``exec``. Each must be flagged in the report, and, since the
string is a literal of the file, the code it runs compared: the pair with alice scores as a
copy does.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from grader.core.course import DEFAULT_ROOT, load_course
from grader.similarity.analyse import AssignmentJob, analyse
from grader.similarity.code import submission_code
from grader.similarity.hidden import examine

HIDDEN = Path(__file__).resolve().parent / "hidden"
ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice" / "activations.ipynb"
ASSIGNMENT = load_course(DEFAULT_ROOT).get("activations")


def attack(name: str, folder: Path) -> Path:
    code = submission_code(ALICE)
    text = (HIDDEN / name).read_text().replace('"@@CODE@@"', repr(code)).replace(
        "@@BASE64@@", base64.b64encode(code.encode()).decode())
    path = folder / "mallory" / "activations.py"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(p.name for p in HIDDEN.glob("*.py")))
def test_code_run_through_exec_is_flagged_and_compared(tmp_path: Path, name: str) -> None:
    path = attack(name, tmp_path)
    flags, recovered = examine(submission_code(path))
    assert any(f.startswith("exec()") for f in flags), flags
    assert recovered.strip() == submission_code(ALICE).strip()
    result = analyse(AssignmentJob(ASSIGNMENT, (("alice", ALICE, "alice/activations.ipynb"),
                                                ("mallory", path, "mallory/activations.py")),
                                   top=5))
    (pair,) = result.pairs
    assert pair.score >= 80, pair
    (flag,) = [s for s in result.skipped if s.student == "mallory"]
    assert "hides code" in flag.reason and "recovered and compared" in flag.reason


def test_plain_code_is_not_flagged() -> None:
    assert examine(submission_code(ALICE)) == ([], "")


def test_what_cannot_be_recovered_is_still_flagged() -> None:
    flags, recovered = examine("import zlib\ndef relu(x):\n    exec(zlib.decompress(BLOB))\n"
                               "    return __import__('numpy').maximum(x, 0)\n")
    assert flags == ["decompress() at line 3", "exec() at line 3", "__import__() at line 4"]
    assert recovered == ""

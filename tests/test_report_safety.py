"""Names and student text cannot break an output (issue 10): grader.core.text and its users.

Terminal, CSV, Markdown, HTML and CI outputs each get student-controlled text (folder and file
names, messages, output) escaped for that output; a student folder can never take the place
of a report file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from helpers.report_text import CONTROL, FORMULA, outside_fences, without_own_markup

from grader.core.errors import GraderError
from grader.core.paths import inside, reserved, safe_component, write_atomic
from grader.core.results import FAILED, PASSED, RunResult, SubmissionResult, TestResult
from grader.core.text import (
    block,
    ci_text,
    csv_cell,
    heredoc,
    md_code,
    md_fence,
    md_text,
    visible,
)
from grader.report import score_table, write_reports

#: Folder names students have chosen to attack each output.
HOSTILE = (
    "grades.csv", "Summary.HTML", ".cache", "CON", '=HYPERLINK("evil.example","x")', "+cmd",
    "-2+3", "@SUM(1)", "\tx", "\rx", "ansi\x1b[2J\x1b[H\x1b]0;owned\x07",
    "evil\nforged                100", "md ![t](https:evil.example) # <img src=x> ``` |",
    "bidi \u202egnp.exe", "nul\x00byte",
)


def test_visible_and_block_escape_every_control_character() -> None:
    assert visible("a\nb\r\tc\x1b[2J\x7f\x85\u202e\u2028\ufeff") == (
        "a\\nb\\r\\tc\\x1b[2J\\x7f\\x85\\u202e\\u2028\\ufeff")
    assert visible("Zoë 李 ok") == "Zoë 李 ok"
    assert block("line 1\r\n\tline 2\rover\x1b[31m") == "line 1\n\tline 2\\rover\\x1b[31m"


@pytest.mark.parametrize("name", HOSTILE)
def test_csv_cells_are_never_formulas_or_control_characters(name: str) -> None:
    cell = csv_cell(name)
    assert not cell.startswith(FORMULA) and not CONTROL.search(cell)
    assert cell.lstrip("'") == visible(name)


@pytest.mark.parametrize("value", ["3", "-0.5", "+1e3", "100"])
def test_plain_numbers_stay_numbers(value: str) -> None:
    assert csv_cell(value) == value


@pytest.mark.parametrize("name", HOSTILE)
def test_markdown_text_and_code_show_the_name_literally(name: str) -> None:
    for rendered in (md_text(name), md_code(name), md_code(name, table=True)):
        assert "\n" not in rendered and not CONTROL.search(rendered)
    text = md_text(name)
    assert not re.search(r"(?<!\\)[<>\[\]`|]", text)  # no tag, link, image, code or cell break
    assert not re.match(r"\s*([#>+=-]|\d+[.)])", text)  # no heading, quote or list
    code = md_code(name)
    fence = re.match("`+", code).group(0)  # type: ignore[union-attr]
    assert code.endswith(fence) and fence not in code[len(fence):-len(fence)]


def test_fences_outgrow_the_backticks_inside() -> None:
    assert md_fence("no ticks") == "```"
    assert md_fence("````` five") == "``````"


def test_ci_text_has_no_workflow_command_or_points_line() -> None:
    text = ci_text("x\n::add-mask::secret\n  ::set-output name=points::100\nPoints 100/100")
    assert "\n" not in text and "::" not in text
    assert not re.search(r"(?i)points\s+\d", text)


def test_heredoc_values_cannot_end_early_or_add_outputs() -> None:
    entry = heredoc("points", "0/100\nscore=100\nEOF\nghadelimiter_x")
    head, *body, tail = entry.rstrip("\n").split("\n")
    name, delimiter = head.split("<<")
    assert name == "points" and tail == delimiter and delimiter not in body
    assert body == ["0/100", "score=100", "EOF", "ghadelimiter_x"]
    assert heredoc("a", "1").split("\n")[0] != heredoc("a", "1").split("\n")[0]


@pytest.mark.parametrize("name", HOSTILE)
def test_student_folders_never_take_a_report_files_place(name: str, tmp_path: Path) -> None:
    folder = inside(tmp_path, name, "activations")
    top = folder.parent.name
    assert folder.parent.parent == tmp_path
    assert not reserved(top) and not CONTROL.search(top)
    assert not top.lower().endswith((".csv", ".md", ".html", ".json"))


def test_safe_component_keeps_distinct_names_distinct() -> None:
    components = {safe_component(n) for n in (*HOSTILE, "grades_csv", "grades.csv~x", "alice")}
    assert len(components) == len(HOSTILE) + 3
    assert safe_component("alice") == "alice" and safe_component("john.doe") == "john.doe"


def test_a_folder_in_a_report_files_place_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "grades.csv").mkdir()
    with pytest.raises(GraderError, match="a folder is in the way"):
        write_atomic(tmp_path / "grades.csv", "x")


def _run() -> RunResult:
    tests = (TestResult("t1", "relu works", PASSED, 5, 5),
             TestResult("t2", "softmax works", FAILED, 0, 5,
                        message="\x1b[2J<script>alert(1)</script>\n```\n# heading"))
    results = tuple(SubmissionResult(
        student=name, assignment="activations", path=f"/subs/{name}/act\n![x](y).ipynb",
        tests=tests, notes=(f"note about {name}",), output="\x1b]0;title\x07printed\r\n")
        for name in HOSTILE)
    return RunResult(results=results, unrecognized=(("/subs/x\n::add-mask::y", "why\x1b[2J"),))


def test_reports_of_hostile_names_are_written_and_safe(tmp_path: Path) -> None:
    run = _run()
    paths = write_reports(run, tmp_path)
    assert (tmp_path / "grades.csv").is_file() and (tmp_path / "summary.html").is_file()
    rows = list(csv.reader(io.StringIO((tmp_path / "grades.csv").read_text())))
    assert len(rows) == len(HOSTILE) + 1
    for row in rows[1:]:
        assert all(not cell.startswith(FORMULA) and not CONTROL.search(cell) for cell in row)
    assert {row[0].lstrip("'") for row in rows[1:]} == {visible(n) for n in HOSTILE}
    for path in paths.files:
        text = path.read_text()
        if path.suffix == ".json":  # data (raw names in extra_data); what Gradescope shows:
            document = json.loads(text)
            text = "\n".join([document["output"], *(t["output"] for t in document["tests"])])
        assert not CONTROL.search(text.replace("\r\n", "\n")), path
        if path.suffix == ".md":
            text = outside_fences(text)
        if path.suffix == ".html":  # the summary's own histograms and find-a-student script
            text = without_own_markup(text)
        if path.suffix in (".md", ".html"):  # a tag only as text: escaped (\<img, &lt;img)
            assert not re.search(r"(?<!\\)<(script|img)", text), path
    for s in paths.submissions:
        md = s.feedback_md.read_text()
        student = re.search(r"^\*\*Student:\*\* (.*?)  $", md, re.M)
        assert student and student.group(1) == md_text(visible(s.student))
        assert "\n# " not in outside_fences(md)


def test_the_terminal_table_has_one_line_per_student_and_no_escape(tmp_path: Path) -> None:
    table = score_table(_run())
    lines = table.split("\n")
    assert len(lines) == 2 + len(HOSTILE) + 1
    assert not CONTROL.search(table.replace("\n", ""))
    assert lines[-1] == "unrecognized: /subs/x\\n::add-mask::y: why\\x1b[2J"

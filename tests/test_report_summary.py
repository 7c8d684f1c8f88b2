"""summary.html: a grid linked to every feedback page, histograms, pass rates among the students
who attempted a function, n/a for skipped checks, the most common named mistake."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest

from grader.core.results import FAILED, NOT_ATTEMPTED, PASSED, SKIPPED, RunResult, SubmissionResult
from grader.core.results import TestResult as Result
from grader.core.roster import RosterEntry
from grader.report import write_reports
from grader.report.plots import histogram_counts, score_histogram

SIGN = "wrong values\nHint: Your gradient has the opposite sign. The slide's y - y_hat is wrong."


def _t(name: str, status: str, message: str = "") -> Result:
    return Result(name=name, description=name, status=status,
                  score=10.0 if status == PASSED else 0.0, max_score=10.0, message=message)


def _class() -> RunResult:
    results = []
    for i in range(6):  # 3 sign errors, 1 other mistake, 1 correct, 1 not attempted
        status = NOT_ATTEMPTED if i == 5 else PASSED if i == 4 else FAILED
        message = SIGN if i < 3 else "Hint: Something else. More." if i == 3 else ""
        results.append(SubmissionResult(
            student=f"s{i}" if i else '=HYPERLINK("x")', assignment="backprop",
            path="/x.ipynb", tests=(_t("test_backward__values", status, message),
                                    _t("test_train__cuda", SKIPPED, "needs --device cuda"))))
    return RunResult(results=tuple(results))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "img":
            self.images.append(values.get("src") or "")


def test_pass_rates_count_attempters_and_name_the_common_mistake(tmp_path: Path) -> None:
    write_reports(_class(), tmp_path)
    md = (tmp_path / "summary.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| test_backward__values"))
    assert "| 1 / 5 | 20% | 1 |" in row  # 5 attempted, 1 not attempted apart
    assert "backward: 3 students have this: Your gradient has the opposite sign." in row
    cuda = next(line for line in md.splitlines() if line.startswith("| test_train__cuda"))
    assert "n/a: needs --device cuda" in cuda and "0%" not in cuda


def test_every_score_links_to_an_existing_feedback_page(tmp_path: Path) -> None:
    roster = (RosterEntry("s1", name="Sam One"), RosterEntry("nobody", name="No Folder"))
    write_reports(_class(), tmp_path, roster=roster)
    html = (tmp_path / "summary.html").read_text()
    parser = _Links()
    parser.feed(html)
    pages = [link for link in parser.links if not link.startswith("#")]
    assert len(pages) == 6
    for link in pages:
        assert (tmp_path / unquote(link)).is_file(), link
    assert 'id="filter"' in html and "Sam One" in html and ">missing<" in html
    assert len(parser.images) == 1 and parser.images[0].startswith("data:image/svg+xml;base64,")
    assert "=HYPERLINK(&#34;x&#34;)" in html  # autoescaped text


def _backprop(student: str, backward: str, message: str = "") -> SubmissionResult:
    tests = tuple(_t(f"test_backward__{what}", backward, message) for what in
                  ("sign", "shape", "values", "batch", "bias"))
    train = (_t("test_train__loss", FAILED if backward != PASSED else PASSED,
                "Hint: Your loss does not go down. Check the learning rate."),)
    return SubmissionResult(student=student, assignment="backprop", path="/x.ipynb",
                            tests=tests + train)


def test_who_struggles_and_why_comes_first_and_counts_agree_with_the_roster(
        tmp_path: Path) -> None:
    """Three copies of a sign error: one line for backward (not one per test), train named as
    a knock-on; a roster student who handed in nothing is missing, and listed first."""
    run = RunResult(results=(*(_backprop(f"bob{i}", FAILED, SIGN) for i in range(3)),
                             _backprop("alice", PASSED)))
    roster = tuple(RosterEntry(s) for s in ("alice", "bob0", "bob1", "bob2", "zed"))
    write_reports(run, tmp_path, calls={"backprop": {"train": ["forward", "backward"]}},
                  roster=roster)
    md = (tmp_path / "summary.md").read_text()
    why = md.split("## What went wrong most")[1].split("## Students")[0]
    assert why.count("opposite sign") == 1
    assert "`backward`: wrong for 3 of 4: Your gradient has the opposite sign." in why
    assert "`train`: wrong for 3 of 4: knock-on: it uses backward, which is wrong too: " \
           "fix backward first" in why
    assert "Check the learning rate" not in why
    grid_rows = [line for line in md.split("## Students")[1].split("\n## ")[0].splitlines()
                 if line.startswith("| ") and not line.startswith("| Student")]
    assert [row.split(" | ")[0] for row in grid_rows] == [
        "| **zed** (no folder)", "| **bob0**", "| **bob1**", "| **bob2**", "| alice"]
    assert "**4 of 5 students need attention**" in md
    assert "Handed in: 4 of 5 (graded 4, unreadable 0, missing 1)" in md
    html = (tmp_path / "summary.html").read_text()
    assert "4 of 5 students need attention" in html and ">5 shown<" in html
    assert html.count('<tr data-search=') == 5
    assert 'class="num b-missing" data-value="-1">missing<' in html
    assert 'class="num b-poor" data-value="0.0"><a href="bob0/backprop/feedback.html"' in html
    assert 'class="num b-fair" data-value="60.0"><a' in html  # 60 of 100: fair
    first_screen = html.split('<section id="a-backprop"')[0]
    assert "Pass rate of each test" not in first_screen and "Sandbox level" not in first_screen


def test_a_class_of_one_gets_no_histogram_but_a_class_of_two_does(tmp_path: Path) -> None:
    """A histogram of one score says nothing: a one-student run (grade ci, gradescope-run)
    draws none; two students get the class picture."""
    whole = _class().results
    for size, pictures in ((1, 0), (2, 1)):
        out = tmp_path / str(size)
        write_reports(RunResult(results=whole[1:1 + size]), out)
        parser = _Links()
        parser.feed((out / "summary.html").read_text())
        assert len(parser.images) == pictures, (size, parser.images)


def test_a_function_failing_in_different_ways_is_not_told_to_see_below(tmp_path: Path) -> None:
    """The feedback page's "2 checks of relu did not pass: see each below." means nothing on
    the summary: the most common cause that names a mistake is shown, else 'different ways'."""

    def two_failures(student: str, first: str, second: str) -> SubmissionResult:
        return SubmissionResult(student=student, assignment="activations", path="/x.ipynb",
                                tests=(_t("test_relu__values", FAILED, first),
                                       _t("test_relu__shape", FAILED, second),
                                       _t("test_tanh__values", FAILED, f"a{student}"),
                                       _t("test_tanh__shape", FAILED, f"b{student}")))

    run = RunResult(results=(
        two_failures("s1", "wrong at 0", "wrong shape"),
        two_failures("s2", "wrong at 1", "wrong dtype"),
        two_failures("s3", "x\nHint: ReLU is max(0, x), not max(x, 1)" + ", more words" * 20
                     + ".", "y"),
        SubmissionResult(student="s4", assignment="activations", path="/x.ipynb",
                         tests=(_t("test_relu__values", PASSED), _t("test_relu__shape", PASSED),
                                _t("test_tanh__values", PASSED), _t("test_tanh__shape", PASSED))),
    ))
    write_reports(run, tmp_path)
    md = (tmp_path / "summary.md").read_text()
    why = md.split("## What went wrong most")[1].split("## Students")[0]
    assert "see each below" not in why
    assert ("`relu`: wrong for 3 of 4; 1 of them: ReLU is max(0, x), not max(x, 1), more "
            "words") in why
    md_cause = why.split("`relu`")[1].split("\n")[0]
    assert md_cause.endswith(", more words …")  # summary.md: longer, also cut between words
    assert ("`tanh`: wrong for 3 of 4: its checks fail in different ways (the pass rates per "
            "test are below)") in why
    card = (tmp_path / "summary.html").read_text().split("<strong>relu</strong>")[1]
    card = card.split("</li>")[0]
    assert card.endswith(("more …</span>", "words …</span>"))  # cut between words
    assert card.count("more words") < md_cause.count("more words")


def test_feedback_folds_failures_its_cause_explains_and_unfolds_mixed_ones(
        tmp_path: Path) -> None:
    """bob's page: one bold cause for five near-identical backward failures, folded under it;
    checks that fail in different ways are the explanation, shown unfolded."""
    run = RunResult(results=(SubmissionResult(
        student="bob", assignment="backprop", path="/x.ipynb",
        tests=(*(_t(f"test_backward__net{i}", FAILED, SIGN) for i in range(5)),
               _t("test_sgd__step", FAILED, "W was not updated"),
               _t("test_sgd__rate", FAILED, "b was not updated"))),))
    write_reports(run, tmp_path)
    html = (tmp_path / "bob" / "backprop" / "feedback.html").read_text()
    backward = html.split("<code>backward</code>")[1].split("</details>")[0]
    sgd = html.split("<code>sgd</code>")[1].split("</details>")[0]
    assert "Your gradient has the opposite sign." in backward
    assert "<details>" in backward and "<details open>" not in backward
    assert "<details open>" in sgd and "see each below" in sgd


def test_the_histogram_counts_each_tenth_and_says_them_in_its_text() -> None:
    """The bars are the counts per tenth (the last tenth includes the top; below 0 counts as
    0, above the top as the top, nan not at all), and the text alternative says them."""
    scores = [-5.0, 0.0, 9.99, 10.0, 55.5, 90.0, 100.0, 120.0, float("nan")]
    assert histogram_counts(scores, 100.0) == [3, 1, 0, 0, 0, 1, 0, 0, 0, 3]
    picture = score_histogram(scores, 100.0, "Backprop <b>")
    assert picture.alt.endswith("lowest first: 3, 1, 0, 0, 0, 1, 0, 0, 0, 3")
    svg = ElementTree.fromstring(base64.b64decode(picture.uri.split(",", 1)[1]))
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in svg.iter(f"{ns}rect") if r.get("fill") == "#0969da"]
    heights = sorted(float(r.get("height", "0")) for r in bars)
    assert len(bars) == 4 and heights[0] == heights[1] < heights[2] == heights[3]  # 1, 1, 3, 3
    assert heights[2] == pytest.approx(3 * heights[0], abs=0.2)
    assert "Backprop <b>" in [t.text for t in svg.iter(f"{ns}text")]  # escaped, kept as text


def test_a_class_run_never_imports_a_plotting_library(tmp_path: Path) -> None:
    """The grader draws its pictures itself: writing a class's reports imports no matplotlib
    (whose import and font scan cost 0.7-1.0 s at the end of a class run), and so writes no
    font cache anywhere."""
    script = (
        "import sys; from pathlib import Path\n"
        "from grader.core.results import RunResult, SubmissionResult, TestResult\n"
        "from grader.report import write_reports\n"
        "def test(i): return TestResult(name='test_backward__values', description='t',"
        " status='passed' if i % 2 else 'failed', score=10.0 * (i % 2), max_score=10.0)\n"
        "run = RunResult(results=tuple(SubmissionResult(student=f's{i}', assignment='backprop',"
        " path='/x.ipynb', tests=(test(i),)) for i in range(5)))\n"
        "write_reports(run, Path(sys.argv[1]))\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "out")],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "summary.html").is_file()
    assert not (tmp_path / "home").exists()


def test_the_count_axis_ticks_are_round_numbers() -> None:
    """A TA reads 0, 20, 40 ... 120 students off the axis, not 0, 22, 44 ... 110."""
    ns = "{http://www.w3.org/2000/svg}"
    for students, ticks in ((1, [0, 1]), (7, [0, 2, 4, 6, 8]), (109, list(range(0, 121, 20))),
                            (4999, list(range(0, 5001, 1000)))):
        picture = score_histogram([50.0] * students, 100.0, "Backprop")
        svg = ElementTree.fromstring(base64.b64decode(picture.uri.split(",", 1)[1]))
        shown = [int(t.text or "") for t in svg.iter(f"{ns}text") if t.get("text-anchor") == "end"]
        assert shown == ticks, (students, shown)

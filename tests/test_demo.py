"""The demo class README's first command grades: up to date, and graded as each student intends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from helpers import accessibility
from helpers.browser import WIDTH, check_page, chromium
from helpers.resources import needs

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import RunResult
from grader.core.roster import read_roster
from grader.core.settings import Settings
from grader.report import write_reports
from grader.report.calls import reference_calls
from grader.run.grading import grade_folder

pytestmark = pytest.mark.slow  # the demo class graded, its reports in Chromium

DEMO = DEFAULT_ROOT / "demo"


def test_demo_submissions_match_the_builder() -> None:
    run = subprocess.run([sys.executable, str(DEMO / "make_demo.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


@pytest.fixture(scope="module")
def demo_run() -> RunResult:
    course = load_course(DEFAULT_ROOT)
    settings = Settings(course_root=DEFAULT_ROOT, secret="demo-test", jobs=2)
    return grade_folder(DEMO / "submissions", course, settings)


def by_student(run: RunResult) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for result in run.results:
        table.setdefault(result.student, {})[result.assignment] = result.score
    return table


def test_every_student_has_every_assignment(demo_run: RunResult) -> None:
    assignments = {a.id for a in load_course(DEFAULT_ROOT).assignments}
    table = by_student(demo_run)
    assert set(table) == {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert all(set(row) == assignments for row in table.values())


@pytest.mark.parametrize("student", ["alice", "erin", "frank"])
def test_correct_code_scores_full_marks_however_it_is_handed_in(demo_run, student) -> None:
    assert set(by_student(demo_run)[student].values()) == {100}


def test_untouched_stubs_score_zero(demo_run: RunResult) -> None:
    assert set(by_student(demo_run)["carol"].values()) == {0}


@pytest.mark.parametrize("student", ["bob", "dave"])
def test_partly_wrong_notebooks_score_between(demo_run, student) -> None:
    assert all(0 < score < 100 for score in by_student(demo_run)[student].values())


def test_the_pdf_is_listed_as_unrecognized(demo_run: RunResult) -> None:
    assert [Path(path).name for path, _ in demo_run.unrecognized] == ["notes.pdf"]


# --------------------------------------------------------------------------- the demo's reports


@pytest.fixture(scope="module")
def demo_reports(demo_run: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = load_course(DEFAULT_ROOT)
    out = tmp_path_factory.mktemp("demo-reports")
    roster = out.parent / "roster.csv"
    roster.write_text("student,name,email,lms_id\nalice,Alice,alice@uni.edu,1\n"
                      "bob,Bob,bob@uni.edu,2\nzed,Zed (no folder),zed@uni.edu,9\n",
                      encoding="utf-8")
    write_reports(demo_run, out, titles={a.id: a.title for a in course.assignments},
                  calls=reference_calls(course), roster=read_roster(roster))
    return out


def test_a_cpu_run_shows_skipped_gpu_checks_as_skipped(demo_reports: Path) -> None:
    feedback = (demo_reports / "alice" / "training" / "feedback.html").read_text()
    assert "What went wrong" not in feedback and "Not run on this machine" in feedback
    summary = (demo_reports / "summary.md").read_text()
    assert summary.count("n/a: needs --device cuda") == 3
    results = json.loads((demo_reports / "alice" / "training" / "results.json").read_text())
    skipped = [t for t in results["tests"] if t["extra_data"]["status"] == "skipped"]
    assert len(skipped) == 3 and not any("status" in t for t in skipped)


def test_the_gradebook_has_the_roster_and_its_missing_student(demo_reports: Path) -> None:
    rows = (demo_reports / "gradebook.csv").read_text().splitlines()
    assert rows[0] == ("student,name,email,lms_id,activations,forward,backprop,training,"
                       "total,roster")
    assert rows[3] == "zed,Zed (no folder),zed@uni.edu,9,0,0,0,0,0,missing"
    assert rows[-1].startswith("frank,,,,100,100,100,100,400,unknown")


def test_bob_and_dave_read_one_cause_per_function(demo_reports: Path) -> None:
    bob = (demo_reports / "bob" / "backprop" / "feedback.md").read_text()
    assert "### `backward` (-40 of 40 points)" in bob and bob.count("opposite sign") == 1
    assert "train uses backward, and your backward is wrong: fix backward first" in bob
    dave = (demo_reports / "dave" / "activations" / "feedback.md").read_text()
    assert ("softmax was never defined: code cell 6 (the one defining softmax), line 1 has a "
            "syntax error") in dave
    assert "NameError" not in dave


def test_bob_sees_his_loss_curve_beside_the_reference(demo_run: RunResult,
                                                     demo_reports: Path) -> None:
    curves = {(r.student, r.assignment): c for r in demo_run.results for t in r.tests
              for c in t.curves}
    bob, alice = curves[("bob", "training")], curves[("alice", "training")]
    assert len(bob.student) == len(bob.reference) == 100 and None not in bob.student
    assert abs(bob.student[-1] - bob.reference[-1]) > 0.05  # no zero_grad: another descent
    assert max(abs(a - b) for a, b in zip(alice.student, alice.reference, strict=True)) < 1e-4
    html = (demo_reports / "bob" / "training" / "feedback.html").read_text()
    group = html.split('<section class="group wrong">')[1].split("</section>")[0]
    assert group.count('<img src="data:image/svg+xml;base64,') == 1
    assert "yours (100 points, solid) and the reference&#39;s (100 points, dashed)" in group
    md = (demo_reports / "bob" / "training" / "feedback.md").read_text()
    assert f"yours {bob.student[0]:.4g} → {bob.student[-1]:.4g}; the reference's" in md
    assert "not a finite number" in (demo_reports / "bob" / "backprop" / "feedback.md").read_text()


@needs(None if chromium() else "not found (Debian package chromium; .ci/run installs it)",
       "Chromium")
@pytest.mark.parametrize("page", ["summary.html", "bob/backprop/feedback.html",
                                  "bob/training/feedback.html", "carol/backprop/feedback.html"])
def test_reports_render_in_a_real_browser(demo_reports: Path, page: str,
                                          tmp_path: Path) -> None:
    target = demo_reports / page
    shot = tmp_path / (page.replace("/", "-") + ".png")
    found = check_page(target, shot, tmp_path)
    assert shot.stat().st_size > 5000  # a rendered page, kept under the test's tmp folder
    assert found.console_errors == []
    assert all(image["ok"] for image in found.images), found.images
    if page == "summary.html":
        assert len(found.images) == 4  # a histogram per assignment
    elif page.startswith("bob/"):
        assert len(found.images) == 1  # the loss curve of train / train_model
    assert found.scroll_width <= WIDTH and found.wide == [], found.wide
    for link in found.links:
        if not link.startswith("#"):
            assert (target.parent / unquote(link)).is_file(), link


# --------------------------------------------------------------------------- accessibility

A11Y_PAGES = ["summary.html", "bob/backprop/feedback.html", "bob/training/feedback.html",
              "carol/backprop/feedback.html", "dave/activations/feedback.html",
              "zed/activations/feedback.html"]


@pytest.mark.slow
@pytest.mark.skipif(not accessibility.available(), reason="needs Chromium (Debian package) "
                    "and the dev extra's axe-playwright-python")
@pytest.mark.parametrize("page", A11Y_PAGES)
def test_reports_pass_wcag_22_aa_and_show_keyboard_focus(demo_reports: Path, page: str) -> None:
    target = demo_reports / page
    if not target.is_file():  # a roster student with no folder has no feedback page
        assert page.startswith("zed/")
        return
    found = accessibility.audit(target)
    print(found.line())  # the axe results per page, for the record
    assert accessibility.serious(found) == [], found.line()
    assert found.tab_stops, "Tab reaches nothing"
    assert all(stop["outline"] and stop["visible"] for stop in found.tab_stops), found.tab_stops


@pytest.mark.slow
@pytest.mark.skipif(not accessibility.available(), reason="needs Chromium and axe-playwright")
def test_summary_sorts_and_filters_from_the_keyboard(demo_reports: Path) -> None:
    with accessibility.opened(demo_reports / "summary.html") as tab:
        first = tab.eval_on_selector("#grid tbody tr th", "e => e.textContent")
        assert first.startswith("zed")  # no folder: missing everything, listed first
        for _ in range(40):  # Tab to the Total column's sort button, then Enter
            tab.keyboard.press("Tab")
            if tab.evaluate("document.activeElement.textContent") == "Total":
                break
        tab.keyboard.press("Enter")
        tab.keyboard.press("Enter")  # descending: the best total first
        assert tab.eval_on_selector("#grid thead th[aria-sort]", "e => e.textContent") == "Total"
        totals = tab.eval_on_selector_all("#grid tbody tr td:last-child",
                                          "es => es.map(e => Number(e.dataset.value))")
        assert totals == sorted(totals, reverse=True) and totals[0] == 400
        tab.focus("#filter")
        tab.keyboard.type("bob")
        assert tab.text_content("#shown") == "1 shown"
        tab.keyboard.press("Control+A")
        tab.keyboard.press("Backspace")
        tab.focus("#attention-only")
        tab.keyboard.press("Space")
        attention = tab.eval_on_selector_all("#grid tbody tr:not([hidden]) th",
                                             "es => es.map(e => e.textContent.split(' ')[0])")
        assert sorted(attention) == ["bob", "carol", "zed"]


@pytest.mark.slow
@pytest.mark.skipif(not accessibility.available(), reason="needs Chromium and axe-playwright")
def test_printed_feedback_shows_every_folded_part(demo_reports: Path) -> None:
    folded = ("() => Array.from(document.querySelectorAll('details > :not(summary)'))"
              ".map(e => e.checkVisibility())")
    with accessibility.opened(demo_reports / "bob" / "backprop" / "feedback.html") as tab:
        on_screen = tab.evaluate(folded)
        tab.emulate_media(media="print")
        printed = tab.evaluate(folded)
    assert False in on_screen  # some parts are folded on screen
    assert printed and all(printed)

"""grade review in a real browser (Playwright driving Debian's Chromium, no browser download):
two TAs grade the same question at once (the second's stale save is refused and shown), one
changes a rubric item's points, the app is restarted, and a rerun of grade puts exactly the
expected totals into the gradebook and a student's feedback."""

from __future__ import annotations

import csv
import io
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.resources import needs

from grader.core.course import DEFAULT_ROOT

CHROMIUM = "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow,
              needs(None if Path(CHROMIUM).exists() else "not found (Debian package chromium; "
                    ".ci/run installs it)", "Chromium")]
GRADE = [sys.executable, "-m", "grader.cli"]
QUESTION = "/q/forward/why_activation"


def grade(subs: Path, out: Path) -> dict[str, dict[str, str]]:
    run = subprocess.run([*GRADE, str(subs), "--out", str(out), "--assignment", "forward",
                          "-q", "-j", "2"], capture_output=True, text=True, check=False,
                         cwd=DEFAULT_ROOT)
    assert run.returncode == 0, run.stderr + run.stdout
    rows = csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))
    return {row["student"]: row for row in rows}


class App:
    """``grade review OUT --port 0`` as a subprocess; ``url`` is the line it printed."""

    def __init__(self, out: Path) -> None:
        self.process = subprocess.Popen([*GRADE, "review", str(out), "--port", "0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, cwd=DEFAULT_ROOT)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:") and "/?token=" in self.url, (
            self.url + self.process.stderr.read() if self.process.stderr else "")
        self.base = self.url.split("/?token=")[0]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=20)


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                   args=["--no-sandbox", "--disable-gpu"])
        yield chrome
        chrome.close()


def ta(browser, app: App, name: str):
    page = browser.new_context().new_page()
    page.goto(app.url)
    page.fill("input[name=who]", name)
    page.click("#set-who")
    assert page.text_content("#who") == name
    return page


def test_two_tas_a_rubric_change_and_a_restart(tmp_path: Path, browser) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student in ("alice", "bob", "carol"):
        (subs / student).mkdir(parents=True)
        for notebook in (DEFAULT_ROOT / "demo" / "submissions" / student).glob("forward*"):
            shutil.copy(notebook, subs / student)
    code = {s: float(row["forward"]) for s, row in grade(subs, out).items()}
    assert not (out / "review.db").exists() and "pending" not in (out / "grades.csv").read_text()

    app = App(out)
    try:
        one, two = ta(browser, app, "Ada"), ta(browser, app, "Grace")
        one.goto(app.base + QUESTION)
        two.goto(app.base + QUESTION)  # both look at the first answer before anyone saves
        assert one.text_content("#which") == two.text_content("#which") == "Submission 1 (1 / 2)"
        first = "alice" if "W2 (W1 x" in one.text_content("#answer") else "bob"
        second = "bob" if first == "alice" else "alice"
        one.keyboard.press("1")
        one.keyboard.press("2")
        one.keyboard.press("s")  # Ada saves: linear + capacity
        one.wait_for_selector("text=last saved by Ada")
        two.keyboard.press("1")
        two.click("#save")  # Grace's save is based on the page she loaded: refused, shown
        assert "another TA graded this answer first" in two.text_content("#conflict")
        assert two.is_checked("input[value=capacity]")  # what is stored now is shown
        two.goto(app.base + QUESTION + "?n=2")
        two.check("input[value=linear]")
        two.fill("#comment", "Good start <b>but</b> say why that limits the network.")
        two.click("#save-next")
        assert two.text_content("#progress") == "2 of 2 graded"
        one.click("details.edit-rubric summary")
        one.fill("input[data-item=linear]", "3")
        one.click("button[data-item=linear]")
        assert one.text_content("#score") == "4"  # 3 + 2, at most the question's 4 points
    finally:
        app.stop()

    app = App(out)  # a restart: a new token, the same database
    try:
        page = browser.new_context().new_page()
        page.goto(app.url)
        assert page.text_content("td.progress") == "2 / 2"
        page.goto(app.base + QUESTION + "?n=2")
        assert page.text_content("#score") == "3"
        assert "last saved by Grace" in page.text_content("#grade-form")
        assert page.request.get(app.base + "/").status == 200  # the cookie of this context
        fresh = browser.new_context().new_page()
        assert fresh.goto(app.base + "/").status == 403
    finally:
        app.stop()

    merged = grade(subs, out)  # a rerun: cached code results, the manual points merged
    assert float(merged[first]["forward"]) == code[first] + 4
    assert float(merged[second]["forward"]) == code[second] + 3
    assert float(merged["carol"]["forward"]) == code["carol"] + 0  # no answer: nothing pending
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert {r["student"]: r["pending"] for r in rows} == {"alice": "", "bob": "", "carol": ""}
    feedback = (out / second / "forward" / "feedback.md").read_text()
    assert "### why_activation: 3 / 4 points" in feedback
    assert "- +3: a stack of linear (affine) layers is itself one linear map" in feedback
    assert "Comment: Good start" in feedback
    html = (out / second / "forward" / "feedback.html").read_text()
    assert "&lt;b&gt;but&lt;/b&gt;" in html
    assert "No answer was handed in" in (out / "carol" / "forward" / "feedback.md").read_text()


def test_answers_render_as_markdown_and_mathml_inert_and_accessible(tmp_path: Path,
                                                                   browser) -> None:
    """Hostile answers (script, img onerror, SVG, javascript: links, TeX smuggling markup)
    fire nothing in Chromium; a formula is drawn as MathML; axe finds no serious violation."""
    from helpers import accessibility
    from helpers.review_fixtures import graded_folder

    hostile = {
        "ann": "<script>alert('script')</script> <img src=x onerror=alert('img')>",
        "ben": "<svg onload=alert('svg')></svg> [x](javascript:alert('link'))",
        "cat": "$$\n\\text{<img src=x onerror=alert('tex')>} \\href{javascript:alert(1)}{x}\n$$",
        "dan": "The slope is $\\sigma'(x) = \\sigma(x)\\,(1-\\sigma(x)) \\le \\frac{1}{4}$: "
               "**it vanishes**.",
    }
    out = graded_folder(tmp_path, hostile)
    app = App(out)
    try:
        page = browser.new_context().new_page()
        fired: list[str] = []
        page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
        page.goto(app.url)
        drawn = 0
        for n in range(1, 5):
            page.goto(f"{app.base}/q/hw/why?n={n}")
            for link in page.query_selector_all("#answer a"):
                assert link.get_attribute("href").startswith("https://")
            page.click("#answer .rendered")
            if "it vanishes" in page.text_content("#answer"):
                box = page.locator("#answer math").bounding_box()
                assert box is not None and box["width"] > 40 and box["height"] > 15
                tag = page.evaluate("document.querySelector('#answer mfrac').namespaceURI")
                assert tag == "http://www.w3.org/1998/Math/MathML"
                assert page.text_content("#answer strong") == "it vanishes"
                drawn += 1
        page.wait_for_timeout(300)
        assert fired == [] and drawn == 1
        checker = browser.new_context(bypass_csp=True).new_page()  # axe's script is inline
        checker.goto(app.url)
        checker.goto(f"{app.base}/q/hw/why?n=1")
        found = accessibility.audit_tab(checker, "review question page")
        print(found.line())
        assert accessibility.serious(found) == [], found.by_impact()
    finally:
        app.stop()

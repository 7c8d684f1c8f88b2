"""grade review: written answers found however the notebook was rearranged, the review
database (versions, re-scoring, history), and the app's guards (token, CSRF, inert student
content) through Starlette's TestClient on the real app."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa
from helpers.review_fixtures import PNG, SVG, graded_folder
from starlette.testclient import TestClient

from grader.core.results import RunResult, SubmissionResult
from grader.extract.written import checked_image, find_answers, notebook_cells
from grader.review import answers, db, store
from grader.review.app import build_app, make_review
from grader.review.merge import merge_manual
from grader.review.security import COOKIE

TOKEN = "test-token-123"


# ----------------------------------------------------------------------- finding the answers


def cells(*specs: tuple[str, str, dict[str, object] | None]) -> list[dict[str, object]]:
    return [{"cell_type": kind, "source": source, "metadata": meta or {}, "outputs": []}
            for kind, source, meta in specs]


def found(raw_cells: list[dict[str, object]], wanted: tuple[str, ...] = ("q1", "q2")):
    return find_answers(notebook_cells({"cells": raw_cells}), wanted)


def test_an_answer_is_found_by_its_metadata_or_its_marker_line() -> None:
    by_meta = found(cells(("markdown", "Mine.", {"grader": {"answer": "q1"}})))
    by_marker = found(cells(("markdown", "<!-- answer: q1 -->\nMine.", None)))
    assert by_meta["q1"].text == by_marker["q1"].text == "Mine."


def test_a_moved_split_or_merged_answer_is_still_found() -> None:
    moved = found(cells(("code", "def f(): pass", None),
                        ("markdown", "<!-- answer: q2 -->\nTwo.", None),
                        ("markdown", "<!-- answer: q1 -->\nOne.", None)))
    assert (moved["q1"].text, moved["q2"].text) == ("One.", "Two.")
    split = found(cells(("markdown", "<!-- answer: q1 -->\nFirst half.", None),
                        ("markdown", "second half.", None),
                        ("code", "def g(): pass", None)))
    assert split["q1"].text == "First half.\n\nsecond half." and split["q1"].cells == (1, 2)
    merged = found(cells(("markdown", "<!-- answer: q1 -->\nOne.\n<!-- answer: q2 -->\nTwo.",
                          None)))
    assert (merged["q1"].text, merged["q2"].text) == ("One.", "Two.")


def test_code_after_an_answer_is_not_part_of_it_and_placeholders_are_no_answer() -> None:
    answers_ = found(cells(("markdown", "<!-- answer: q1 -->\nYOUR ANSWER HERE", None),
                           ("code", "# answer: q2\nplt.plot(x)", None),
                           ("code", "import numpy as np\ndef relu(x): ...", None)))
    assert "q1" not in answers_ and answers_["q2"].text == "plt.plot(x)"


def test_only_png_and_jpeg_with_their_magic_bytes_are_kept() -> None:
    png = base64.b64encode(PNG).decode()
    assert checked_image("image/png", png) is not None
    assert checked_image("image/jpeg", png) is None  # PNG bytes called JPEG
    assert checked_image("image/svg+xml", base64.b64encode(SVG.encode()).decode()) is None
    assert checked_image("image/png", base64.b64encode(b"<html>" * 10).decode()) is None
    big = base64.b64encode(PNG + b"\0" * 1_100_000).decode()
    assert checked_image("image/png", big) is None


# ------------------------------------------------------------------------------ the database


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return graded_folder(tmp_path, {
        "ann": "It is <script>alert('xss')</script> **bold**",
        "ben": "Because of the kink.",
    }, {"ann": {"image/svg+xml": SVG, "image/png": base64.b64encode(PNG).decode()},
        "ben": {"image/svg+xml": SVG}})


def test_the_sheet_keeps_the_png_and_drops_the_svg(out: Path) -> None:
    sheet = {s.assignment: s for s in answers.load(out)}["hw"]
    assert [i.mime for i in sheet.answers["ann"]["plot"].images] == ["image/png"]
    assert sheet.answers["ben"]["plot"].images == ()
    assert sheet.students == ("ann", "ben", "nobody") and "nobody" not in sheet.answers


def test_a_stale_write_is_refused_and_rubric_points_rescore_everyone(out: Path) -> None:
    engine = db.open_db(db.default_url(out))
    review = make_review(answers.load(out), engine)
    assert store.save_grade(engine, "ta1", "hw", "ann", "why", ["right"], "", 0) == 1
    with pytest.raises(store.StaleWrite):
        store.save_grade(engine, "ta2", "hw", "ann", "why", ["detail"], "", 0)
    assert store.save_grade(engine, "ta2", "hw", "ann", "why", ["right", "detail"], "ok", 1) == 2
    store.save_grade(engine, "ta1", "hw", "ben", "why", ["right"], "", 0)
    right = next(i for i in store.rubric(engine, "hw", "why") if i.key == "right")
    store.set_points(engine, "ta1", right.id, 2.5, right.version)
    with pytest.raises(store.StaleWrite):
        store.set_points(engine, "ta2", right.id, 1.0, right.version)
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert [e.action for e in store.history(engine)] == ["rubric", "grade", "grade", "grade"]
    engine.dispose()
    run = RunResult(tuple(SubmissionResult(s, "hw", "x.ipynb" if s != "nobody" else None)
                          for s in ("ann", "ben", "nobody")))
    merged = {r.student: r for r in merge_manual(run, out).results}
    assert merged["ann"].score == 3.5 and merged["ben"].score == 2.5
    assert merged["ann"].pending == ("plot",) and merged["nobody"].pending == ()
    assert merged["ann"].max_score == 106
    assert review.token and merge_manual(run, out.parent / "elsewhere") == run


def test_the_schema_comes_from_the_alembic_migration(out: Path) -> None:
    engine = db.open_db(db.default_url(out))
    tables = set(sa.inspect(engine).get_table_names())
    assert {"rubric_items", "grades", "events", "alembic_version"} <= tables
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0002"
    engine.dispose()
    db.open_db(db.default_url(out)).dispose()  # a second open upgrades nothing and works


# ------------------------------------------------------------------------------------ the app


@pytest.fixture
def client(out: Path):
    engine = db.open_db(db.default_url(out))
    review = make_review(answers.load(out), engine, token=TOKEN)
    with TestClient(build_app(review), base_url="http://127.0.0.1") as c:
        yield c, review
    engine.dispose()


def logged_in(c: TestClient) -> TestClient:
    first = c.get(f"/?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    return c


def test_every_request_without_the_token_is_refused(client) -> None:
    c, _ = client
    for path in ("/", "/q/hw/why", "/img/hw/plot/1/0", "/static/review.js"):
        assert c.get(path).status_code == 403
        assert c.get(f"{path}?token=wrong").status_code == 403
    c.cookies.set(COOKIE, "wrong")
    assert c.get("/").status_code == 403
    assert c.post("/q/hw/why/grade", data={"n": "1"}).status_code == 403


def test_a_cross_site_form_post_is_refused(client, out: Path) -> None:
    c, review = logged_in(client[0]), client[1]
    form = {"n": "1", "version": "0", "item": "right", "comment": "x"}
    assert c.post("/q/hw/why/grade", data=form).status_code == 403  # no CSRF token
    assert c.post("/q/hw/why/grade", data={**form, "csrf": "guess"}).status_code == 403
    other = c.post("/q/hw/why/grade", data={**form, "csrf": review.csrf},
                   headers={"Origin": "http://evil.example"})
    assert other.status_code == 403
    assert store.grades_of(review.engine, "hw") == {}
    ok = c.post("/q/hw/why/grade", data={**form, "csrf": review.csrf},
                headers={"Origin": "http://127.0.0.1"}, follow_redirects=False)
    assert ok.status_code == 303 and len(store.grades_of(review.engine, "hw")) == 1


def test_student_script_and_svg_render_inert(client) -> None:
    c, review = logged_in(client[0]), client[1]
    queue = review.queue("hw", "why")
    page = c.get(f"/q/hw/why?n={queue.index('ann') + 1}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(" in page.text
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/static/review.js" defer>']
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "ann" not in page.text.replace("&lt;", "")  # anonymous: no student id shown
    plots = review.queue("hw", "plot")
    ann = c.get(f"/q/hw/plot?n={plots.index('ann') + 1}")
    assert ann.text.count("<img ") == 1 and "svg" not in ann.text.lower()
    image = c.get(f"/img/hw/plot/{plots.index('ann') + 1}/0")
    assert image.headers["content-type"] == "image/png" and image.content == PNG
    assert image.headers["x-content-type-options"] == "nosniff"
    assert c.get(f"/img/hw/plot/{plots.index('ben') + 1}/0").status_code == 404


def test_a_stale_form_is_refused_and_shown(client) -> None:
    c, review = logged_in(client[0]), client[1]
    form = {"n": "1", "version": "0", "csrf": review.csrf}
    c.post("/q/hw/why/grade", data={**form, "item": "right"})
    stale = c.post("/q/hw/why/grade", data={**form, "item": "detail"})
    assert stale.status_code == 409 and 'id="conflict"' in stale.text
    (grade,) = store.grades_of(review.engine, "hw").values()
    assert grade.items == ("right",)


def test_the_student_stub_keeps_the_question_without_its_rubric(tmp_path: Path) -> None:
    from helpers.review_fixtures import reference

    from grader.extract.stub import make_stub

    assignment = reference(tmp_path)
    stub = make_stub(nbformat.read(assignment.reference, as_version=4), "hw")
    metas = [c.metadata.get("grader") for c in stub.cells if c.metadata.get("grader")]
    assert {"question": {"id": "why", "points": 4}} in metas and {"answer": "why"} in metas


def test_the_demo_answers_are_found_in_every_kind_of_notebook() -> None:
    from grader.core.course import DEFAULT_ROOT, load_course

    course = load_course(DEFAULT_ROOT)
    demo = DEFAULT_ROOT / "demo" / "submissions"
    results = [SubmissionResult(path.parent.name, a.id, str(path))
               for a in course.assignments for path in sorted(demo.glob("*/*"))
               if path.suffix in (".ipynb", ".py") and a.id in path.name.lower()]
    sheets = {s.assignment: s for s in answers.collect(results, course.assignments, 10**7)}
    assert set(sheets) == {a.id for a in course.assignments}
    training = sheets["training"].answers
    assert [i.mime for i in training["alice"]["loss_curve"].images] == ["image/png"]
    assert training["frank"]["loss_curve"].text.startswith("plt.plot(losses)")  # a .py file
    forward = sheets["forward"].answers
    assert "collapse into one linear layer" in forward["bob"]["why_activation"].text
    assert forward["erin"]["why_activation"].text == forward["alice"]["why_activation"].text
    assert forward["carol"] == {} and "BEGIN SOLUTION" not in str(sheets)
    assert all(len(a.cells) == 1 for s in sheets.values() for per in s.answers.values()
               for a in per.values())  # never the section after the answer


def test_a_heading_after_a_markdown_answer_is_the_next_section() -> None:
    answers_ = found(cells(("markdown", "<!-- answer: q1 -->\nMine.", None),
                           ("markdown", "## Checking your work\n\nRun the checks.", None)))
    assert answers_["q1"].text == "Mine."


def test_grade_collect_adds_the_written_points_and_names_what_is_pending(out: Path,
                                                                          tmp_path: Path) -> None:
    from helpers.records import A, as_folder, record_files

    from grader.commands.collect import CollectRequest, collect
    from grader.core.course import DEFAULT_ROOT, load_course

    engine = db.open_db(db.default_url(out))
    make_review(answers.load(out), engine)
    store.save_grade(engine, "ta", "hw", "ann", "why", ["right", "wrong"], "", 0)
    engine.dispose()
    t = "2026-10-01T10:00:00Z"
    for student in ("ann", "Ben"):
        as_folder(tmp_path / "records" / student, record_files(student, A, t, t, {"hw": 50}))
    book = tmp_path / "book.csv"
    collect(CollectRequest(records=(tmp_path / "records",), out=book, review=out),
            load_course(DEFAULT_ROOT), echo=lambda _: None)
    import csv

    rows = {r["student"]: r for r in csv.DictReader(book.open(encoding="utf-8"))}
    assert (rows["ann"]["hw"], rows["ann"]["pending"]) == ("52", "hw:plot")
    assert (rows["Ben"]["hw"], rows["Ben"]["pending"]) == ("50", "hw:why hw:plot")


# ------------------------------------------------------------ Markdown and LaTeX, rendered inert

HOSTILE = {
    "img": "<img src=x onerror=alert('img')> plain",
    "svg": "<svg onload=alert('svg')><circle r=5/></svg> drawn",
    "links": "[bad](javascript:alert('link')) [Bad](JaVaScRiPt:alert(1)) [ok](https://example.org)"
             " ![beacon](https://example.org/t.png)",
    "tex": "$$\n\\text{<script>alert('tex')</script>} \\href{javascript:alert(1)}{x}"
           " \\style{color:red}{y}\n$$",
}


def test_markdown_and_latex_render_as_html_and_mathml() -> None:
    from grader.review.render import answer_html

    page = answer_html("markdown", "It is **bold**, $\\sigma(x) = \\frac{1}{1+e^{-x}}$, and\n\n"
                                   "$$\nf'(x) = \\max(0, x)\n$$\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<strong>bold</strong>" in page and "<table>" in page
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in page
    assert "<mfrac>" in page and "<mi>σ</mi>" in page
    assert '<div class="math block">' in page and 'display="block"' in page
    assert answer_html("markdown", "costs $5 and $10") == "<p>costs $5 and $10</p>\n"
    broken = answer_html("markdown", "bad $\\frac{$ tex")
    assert '<code class="tex">\\frac{</code>' in broken  # unreadable LaTeX: its source
    code = answer_html("code", "plt.plot(x)  # <b>**not markdown**</b>")
    assert code == "<pre><code>plt.plot(x)  # &lt;b&gt;**not markdown**&lt;/b&gt;</code></pre>"


def test_hostile_markdown_and_latex_render_inert() -> None:
    from grader.review.render import answer_html

    pages = {name: answer_html("markdown", text) for name, text in HOSTILE.items()}
    every = "".join(pages.values())
    assert "<img" not in every and "<svg" not in every and "<script" not in every
    assert "&lt;img src=x onerror=alert('img')&gt;" in pages["img"]
    assert "&lt;svg onload" in pages["svg"]
    assert "javascript:" not in pages["links"].replace("[bad](javascript:", "").replace(
        "[Bad](JaVaScRiPt:", "").lower()
    assert re.findall(r"<a [^>]*>", pages["links"]) == [
        '<a href="https://example.org" rel="noopener noreferrer nofollow">',
        '<a href="https://example.org/t.png" rel="noopener noreferrer nofollow">']
    assert "href" not in pages["tex"] and "style" not in pages["tex"]
    assert "<mtext>alert('tex')</mtext>" in pages["tex"]  # the tags dropped, the text shown
    tags = set(re.findall(r"<([a-z]+)", pages["tex"]))
    assert tags <= {"div", "math", "mrow", "mtext", "mi"}, tags


def test_the_app_shows_rendered_answers_and_keeps_them_inert(tmp_path: Path) -> None:
    out = graded_folder(tmp_path, {**HOSTILE, "math": "Since $e^{-x} > 0$, **never** zero."})
    engine = db.open_db(db.default_url(out))
    review = make_review(answers.load(out), engine, token=TOKEN)
    with TestClient(build_app(review), base_url="http://127.0.0.1") as c:
        logged_in(c)
        queue = review.queue("hw", "why")
        pages = {s: c.get(f"/q/hw/why?n={queue.index(s) + 1}").text for s in queue}
    engine.dispose()
    math = pages["math"]
    assert "<strong>never</strong>" in math and "<msup><mi>e</mi>" in math
    assert "Since $e^{-x} &gt; 0$" in math  # the source as typed, folded below
    for name, page in pages.items():
        assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/review.js" defer>']
        assert re.findall(r"<img[^>]*>", page) == [], name
        assert "<svg" not in page and 'href="javascript' not in page.lower(), name
        assert not re.search(r"<[a-z]+[^>]* on[a-z]+=", page), name


# ------------------------------------------------------------- a rerun seen without a restart


def test_a_rerun_is_seen_without_restart_and_a_changed_answer_is_flagged(tmp_path: Path) -> None:
    from grader.review.app import key_of

    out = graded_folder(tmp_path, {"ann": "First try.", "ben": "Because of the kink."})
    engine = db.open_db(db.default_url(out))
    review = make_review(answers.load(out), engine, token=TOKEN, out_dir=out)
    with TestClient(build_app(review), base_url="http://127.0.0.1") as c:
        logged_in(c)
        before = review.queue("hw", "why")
        form = {"version": "0", "csrf": review.csrf, "item": "right"}
        for student in before:
            c.post("/q/hw/why/grade", data={**form, "n": str(before.index(student) + 1),
                                            "sub": key_of("hw", student)})
        assert c.get("/").text.count('class="changed-count"></td>') == 2  # nothing changed
        # a rerun: ann rewrote her answer, two students handed in late
        graded_folder(tmp_path, {"ann": "Second try, **better**.", "ben": "Because of the kink.",
                                 "cy": "Late.", "dee": "Later."})
        index = c.get("/").text
        assert re.search(r'class="progress">2 / 4<', index)
        assert '<td class="changed-count">1</td>' in index
        after = review.queue("hw", "why")
        pages = {s: c.get(f"/q/hw/why?n={after.index(s) + 1}").text for s in after}
        assert 'id="changed"' in pages["ann"] and "<strong>better</strong>" in pages["ann"]
        assert 'id="changed"' not in pages["ben"] + pages["cy"]
        saved = store.grades_of(engine, "hw", "why")
        assert {s for s, _ in saved} == {"ann", "ben"}  # the grades were kept
        # a form loaded before the rerun names its answer by key: a shifted position does
        # not move the grade to another student
        stale_n = str(before.index("ben") + 1)
        version = str(saved[("ben", "why")].version)
        done = c.post("/q/hw/why/grade", data={**form, "version": version, "n": stale_n,
                                               "sub": key_of("hw", "ben"), "item": "detail"})
        assert done.status_code == 200
        saved = store.grades_of(engine, "hw", "why")
        assert saved[("ben", "why")].items == ("detail",) and len(saved) == 2
        regraded = c.post("/q/hw/why/grade", data={
            **form, "version": str(saved[("ann", "why")].version), "sub": key_of("hw", "ann")})
        assert regraded.status_code == 200
        ann = c.get(f"/q/hw/why?n={after.index('ann') + 1}").text
        assert 'id="changed"' not in ann  # graded again: the grade names the new answer
        gone = c.post("/q/hw/why/grade", data={**form, "sub": "no-such-answer"})
        assert gone.status_code == 404
    engine.dispose()


def test_a_database_made_before_answer_digests_is_upgraded_in_place(out: Path) -> None:
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(db.default_url(out))
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO grades (assignment, student, question, items, comment, version, "
            "graded_by, graded_at) VALUES ('hw', 'ann', 'why', '[\"right\"]', '', 1, 'ta',"
            " '2026-12-01 10:00:00')")
    engine.dispose()
    engine = db.open_db(db.default_url(out))
    (grade,) = store.grades_of(engine, "hw").values()
    assert grade.items == ("right",) and grade.digest == ""  # kept; "" is never "changed"
    engine.dispose()

"""The review database on a real PostgreSQL server (``--db postgresql+psycopg://...``): the same
Alembic migrations, versions that refuse a stale write, re-scoring, the merge into the reports,
the app's 409 on a stale form, and ``grade review OUT --db URL`` serving from it. A throwaway
cluster per module (tests/helpers/postgres.py); CI fails where PostgreSQL is missing."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import postgres
from helpers.resources import needs
from helpers.review_fixtures import graded_folder
from starlette.testclient import TestClient

from grader.core.results import RunResult, SubmissionResult
from grader.review import answers, db, store
from grader.review.app import build_app, key_of, make_review
from grader.review.merge import merge_manual

pytestmark = [needs(postgres.problem(), "PostgreSQL (initdb, pg_ctl) and psycopg"),
              pytest.mark.slow]
TOKEN = "pg-token-123"


@pytest.fixture(scope="module")
def database() -> Iterator[Callable[[str], str]]:
    with postgres.cluster() as make:
        yield make


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return graded_folder(tmp_path, {"ann": "It is **linear**.", "ben": "Because of the kink."})


def test_the_migrations_build_the_same_schema_on_postgres(database, out: Path) -> None:
    url = database("schema")
    engine = db.open_db(url)
    assert engine.dialect.name == "postgresql"
    assert {"rubric_items", "grades", "events", "alembic_version"} <= set(
        sa.inspect(engine).get_table_names())
    columns = {c["name"] for c in sa.inspect(engine).get_columns("grades")}
    assert "answer_digest" in columns
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0002"
    engine.dispose()
    db.open_db(url).dispose()  # a second open upgrades nothing and works


def test_a_stale_write_is_refused_and_points_rescore_on_postgres(database, out: Path) -> None:
    url = database("stale")
    engine = db.open_db(url)
    make_review(answers.load(out), engine)
    assert store.save_grade(engine, "ta1", "hw", "ann", "why", ["right"], "", 0) == 1
    with pytest.raises(store.StaleWrite):
        store.save_grade(engine, "ta2", "hw", "ann", "why", ["detail"], "", 0)
    with pytest.raises(store.StaleWrite):
        store.save_grade(engine, "ta2", "hw", "ann", "why", ["detail"], "", 7)
    assert store.save_grade(engine, "ta2", "hw", "ann", "why", ["right", "detail"], "ok", 1) == 2
    store.save_grade(engine, "ta1", "hw", "ben", "why", ["right"], "", 0)
    right = next(i for i in store.rubric(engine, "hw", "why") if i.key == "right")
    store.set_points(engine, "ta1", right.id, 2.5, right.version)
    with pytest.raises(store.StaleWrite):
        store.set_points(engine, "ta2", right.id, 1.0, right.version)
    assert [e.action for e in store.history(engine)] == ["rubric", "grade", "grade", "grade"]
    engine.dispose()
    run = RunResult(tuple(SubmissionResult(s, "hw", "x.ipynb" if s != "nobody" else None)
                          for s in ("ann", "ben", "nobody")))
    merged = {r.student: r for r in merge_manual(run, out, url).results}
    assert merged["ann"].score == 3.5 and merged["ben"].score == 2.5
    assert merged["ann"].pending == ("plot",)


def test_the_app_refuses_a_stale_form_on_postgres(database, out: Path) -> None:
    engine = db.open_db(database("app"))
    review = make_review(answers.load(out), engine, token=TOKEN, out_dir=out)
    with TestClient(build_app(review), base_url="http://127.0.0.1") as c:
        c.get(f"/?token={TOKEN}")
        form = {"version": "0", "csrf": review.csrf, "sub": key_of("hw", "ann")}
        assert c.post("/q/hw/why/grade", data={**form, "item": "right"}).status_code == 200
        stale = c.post("/q/hw/why/grade", data={**form, "item": "detail"})
        assert stale.status_code == 409 and 'id="conflict"' in stale.text
    (grade,) = store.grades_of(engine, "hw").values()
    assert grade.items == ("right",) and grade.student == "ann" and grade.digest
    engine.dispose()


def test_grade_review_serves_from_a_postgres_url(database, out: Path) -> None:
    url = database("served")
    app = subprocess.Popen([sys.executable, "-m", "grader.cli", "review", str(out), "--port", "0",
                            "--db", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        assert app.stdout is not None
        line = app.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:") and "/?token=" in line, line
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(line, timeout=10) as page:  # the token, then its cookie
            assert "Written questions" in page.read().decode()
    finally:
        app.terminate()
        app.wait(timeout=20)
    engine = sa.create_engine(url)
    with engine.connect() as c:  # the app's rubric went into the server, not a review.db
        assert c.exec_driver_sql("SELECT count(*) FROM rubric_items").scalar() == 4
    engine.dispose()
    assert not (out / "review.db").exists()

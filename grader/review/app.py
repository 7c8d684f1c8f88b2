"""``grade review``'s web app: Starlette routes over the answer sheets and the review database.

One question at a time across all students (as Gradescope grades): ``/q/<assignment>/<question>``
shows the next answer nobody graded yet, ``?n=K`` the K-th (1-based, in a fixed order that does
not follow names: students are anonymous unless the app was started with names shown).
Everything is a plain HTML form (a little JS adds keyboard shortcuts); student text is
rendered by grader.review.render (Markdown without raw HTML, LaTeX as allowlisted MathML) or
escaped by Jinja2's autoescape, student images come only from ``/img/...`` as PNG or JPEG whose
magic bytes were checked (grader.extract.written.checked_image).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from grader.core.errors import CourseError
from grader.extract.written import MAGIC, Answer, Question
from grader.review import answers, render, store
from grader.review.answers import AnswerSheet
from grader.review.security import Guard, new_token, same

HERE = Path(__file__).resolve().parent
WHO = "grader_ta"
log = logging.getLogger(__name__)


@dataclass
class Review:
    """What the app serves: answer sheets, the database, the tokens."""

    sheets: dict[str, AnswerSheet]
    engine: sa.Engine
    token: str
    csrf: str
    show_names: bool = False
    #: the graded folder whose answer sheets are re-read when a rerun of grade rewrites them
    out_dir: Path | None = None
    stamp: tuple[tuple[str, int, int], ...] = field(default=())

    def refresh(self) -> None:
        """Re-read OUT/answers when a run changed it (grades stay: they are in the database).
        A sheet that cannot be read keeps the previous ones (a run may be writing)."""
        if self.out_dir is None:
            return
        now = answers.stamp(self.out_dir)
        if now == self.stamp:
            return
        try:
            sheets = answers.load(self.out_dir)
        except CourseError as exc:
            log.warning("keeping the answer sheets read before: %s", exc)
            return
        for sheet in sheets:
            store.sync_rubric(self.engine, sheet.assignment, sheet.questions)
        self.sheets = {s.assignment: s for s in sheets}
        self.stamp = now

    def queue(self, assignment: str, question: str) -> list[str]:
        """The students who answered, in the app's anonymous order."""
        sheet = self.sheets[assignment]
        answered = [s for s in sheet.students if question in sheet.answers.get(s, {})]
        return sorted(answered, key=lambda s: key_of(assignment, s))


def build_app(review: Review) -> Guard:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["answer_html"] = lambda a: markupsafe.Markup(render.answer_html(a.kind, a.text))
    env.filters["markdown"] = lambda text: markupsafe.Markup(render.markdown(text))

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(csrf=review.csrf, **context)
        return HTMLResponse(html, status)

    async def index(request: Request) -> Response:
        review.refresh()
        rows = []
        for sheet in review.sheets.values():
            saved = store.grades_of(review.engine, sheet.assignment)
            for q in sheet.questions:
                queue = review.queue(sheet.assignment, q.id)
                done = sum(1 for s in queue if (s, q.id) in saved)
                changed = sum(1 for s in queue if _changed(saved.get((s, q.id)),
                                                           sheet.answers[s][q.id]))
                rows.append({"assignment": sheet.assignment, "title": sheet.title,
                             "question": q.id, "points": q.points, "done": done,
                             "changed": changed,
                             "answered": len(queue), "students": len(sheet.students)})
        return page("index.html", rows=rows, who=_who(request))

    async def question(request: Request) -> Response:
        found = _locate(review, request)
        if isinstance(found, Response):
            return found
        sheet, q, queue = found
        saved = store.grades_of(review.engine, sheet.assignment, q.id)
        n = request.query_params.get("n")
        if n is None or not n.isdigit() or not 1 <= int(n) <= len(queue):
            pending = [i for i, s in enumerate(queue, 1) if (s, q.id) not in saved]
            n = str(pending[0] if pending else 1 if queue else 0)
        return _answer_page(page, review, request, sheet, q, queue, int(n), saved)

    async def grade(request: Request) -> Response:
        found = _locate(review, request)
        if isinstance(found, Response):
            return found
        sheet, q, queue = found
        form = await request.form()
        if not same(str(form.get("csrf", "")), review.csrf):
            return PlainTextResponse("403: missing or wrong CSRF token", 403)
        n = _position(review, sheet.assignment, queue, form.get("sub"), _int(form.get("n")))
        if not 1 <= n <= len(queue):
            return PlainTextResponse("404: this answer is not in the answer sheets (any more)",
                                     404)
        keys = {i.key for i in store.rubric(review.engine, sheet.assignment, q.id)}
        items = [str(k) for k in form.getlist("item") if str(k) in keys]
        student = queue[n - 1]
        try:
            store.save_grade(review.engine, _who(request), sheet.assignment, student, q.id,
                             items, str(form.get("comment", ""))[:5000], _int(form.get("version")),
                             answers.digest(sheet.answers[student][q.id]))
        except store.StaleWrite as exc:
            saved = store.grades_of(review.engine, sheet.assignment, q.id)
            return _answer_page(page, review, request, sheet, q, queue, n, saved,
                                conflict=str(exc), status=409)
        target = n + 1 if form.get("next") and n < len(queue) else n
        return RedirectResponse(f"/q/{sheet.assignment}/{q.id}?n={target}", 303)

    async def rubric_points(request: Request) -> Response:
        found = _locate(review, request)
        if isinstance(found, Response):
            return found
        sheet, q, queue = found
        form = await request.form()
        if not same(str(form.get("csrf", "")), review.csrf):
            return PlainTextResponse("403: missing or wrong CSRF token", 403)
        n = _int(form.get("n"))
        try:
            points = float(str(form.get("points", "")))
            store.set_points(review.engine, _who(request), _int(form.get("item")), points,
                             _int(form.get("version")))
        except ValueError:
            return PlainTextResponse("400: points must be a number", 400)
        except store.StaleWrite as exc:
            saved = store.grades_of(review.engine, sheet.assignment, q.id)
            return _answer_page(page, review, request, sheet, q, queue, n, saved,
                                conflict=str(exc), status=409)
        return RedirectResponse(f"/q/{sheet.assignment}/{q.id}?n={n}", 303)

    async def who(request: Request) -> Response:
        form = await request.form()
        if not same(str(form.get("csrf", "")), review.csrf):
            return PlainTextResponse("403: missing or wrong CSRF token", 403)
        name = " ".join(str(form.get("who", "")).split())[:60] or "TA"
        response = RedirectResponse("/", 303)
        response.set_cookie(WHO, name, httponly=True, samesite="strict", path="/")
        return response

    async def image(request: Request) -> Response:
        found = _locate(review, request)
        if isinstance(found, Response):
            return found
        sheet, q, queue = found
        n, i = request.path_params["n"], request.path_params["i"]
        if not 1 <= n <= len(queue):
            return PlainTextResponse("404", 404)
        images = sheet.answers[queue[n - 1]][q.id].images
        if i >= len(images) or images[i].mime not in MAGIC:
            return PlainTextResponse("404", 404)
        data = base64.b64decode(images[i].data)
        if not data.startswith(MAGIC[images[i].mime]):
            return PlainTextResponse("415: not an image", 415)
        return Response(data, media_type=images[i].mime,
                        headers={"Content-Security-Policy": "default-src 'none'",
                                 "Content-Disposition": "inline"})

    routes = [
        Route("/", index),
        Route("/who", who, methods=["POST"]),
        Route("/q/{assignment}/{question}", question),
        Route("/q/{assignment}/{question}/grade", grade, methods=["POST"]),
        Route("/q/{assignment}/{question}/rubric", rubric_points, methods=["POST"]),
        Route("/img/{assignment}/{question}/{n:int}/{i:int}", image),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Guard(Starlette(routes=routes), review.token)


def _locate(review: Review, request: Request
            ) -> tuple[AnswerSheet, Question, list[str]] | Response:
    review.refresh()
    sheet = review.sheets.get(request.path_params["assignment"])
    questions = {q.id: q for q in sheet.questions} if sheet else {}
    q = questions.get(request.path_params["question"])
    if sheet is None or q is None:
        return PlainTextResponse("404: no such question", 404)
    return sheet, q, review.queue(sheet.assignment, q.id)


def key_of(assignment: str, student: str) -> str:
    """A student's place in the anonymous order, and the form's stable name for the answer (a
    rerun that adds a student moves positions; the key stays)."""
    return hashlib.sha256(f"{assignment}/{student}".encode()).hexdigest()[:20]


def _position(review: Review, assignment: str, queue: list[str], key: object, n: int) -> int:
    if key is None:
        return n
    return next((i for i, s in enumerate(queue, 1) if key_of(assignment, s) == str(key)), 0)


def _changed(grade: store.Grade | None, answer: Answer) -> bool:
    """Whether a grade was given to another version of this answer (a rerun changed it)."""
    return bool(grade and grade.digest and grade.digest != answers.digest(answer))


def _answer_page(page: Any, review: Review, request: Request, sheet: AnswerSheet, q: Question,
                 queue: list[str], n: int, saved: dict[tuple[str, str], store.Grade],
                 conflict: str = "", status: int = 200) -> HTMLResponse:
    rubric = store.rubric(review.engine, sheet.assignment, q.id)
    student = queue[n - 1] if n else None
    answer: Answer | None = sheet.answers[student][q.id] if student else None
    grade = saved.get((student, q.id)) if student else None
    applied = set(grade.items) if grade else set()
    return page("question.html", status, sheet=sheet, q=q, n=n, total=len(queue),
                done=sum(1 for s in queue if (s, q.id) in saved), answer=answer,
                student=student if review.show_names else f"Submission {n}",
                rubric=rubric, applied=applied, grade=grade, conflict=conflict,
                sub=key_of(sheet.assignment, student) if student else "",
                changed=_changed(grade, answer) if answer else False,
                score=store.score(q.points, rubric, applied) if grade else None,
                who=_who(request))


def _who(request: Request) -> str:
    return request.cookies.get(WHO) or "TA"


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def make_review(sheets: list[AnswerSheet], engine: sa.Engine, show_names: bool = False,
                token: str | None = None, out_dir: Path | None = None) -> Review:
    """The app's state; with ``out_dir`` it re-reads OUT/answers whenever a run rewrote it."""
    for sheet in sheets:
        store.sync_rubric(engine, sheet.assignment, sheet.questions)
    return Review({s.assignment: s for s in sheets}, engine, token or new_token(), new_token(),
                  show_names, out_dir, answers.stamp(out_dir) if out_dir else ())

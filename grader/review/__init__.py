"""Written answers graded by people: ``grade review OUT``.

    answers.py   OUT/answers/<assignment>.json, written by every grading run
    db.py        the review database (SQLAlchemy; Alembic migrations in migrations/)
    store.py     grading and rubric edits, versioned, each with who and when
    render.py    an answer as safe HTML: Markdown (no raw HTML), LaTeX as MathML
    app.py       the Starlette app (templates/, static/); security.py its guards
    merge.py     the graded points into a run's reports (and grade collect's gradebook)
"""

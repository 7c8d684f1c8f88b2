"""Alembic's environment for the review database: run programmatically by grader.review.db
(the caller hands the connection in ``config.attributes``; no alembic.ini, no logging setup)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

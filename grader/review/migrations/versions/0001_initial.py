"""The review database's first schema: rubric items, grades, and the log of every change.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rubric_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assignment", sa.String(100), nullable=False),
        sa.Column("question", sa.String(40), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("points", sa.Float, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("assignment", "question", "key", name="uq_rubric_item"),
    )
    op.create_table(
        "grades",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assignment", sa.String(100), nullable=False),
        sa.Column("student", sa.String(200), nullable=False),
        sa.Column("question", sa.String(40), nullable=False),
        sa.Column("items", sa.Text, nullable=False, server_default="[]"),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("graded_by", sa.String(100), nullable=False),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("assignment", "student", "question", name="uq_grade"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(100), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("assignment", sa.String(100), nullable=False),
        sa.Column("student", sa.String(200), nullable=False, server_default=""),
        sa.Column("question", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("grades")
    op.drop_table("rubric_items")

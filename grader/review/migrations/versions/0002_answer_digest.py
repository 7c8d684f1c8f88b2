"""Grades remember which answer they graded: a digest of its text and images, so the app can
flag an answer a rerun changed after a TA graded it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grades") as batch:  # batch: SQLite's ALTER TABLE is limited
        batch.add_column(sa.Column("answer_digest", sa.String(64), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("grades") as batch:
        batch.drop_column("answer_digest")

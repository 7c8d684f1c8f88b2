"""The review database: SQLAlchemy 2 Core over SQLite (WAL) in the output folder by default,
or any URL (``--db postgresql://...``) for a course whose TAs grade from different machines.

The schema is created and upgraded by Alembic, run programmatically at every open from the
migration scripts inside this package (grader/review/migrations), so a database made by an
older grader is upgraded in place and never needs a command of its own.

Tables (the migration is the truth; these mirror it for queries):
    rubric_items   per (assignment, question, key): label, points, version, who/when changed
    grades         per (assignment, student, question): rubric keys applied, comment,
                   version, who/when graded, a digest of the answer graded (0002)
    events         every change: who, when, what, and its detail as JSON
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from grader.core.errors import ConfigError

FILE_NAME = "review.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = sa.MetaData()
rubric_items = sa.Table(
    "rubric_items", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("assignment", sa.String(100)), sa.Column("question", sa.String(40)),
    sa.Column("key", sa.String(40)), sa.Column("label", sa.Text), sa.Column("points", sa.Float),
    sa.Column("position", sa.Integer), sa.Column("version", sa.Integer),
    sa.Column("changed_by", sa.String(100)), sa.Column("changed_at", sa.DateTime(timezone=True)),
)
grades = sa.Table(
    "grades", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("assignment", sa.String(100)), sa.Column("student", sa.String(200)),
    sa.Column("question", sa.String(40)), sa.Column("items", sa.Text),
    sa.Column("comment", sa.Text), sa.Column("version", sa.Integer),
    sa.Column("graded_by", sa.String(100)), sa.Column("graded_at", sa.DateTime(timezone=True)),
    sa.Column("answer_digest", sa.String(64)),
)
events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True)), sa.Column("who", sa.String(100)),
    sa.Column("action", sa.String(40)), sa.Column("assignment", sa.String(100)),
    sa.Column("student", sa.String(200)), sa.Column("question", sa.String(40)),
    sa.Column("detail", sa.Text),
)


def default_url(out_dir: Path) -> str:
    return f"sqlite:///{(out_dir / FILE_NAME).resolve()}"


def exists(out_dir: Path, url: str | None) -> bool:
    """Whether there is a review database to merge (always assumed for a server URL)."""
    return url is not None or (out_dir / FILE_NAME).is_file()


def open_db(url: str) -> sa.Engine:
    """An engine on ``url`` with the schema at the newest migration (created when new)."""
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise ConfigError(f"--db {url}: cannot open this database URL ({exc})") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except sa.exc.SQLAlchemyError as exc:
        raise ConfigError(f"--db {url}: cannot open or upgrade the review database: "
                          f"{str(exc).splitlines()[0]}") from None
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()

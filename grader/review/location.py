"""Where the review database is, without importing SQLAlchemy: a run with no database (most
runs) merges nothing and need not load it (grader.review.merge)."""

from __future__ import annotations

from pathlib import Path

FILE_NAME = "review.db"


def default_url(out_dir: Path) -> str:
    return f"sqlite:///{(out_dir / FILE_NAME).resolve()}"


def exists(out_dir: Path, url: str | None) -> bool:
    """Whether there is a review database to merge (always assumed for a server URL)."""
    return url is not None or (out_dir / FILE_NAME).is_file()

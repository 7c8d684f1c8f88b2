"""``grade review OUT``: serve the review app for the written answers of a graded folder.

Prints one line, the URL with the token (``http://127.0.0.1:N/?token=...``), then serves until
interrupted. The database is ``OUT/review.db`` (SQLite, WAL) unless ``db_url`` names another
(PostgreSQL for TAs on different machines). Port 0 picks a free port (the URL says which).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.core.errors import ConfigError
from grader.review import answers, db
from grader.review.app import build_app, make_review


@dataclass(frozen=True)
class ReviewRequest:
    out_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    db_url: str | None = None
    show_names: bool = False


def serve(request: ReviewRequest, echo: Callable[[str], None] = print) -> None:
    import uvicorn

    if not request.out_dir.is_dir():
        raise ConfigError(f"{request.out_dir}: not a folder (run grade SOURCE --out "
                          f"{request.out_dir} first)")
    sheets = answers.load(request.out_dir)
    if not sheets:
        raise ConfigError(f"{request.out_dir}/answers: no answer sheets (the course has no "
                          "written questions, or grade has not run on this folder)")
    engine = db.open_db(request.db_url or db.default_url(request.out_dir))
    review = make_review(sheets, engine, show_names=request.show_names,
                         out_dir=request.out_dir)
    try:
        sock = socket.create_server((request.host, request.port))
    except OSError as exc:
        raise ConfigError(f"--port {request.port}: cannot listen on {request.host}: "
                          f"{exc.strerror}") from None
    port = sock.getsockname()[1]
    host = f"[{request.host}]" if ":" in request.host else request.host
    echo(f"http://{host}:{port}/?token={review.token}")
    config = uvicorn.Config(build_app(review), log_level="warning", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        engine.dispose()
        sock.close()

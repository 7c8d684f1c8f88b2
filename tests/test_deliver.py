"""Push grading delivers (issue 29): `grade ci` then `grade deliver` posts bob's feedback to a
GitHub API, here a local HTTP server on 127.0.0.1 that records every request and answers the
first ones with GitHub's rate-limit replies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers.sigmoid_sign import SIGMOID_CAUSE, sigmoid_notebook

from grader.core.course import DEFAULT_ROOT
from grader.integrations.deliver import clipped, retry_after

GRADE = [sys.executable, "-m", "grader.cli"]
SHA = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "ghs_test-token-not-real"


class Recorder(BaseHTTPRequestHandler):
    """Answers from ``server.script`` in turn (status, headers, body), then 201."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length", "0"))
        server: Any = self.server
        server.seen.append({"path": self.path, "time": time.monotonic(),
                            "auth": self.headers.get("Authorization"),
                            "body": json.loads(self.rfile.read(length))})
        status, headers, body = (server.script.pop(0) if server.script
                                 else (201, {}, {"html_url": "https://example.test/x"}))
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def github() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen, server.script = [], []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`grade ci` on bob's checkout with the sigmoid-sign notebook, as the runner does."""
    tmp = tmp_path_factory.mktemp("push")
    checkout = tmp / "bob-repo"
    sigmoid_notebook(checkout / "activations" / "activations.ipynb")
    done = subprocess.run([*GRADE, "ci", str(checkout), "--out", str(tmp / "report"),
                           "--student", "bob", "--assignment", "activations"],
                          cwd=DEFAULT_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"FAILED sigmoid: {SIGMOID_CAUSE}" in done.stdout  # the log: the same cause line
    return tmp / "report"


def deliver(report: Path, server: Any, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_TOKEN": TOKEN}
    return subprocess.run([*GRADE, "deliver", str(report), "--repository", "course/bob-nn",
                           "--sha", SHA, "--api", f"http://127.0.0.1:{server.server_port}",
                           *extra], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # GitHub's rate-limit waits, honoured for real
def test_the_comment_carries_bobs_cause_line_after_rate_limits(report: Path, github) -> None:
    # the 502 first: its backoff (2 s on the first attempt, 8 s on the third) is then short
    github.script = [
        (502, {}, {"message": "Bad gateway"}),
        (403, {"Retry-After": "1"}, {"message": "You have exceeded a secondary rate limit."}),
        (429, {"Retry-After": "1"}, {"message": "Too many requests"}),
    ]
    done = deliver(report, github, "--mode", "comment")
    assert done.returncode == 0, done.stderr
    assert "Feedback delivered: https://example.test/x" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
    assert [r["path"] for r in github.seen] == [f"/repos/course/bob-nn/commits/{SHA}/comments"] * 4
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in github.seen)
    gaps = [b["time"] - a["time"] for a, b in zip(github.seen, github.seen[1:], strict=False)]
    assert gaps[0] >= 1.95  # the first backoff of a server error
    assert gaps[1] >= 0.95 and gaps[2] >= 0.95  # Retry-After honoured
    body = github.seen[-1]["body"]["body"]
    assert SIGMOID_CAUSE in body.replace("\\", "")
    assert body.count("Not attempted yet:") == 1  # seven functions, one line


def test_a_check_run_on_the_graded_commit_or_an_issue_comment(report: Path, github) -> None:
    done = deliver(report, github)
    assert done.returncode == 0, done.stderr
    (run,) = github.seen
    assert run["path"] == "/repos/course/bob-nn/check-runs"
    payload = run["body"]
    assert payload["head_sha"] == SHA and payload["status"] == "completed"
    assert payload["name"] == "nn-grader feedback" and payload["conclusion"] == "neutral"
    assert SIGMOID_CAUSE in payload["output"]["summary"].replace("\\", "")
    done = deliver(report, github, "--mode", "comment", "--issue", "3")
    assert done.returncode == 0, done.stderr
    assert github.seen[-1]["path"] == "/repos/course/bob-nn/issues/3/comments"


def test_an_error_retrying_cannot_fix_is_one_line_at_once(report: Path, github) -> None:
    github.script = [(404, {}, {"message": "Not Found"})]
    done = deliver(report, github)
    assert done.returncode != 0 and len(github.seen) == 1
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("grade:")]
    assert line.startswith("grade: error: /repos/course/bob-nn/check-runs: GitHub answered 404")


def test_retry_waits_follow_githubs_headers() -> None:
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1060"}
    assert retry_after(403, limited, "API rate limit exceeded", 0, now=1000.0) == 60.0
    assert retry_after(403, {"Retry-After": "7"}, "secondary rate limit", 0, 0.0) == 7.0
    assert retry_after(403, {}, "Resource not accessible by integration", 0, 0.0) is None
    assert retry_after(503, {}, "", 2, 0.0) == 8.0
    assert retry_after(422, {}, "Validation Failed", 0, 0.0) is None
    long = "x" * 70_000
    assert len(clipped(long)) == 65_535 and clipped(long).endswith("artifact.)\n")

"""Push grading delivers: the student's feedback posted where the student looks on GitHub.

``grade deliver REPORT --repository OWNER/NAME --sha SHA`` (the grading runner, after
``grade ci``) posts the Markdown feedback of every assignment in REPORT (``grade ci``'s
``--out``: ``<student>/<assignment>/feedback.md``, already in the feedback engine's words and
showing only what the course's visibility lets the student see now) as

- ``check-run`` (default): a completed check run named ``nn-grader feedback`` on the graded
  commit, its ``output.summary`` the feedback (GitHub shows it on the commit and its pull
  requests; the HTML pages go into the workflow's artifact);
- ``comment``: a comment on the graded commit, or with ``--issue N`` on issue or pull
  request N.

Within GitHub's rate limits: one request per delivery; a 429, a 403 that names a secondary
rate limit, ``x-ratelimit-remaining: 0`` or a 5xx is retried after ``Retry-After`` seconds
(else until ``x-ratelimit-reset``, else an exponential backoff from 2 s), at most
:data:`ATTEMPTS` tries and :data:`MAX_WAIT_S` seconds of waiting in all. Anything else
(401, 404, 422) is a one-line DeliveryError at once: retrying cannot help. The token comes
from ``$GITHUB_TOKEN`` (or ``$GH_TOKEN``) and is never printed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from grader.core.errors import ConfigError, GraderError

API = "https://api.github.com"
CHECK_NAME = "nn-grader feedback"
#: GitHub's limits: a check run's output.summary and a comment's body, in characters.
SUMMARY_CHARS = 65_535
ATTEMPTS = 6
MAX_WAIT_S = 300.0
MODES = ("check-run", "comment")
_CUT = "\n\n(The feedback is cut here; the whole report is in the workflow's artifact.)\n"


class DeliveryError(GraderError):
    """The feedback could not be posted (after the retries a rate limit allows)."""


@dataclass(frozen=True)
class Target:
    repository: str
    sha: str
    token: str
    mode: str = "check-run"
    issue: int | None = None
    api: str = API

    def __post_init__(self) -> None:
        owner, _, name = self.repository.partition("/")
        if not owner or not name or "/" in name:
            raise ConfigError(f"--repository: {self.repository!r} is not OWNER/NAME")
        if len(self.sha) != 40 or any(c not in "0123456789abcdef" for c in self.sha):
            raise ConfigError(f"--sha: {self.sha!r} is not a 40-digit commit id")
        if self.mode not in MODES:
            raise ConfigError(f"--mode: {self.mode!r} is not one of {', '.join(MODES)}")
        if not self.token:
            raise ConfigError("$GITHUB_TOKEN: not set (a token that may write checks or "
                              "comments on the student's repository)")


def feedback_markdown(report: Path) -> str:
    """Every ``feedback.md`` under ``report`` (one per assignment), in a stable order."""
    pages = sorted(report.glob("*/*/feedback.md"))
    if not pages:
        raise ConfigError(f"{report}: no <student>/<assignment>/feedback.md in it (run "
                          "`grade ci --out` there first)")
    return "\n\n---\n\n".join(p.read_text(encoding="utf-8").strip() for p in pages) + "\n"


def clipped(text: str, limit: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - len(_CUT)] + _CUT


def request_for(target: Target, body: str, conclusion: str) -> tuple[str, dict[str, Any]]:
    """(path, JSON payload) of the one request that delivers ``body``."""
    repo = target.repository
    if target.mode == "check-run":
        return f"/repos/{repo}/check-runs", {
            "name": CHECK_NAME, "head_sha": target.sha, "status": "completed",
            "conclusion": conclusion,
            "output": {"title": "Feedback on your notebooks", "summary": clipped(body)}}
    if target.issue is not None:
        return f"/repos/{repo}/issues/{target.issue}/comments", {"body": clipped(body)}
    return f"/repos/{repo}/commits/{target.sha}/comments", {"body": clipped(body)}


def retry_after(status: int, headers: Message | Mapping[str, str], text: str,
                attempt: int, now: float) -> float | None:
    """Seconds to wait before trying again, or None when retrying cannot help."""
    value = headers.get("Retry-After")
    limited = status == 429 or (status == 403 and (
        "rate limit" in text.lower() or headers.get("x-ratelimit-remaining") == "0"))
    if not limited and status < 500:
        return None
    if value is not None and value.strip().isdigit():
        return float(value.strip())
    reset = headers.get("x-ratelimit-reset")
    if limited and reset is not None and reset.strip().isdigit():
        return max(1.0, float(reset) - now)
    return min(60.0, 2.0 * 2 ** attempt)


def send(target: Target, path: str, payload: Mapping[str, Any], *,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
         timeout: float = 30.0) -> dict[str, Any]:
    """POST ``payload`` to the API, retried as the module docstring says; the reply's JSON."""
    data = json.dumps(payload).encode("utf-8")
    waited = 0.0
    for attempt in range(ATTEMPTS):
        request = urllib.request.Request(
            target.api.rstrip("/") + path, data=data, method="POST",
            headers={"Authorization": f"Bearer {target.token}",
                     "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json",
                     "User-Agent": "nn-grader"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
                return json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")[:500]
            wait = retry_after(exc.code, exc.headers, text, attempt, clock())
            if wait is None:
                raise DeliveryError(f"{path}: GitHub answered {exc.code}: "
                                    f"{' '.join(text.split())[:200]}") from None
            last = f"{exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            wait, last = min(60.0, 2.0 * 2 ** attempt), str(getattr(exc, "reason", exc))
        if attempt + 1 == ATTEMPTS or waited + wait > MAX_WAIT_S:
            break
        sleep(wait)
        waited += wait
    raise DeliveryError(f"{path}: not delivered after {attempt + 1} tries and {waited:.0f} s "
                        f"of waiting (last: {last})")


def deliver(report: Path, target: Target, *, failed: bool = False,
            sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Post the feedback in ``report`` to ``target``; GitHub's reply (the check run or
    comment). ``failed``: the grader failed on the commit (the check run says so)."""
    body = feedback_markdown(report)
    path, payload = request_for(target, body, "neutral" if not failed else "failure")
    return send(target, path, payload, sleep=sleep)

"""The review app's guards: the start-up token, CSRF, and the headers of every response.

- Every request needs the token printed at start (as Jupyter does): once as ``?token=`` (the
  app then sets it as an HttpOnly, SameSite=Strict cookie and redirects to the same page
  without it), afterwards the cookie. Anything else is 403.
- Every POST carries the CSRF token of the forms (``csrf`` field), and a POST whose Origin
  is another site (or ``null``) is refused; SameSite=Strict already keeps the cookie off
  cross-site posts. (Referrer-Policy is same-origin, not no-referrer: with no-referrer a
  browser sends ``Origin: null`` on the app's own forms.)
- Every response says ``X-Content-Type-Options: nosniff`` and has a strict
  Content-Security-Policy: no inline script or style, nothing from elsewhere, no framing.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "grader_review"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": CSP,
           "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY",
           "Cache-Control": "no-store"}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


class Guard:
    """ASGI middleware: the token check and the security headers."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        request = Request(scope)
        if same(request.query_params.get("token"), self.token):
            rest = urlencode([(k, v) for k, v in request.query_params.multi_items()
                              if k != "token"])
            response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), 303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")
            await response(scope, receive, send_with_headers)
            return
        if not same(request.cookies.get(COOKIE), self.token):
            await PlainTextResponse("403: this review app needs the token printed at its "
                                    "start (open the URL it printed)", 403)(
                scope, receive, send_with_headers)
            return
        if request.method == "POST" and not _same_origin(request):
            await PlainTextResponse("403: a form from another site", 403)(
                scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")

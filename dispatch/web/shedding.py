"""Overload: a press the server cannot take in time is refused at once (503, Retry-After), never left to hang.

Presses wait for a request thread and then for the write turn. Past a few hundred in flight the wait grows by
seconds with nothing durable yet; in the intake benchmark at twice the capacity, responses took 7-25 s and the
connections of a few were closed with no answer at all. A prompt 503 tells the household device to send the same
press again (same Idempotency-Key, so it is never counted twice) and tells a person to call 120 meanwhile.
Only presses are limited: replies from vanguards and staff confirmations are light and must keep getting through.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

# (method, path) of the routes that take a press: the JSON API and the resident's page.
PRESS_ROUTES = frozenset({("POST", "/api/v1/incidents"), ("POST", "/resident/press")})
RETRY_AFTER_S = 1

REASON = (
    "The service is overloaded: this press was not recorded. Send it again in a second with the same "
    "Idempotency-Key. If this is an emergency, call 120 (ambulance), 110 (police) or 119 (fire) now."
)
PAGE = """<!doctype html><html lang="zh"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>请再按一次 / Press again</title>
<h1>系统繁忙，本次求助未记录，请再按一次。</h1>
<p><strong>紧急情况请立即拨打 120（急救）、110（报警）或 119（火警）。</strong></p>
<p>The service is busy and did not record this press: please press again.
<strong>In an emergency call 120, 110 or 119 now.</strong></p>
<p><a href="/resident">返回 / Back</a></p>
</html>"""


class PressShedding:
    """ASGI middleware: at most `limit()` presses in flight in this process; the next gets 503 at once. (The limit
    is read per press: the settings are loaded when the app starts, after the middleware is made.)"""

    def __init__(self, app: ASGIApp, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0  # touched only on the event loop's thread

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in PRESS_ROUTES:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit():
            await self._refuse(scope, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if scope["path"].startswith("/api/"):
            body, kind = json.dumps({"detail": REASON}).encode(), b"application/json"
        else:
            body, kind = PAGE.encode(), b"text/html; charset=utf-8"
        headers = [
            (b"content-type", kind),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER_S).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})

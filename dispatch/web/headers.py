"""Security headers on every answer, the JSON API's included (pages set stricter ones of their own, web/render.py).

No answer may be cached (they carry incidents, doors and one-tap credentials), sniffed into another type, framed,
or leak its address in a Referer. A header the route already set is left as it is; static files stay cacheable.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULTS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Cache-Control": "no-store",
}
CACHEABLE = ("/static/",)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"].startswith(CACHEABLE)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULTS.items():
                    if name not in headers and not (cacheable and name == "Cache-Control"):
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)

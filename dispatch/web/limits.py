"""Request bodies are limited before anything parses them: 413 with a reason, at once.

Without a limit, a 10 MB JSON body sent with a household token held the server for 9 s (parsing, validating, then
echoing it all back in the 422). The declared Content-Length is checked before a byte is read; a body sent without
one (chunked) is counted as it streams and refused as soon as it passes the limit, whatever the route would have
done with it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def reason(limit: int) -> str:
    return (
        f"The request body is larger than this service takes ({limit} bytes) and was not read. "
        "A press needs only a few hundred bytes. If this is an emergency, call 120, 110 or 119 now."
    )


class _TooLarge(Exception):
    """Raised inside the app's receive(): the app stops reading; the middleware answers."""


class BodyLimit:
    """ASGI middleware. `limit()` is read per request: the settings are loaded when the app starts, after the
    middleware is made."""

    def __init__(self, app: ASGIApp, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            # Whatever the app makes of the interrupted read (FastAPI turns it into a 400), the answer is the 413.
            nonlocal started
            if over:
                return
            started = True
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, counted, guarded)
        if over and not started:
            await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": reason(limit)}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),  # the rest of the body is never read: do not reuse this connection
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""One-tap link tokens never reach the access log: each is a credential for one vanguard's alert page.

uvicorn logs every request line with its path; a `/r/<token>` path is written as `/r/<redacted>`. The filter sits on
the access logger itself, so it holds whatever handlers the log configuration adds.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGERS = ("uvicorn.access", "uvicorn.error")
_LINK = re.compile(r"/r/[^/?#\s\"']+")
REDACTED = "/r/<redacted>"


def redact(text: str) -> str:
    return _LINK.sub(REDACTED, text)


class RedactLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
            logger.addFilter(RedactLinkTokens())

"""Rendering pages: templates, the language, and the security headers every page carries."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dispatch.clock import LOCAL_TZ
from dispatch.web.i18n import LANG_COOKIE, LANGS, lang_of, t

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

# Scripts only from our own origin (no inline script: an injected <script> cannot run), no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # one-tap links carry a credential: never leak them in a Referer
    "Cache-Control": "no-store",
}


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200, lang: str | None = None
) -> HTMLResponse:
    lang = lang or lang_of(request)
    other = "en" if lang == "zh" else "zh"
    full = {"lang": lang, "other_lang": other, "t": partial(t, lang), "tz": LOCAL_TZ, **context}
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response

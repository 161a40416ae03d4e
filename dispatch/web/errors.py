"""Error answers: a 422 says which field is wrong and why, and never repeats what was sent.

FastAPI's default 422 carries each error's `input`: a 10 MB body came back whole, and a NaN coordinate could not be
written as JSON at all, so the answer became a 500. Only where (`loc`), what (`msg`) and the kind (`type`) are kept.
A person's browser gets the same errors as a page it can read (web/error_pages.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from dispatch.web import error_pages

MAX_NAME = 64  # a key of the body is named in `loc`; an attacker's 60 KB key name is cut


def without_input(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for error in errors:
        loc = [part if isinstance(part, int) else str(part)[:MAX_NAME] for part in error.get("loc", ())]
        out.append({"loc": loc, "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))})
    return out


async def validation_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = without_input(exc.errors())
    if error_pages.wants_html(request):
        reasons = [".".join(str(p) for p in e["loc"][1:] or e["loc"]) + ": " + e["msg"] for e in errors]
        return error_pages.error_page(request, status.HTTP_422_UNPROCESSABLE_CONTENT, reasons)
    return JSONResponse(
        {"detail": errors},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        headers={"Cache-Control": "no-store"},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_exception_handler(HTTPException, error_pages.http_error)

"""Errors met on a phone or a screen are pages a person can read: Chinese first, English beside, the emergency
numbers on top, and a way back. Raw English JSON stays for the JSON API, the webhooks and scripts.

A request gets a page when it is not for the API and a browser asked for HTML, or when it is for one of the
screens (a one-tap link opened by an SMS app sends no Accept header worth trusting).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException

from dispatch.web.render import render

MACHINE_PATHS = ("/api/", "/webhooks/", "/healthz", "/openapi.json", "/docs", "/redoc", "/static/")
SCREEN_PATHS = ("/r/", "/resident", "/staff", "/login", "/logout", "/demo/")

# (Chinese, English) by status; a one-tap link's 404 says the link is the problem.
TITLES: dict[int, tuple[str, str]] = {
    400: ("请求无法处理", "This request could not be handled"),
    401: ("请先登录或绑定设备", "Log in or pair this device first"),
    403: ("无权执行此操作", "You cannot do this here"),
    404: ("找不到此页面", "This page does not exist"),
    405: ("无法这样打开此页面", "This page cannot be opened this way"),
    409: ("情况已经变化", "Things changed meanwhile"),
    422: ("填写的内容有误", "Something in what was sent is not right"),
}
LINK_GONE = ("此链接无效或已过期", "This link is not valid or has expired")
SOMETHING_WRONG = ("出错了", "Something went wrong")


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(MACHINE_PATHS):
        return False
    return "text/html" in request.headers.get("accept", "") or path == "/" or path.startswith(SCREEN_PATHS)


def way_back(path: str) -> str:
    for prefix, back in (
        ("/resident", "/resident"),
        ("/staff", "/staff"),
        ("/login", "/login"),
        ("/demo/", "/demo/phones"),
    ):
        if path.startswith(prefix):
            return back
    return "/"


def error_page(request: Request, status_code: int, reasons: Sequence[str]) -> Response:
    title = TITLES.get(status_code, SOMETHING_WRONG)
    if request.url.path.startswith("/r/") and status_code == 404:
        title = LINK_GONE
    context: dict[str, Any] = {
        "status_code": status_code,
        "title_zh": title[0],
        "title_en": title[1],
        "reasons": list(reasons),
        "back": way_back(request.url.path),
    }
    return render(request, "error.html", context, status_code=status_code)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code < 400 or not wants_html(request):  # redirects (log in first) stay redirects
        return await http_exception_handler(request, exc)
    reason = exc.detail if isinstance(exc.detail, str) else ""
    response = error_page(request, exc.status_code, [reason] if reason else [])
    if exc.headers:
        response.headers.update({k: v for k, v in exc.headers.items() if k.lower() != "content-type"})
    return response

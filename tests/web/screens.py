"""Verbs for the screen tests: log in, pair a device, read form fields, the way a browser would."""

from __future__ import annotations

import re

from httpx import Response
from starlette.testclient import TestClient

from dispatch.runtime import Runtime
from tests.support.flow import pick_up, texts


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} field in the page"
    return found.group(1)


def login(client: TestClient, staff_id: str, password: str = "demo") -> Response:
    token = field(client.get("/login").text, "form_token")
    return client.post(
        "/login", data={"login": staff_id, "password": password, "form_token": token}, follow_redirects=False
    )


def pair(client: TestClient, device_code: str = "hh_token_one") -> Response:
    token = field(client.get("/resident").text, "form_token")
    return client.post("/resident/pair", data={"device_code": device_code, "form_token": token}, follow_redirects=False)


def press_on_page(client: TestClient, **extra: str) -> Response:
    page = client.get("/resident").text
    data = {"csrf": field(page, "csrf"), "idempotency_key": field(page, "idempotency_key"), **extra}
    r = client.post("/resident/press", data=data, follow_redirects=False)
    if r.status_code == 303:
        pick_up(client)
    return r


def status_line(client: TestClient) -> str:
    found = re.search(r'id="status-line"[^>]*>([^<]*)<', client.get("/resident").text)
    assert found, "no live status on the resident page"
    return found.group(1)


def link_path(runtime: Runtime, phone: str) -> str:
    found = re.search(r"https://dispatch\.example\.org(/r/[\w.\-]+)", texts(runtime, phone)[0])
    assert found, "no one-tap link in the SMS"
    return found.group(1)


def second_client(client: TestClient) -> TestClient:
    """Another browser on the same app (its own cookies)."""
    return TestClient(client.app, base_url="https://dispatch.example.org")

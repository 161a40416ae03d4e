"""What an attacker could do (issue 17), one test per finding: each asserts the refusal, and that nothing was lost
or leaked. Through the app's HTTP interface (TestClient and httpx's ASGI transport, as a client sends it)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
from sqlalchemy import func, select
from starlette.testclient import TestClient

from dispatch.incidents.models import Incident
from dispatch.runtime import Runtime
from tests.support.flow import auth, press

LIMIT = 64 * 1024


def incidents(runtime: Runtime) -> int:
    with runtime.readers() as session:
        return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


# -- 1. request bodies are limited before they are parsed ------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_unread_with_a_reason_and_the_next_press_goes_through(
    client: TestClient, runtime: Runtime
) -> None:
    huge = json.dumps({"kind": "medical", "note": "x" * (10 * 1024 * 1024)})
    headers = {**auth("hh_token_one"), "Content-Type": "application/json"}
    r = client.post("/api/v1/incidents", content=huge, headers=headers)
    assert r.status_code == 413
    assert "65536 bytes" in r.json()["detail"] and "120" in r.json()["detail"]
    assert len(r.content) < 1024, "nothing of the body comes back"
    assert incidents(runtime) == 0
    assert press(client).status_code == 201, "the server goes on taking presses"


def test_a_streamed_body_without_a_length_is_counted_and_refused_once_past_the_limit(
    client: TestClient, runtime: Runtime
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"kind": "medical", "note": "'
        for _ in range(1000):  # 16 MB if it were all read
            sent += 1
            yield b"y" * 16384
        yield b'"}'

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://dispatch.example.org") as http:
            return await http.post("/api/v1/incidents", content=chunks(), headers=auth("hh_token_one"))

    r = asyncio.run(scenario())
    assert r.status_code == 413 and "65536 bytes" in r.json()["detail"]
    assert sent <= 6, "reading stopped just past the limit"
    assert incidents(runtime) == 0


def test_a_body_at_the_limit_is_read_and_a_setting_moves_the_limit(client: TestClient, runtime: Runtime) -> None:
    note = "z" * 400
    assert press(client, kind="medical", note=note).status_code == 201
    runtime.settings = replace(runtime.settings, max_body_bytes=100)
    r = press(client, token="hh_token_two", kind="medical", note=note)
    assert r.status_code == 413 and "100 bytes" in r.json()["detail"]


def test_a_422_names_the_wrong_field_without_repeating_what_was_sent(client: TestClient, runtime: Runtime) -> None:
    secret = "门禁密码 4711#" * 50
    r = client.post("/api/v1/incidents", json={"kind": secret}, headers=auth("hh_token_one"))
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "kind"] and error["msg"] and set(error) == {"loc", "msg", "type"}
    assert "4711" not in r.text and "input" not in r.text
    r = client.post("/api/v1/incidents", json={"kind": "medical", "k" * 5000: 1}, headers=auth("hh_token_one"))
    assert r.status_code == 422 and len(r.text) < 500, "an attacker's key name is cut"
    assert incidents(runtime) == 0

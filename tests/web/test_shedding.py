"""Overload: past the limit of presses in flight, the next press is refused at once with a reason and a retry
hint (503, Retry-After), never left to hang; the same press sent again is then taken, and only once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import httpx
from sqlalchemy import func, select
from starlette.testclient import TestClient

from dispatch.app import create_app
from dispatch.incidents.models import Incident
from dispatch.runtime import Runtime
from tests.support.flow import auth

PRESS = json.dumps({"kind": "medical"}).encode()
T = TypeVar("T")


def while_one_press_is_in_flight(
    runtime: Runtime, meanwhile: Callable[[httpx.AsyncClient], Awaitable[T]]
) -> tuple[T, httpx.Response]:
    """With a limit of one press in flight: hold one press open (its body is slow to come), run `meanwhile`,
    then let the held press finish. Returns what `meanwhile` returned and the held press's response."""
    runtime.settings = replace(runtime.settings, presses_in_flight_max=1)
    app = create_app(runtime, start_background=False)
    body_may_go = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        await body_may_go.wait()
        yield PRESS

    async def scenario() -> tuple[T, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://dispatch.example.org") as client:
            held = asyncio.create_task(
                client.post(
                    "/api/v1/incidents",
                    content=slow_body(),
                    headers={**auth("hh_token_one"), "Content-Type": "application/json"},
                )
            )
            await asyncio.sleep(0.2)
            result = await meanwhile(client)
            body_may_go.set()
            return result, await held

    return asyncio.run(scenario())


def test_a_press_past_the_limit_is_refused_at_once_and_taken_when_sent_again(runtime: Runtime) -> None:
    headers = {**auth("hh_token_two"), "Idempotency-Key": "k-2", "Content-Type": "application/json"}

    async def meanwhile(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        refused = await client.post("/api/v1/incidents", content=PRESS, headers=headers)
        not_a_press = await client.get("/api/v1/incidents", headers=auth("hh_token_two"))
        return refused, not_a_press

    (refused, not_a_press), held = while_one_press_is_in_flight(runtime, meanwhile)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    reason = refused.json()["detail"]
    assert "not recorded" in reason and "Idempotency-Key" in reason and "120" in reason
    assert not_a_press.status_code == 200, "only presses are limited"
    assert held.status_code == 201

    with TestClient(create_app(runtime, start_background=False), base_url="https://dispatch.example.org") as client:
        taken = client.post("/api/v1/incidents", content=PRESS, headers=headers)
    assert taken.status_code == 201, "sent again once the other is done: taken"
    with runtime.readers() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 2


def test_the_resident_page_is_told_in_words_to_press_again_and_call_120(runtime: Runtime) -> None:
    async def meanwhile(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post("/resident/press", data={"csrf": "x", "idempotency_key": "k"})

    page, _ = while_one_press_is_in_flight(runtime, meanwhile)
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "请再按一次" in page.text and "120" in page.text and "press again" in page.text

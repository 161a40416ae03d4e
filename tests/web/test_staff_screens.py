"""The grid worker's board and the incident page: live list, who was alerted and accepted, confirm, audit."""

from __future__ import annotations

import asyncio

from starlette.testclient import TestClient

from dispatch.incidents.models import Incident
from dispatch.runtime import Runtime
from dispatch.web import live
from tests.support.flow import deliver, press, reply, timeline_types
from tests.web.screens import field, login

DOCTOR = "+8617000000001"


def test_the_board_shows_who_was_alerted_who_accepted_and_the_level(client: TestClient, runtime: Runtime) -> None:
    incident = press(client).json()
    deliver(runtime)
    reply(runtime, DOCTOR, "1")
    login(client, "S3")
    board = client.get("/staff").text
    assert f"#{incident['code']}" in board and "李医生" in board and "王护士" in board
    assert '<svg class="map"' in board and "第一网格" in board
    assert "李医生" in client.get("/staff/board-fragment").text


def test_a_grid_worker_confirms_on_scene_then_resolved(client: TestClient, runtime: Runtime) -> None:
    incident = press(client).json()
    deliver(runtime)
    login(client, "S3")
    csrf = field(client.get("/staff").text, "csrf")
    url = f"/staff/incidents/{incident['id']}/confirm"
    assert client.post(url, data={"csrf": csrf, "outcome": "on_scene"}).status_code == 200
    assert client.post(url, data={"csrf": csrf, "outcome": "resolved"}).status_code == 200
    assert client.post(url, data={"csrf": csrf, "outcome": "resolved"}).status_code == 409
    types = timeline_types(client, incident["id"])
    assert types.index("on_scene") < types.index("resolved")


def test_opening_an_incident_shows_the_door_and_is_audited(client: TestClient, runtime: Runtime) -> None:
    incident = press(client).json()
    deliver(runtime)
    login(client, "S3")
    page = client.get(f"/staff/incidents/{incident['id']}").text
    assert "501" in page and "+8617000000001" in page
    login(client, "S6")
    audit = client.get("/staff/audit").text
    assert "冯网格员" in audit and "view_incident" in audit and "household:H1" in audit


def test_the_board_stream_moves_when_the_grid_changes(runtime: Runtime, client: TestClient) -> None:
    press(client)
    with runtime.readers() as session:
        before = live.newest_event_id(session, Incident.grid_id == "G1")
        assert live.newest_event_id(session, Incident.grid_id == "G2") == 0
    deliver(runtime)
    reply(runtime, DOCTOR, "1")
    with runtime.readers() as session:
        assert live.newest_event_id(session, Incident.grid_id == "G1") > before


def test_the_event_stream_sends_on_change_only_and_ends_when_closed() -> None:
    states = iter([(1, {"closed": False}), (1, {"closed": False}), (2, {"closed": True})])

    async def collect() -> list[str]:
        return [chunk async for chunk in live.sse(lambda: next(states), poll_s=0)]

    sent = asyncio.run(collect())
    assert sent == ["retry: 2000\n\n", 'data: {"closed": false}\n\n', 'data: {"closed": true}\n\n']

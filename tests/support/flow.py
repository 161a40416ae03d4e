"""Small verbs for tests that play an incident through the service."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from dispatch.runtime import Runtime
from dispatch.web.pages import simulated_reply
from notify.simulated import inbox

# What household H1's medical press pages at t = 0, in parallel (default policy, tiny community): the three nearest
# medics, a first-aider to fetch the AED, and the building's group leader.
FIRST_WAVE = 5


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def press(client: TestClient, token: str = "hh_token_one", key: str | None = None, **body: Any) -> Any:
    headers = auth(token)
    if key:
        headers["Idempotency-Key"] = key
    r = client.post("/api/v1/incidents", json=body or {"kind": "medical"}, headers=headers)
    if r.status_code == 201:
        pick_up(client)
    return r


def pick_up(client: TestClient) -> int:
    """What the background worker does the moment a press commits (tests run without it): fire due timers, so the
    new incident's step 0 (matching, the first wave) runs."""
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime.worker.timers.run_due()


def deliver(runtime: Runtime) -> int:
    """Run the outbox until nothing is due; returns how many messages left."""
    total = 0
    while sent := runtime.worker.deliver():
        total += len(sent)
    return total


def tick(runtime: Runtime) -> int:
    fired = runtime.worker.timers.run_due()
    deliver(runtime)
    return fired


def texts(runtime: Runtime, phone: str) -> list[str]:
    with runtime.readers() as session:
        return [m.body for m in inbox(session, phone) if m.direction == "in"]


def phones_alerted(runtime: Runtime) -> set[str]:
    with runtime.readers() as session:
        return {m.phone for m in inbox(session) if m.direction == "in" and "回复 1" in m.body}


def reply(runtime: Runtime, phone: str, body: str) -> str:
    return simulated_reply(runtime, phone, body)


def timeline_types(client: TestClient, incident_id: str, token: str = "st_duty") -> list[str]:
    r = client.get(f"/api/v1/incidents/{incident_id}", headers=auth(token))
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["timeline"]]


def shows_the_door(text: str) -> bool:
    """Whether `text` gives household H1's door (flat 501) as every screen and message writes it. A bare "501" may
    turn up by chance in a link token, a CSRF value or an incident id."""
    return "501室" in text or "unit 501" in text

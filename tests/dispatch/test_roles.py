"""Support roles and late answers: an AED fetcher's yes never stands the doctor down; a yes after help is on
scene is thanked, not an error."""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.incidents.models import Page
from dispatch.runtime import Runtime
from tests.support.flow import auth, deliver, press, reply, texts, timeline_types


def pages(runtime: Runtime, incident_id: str) -> list[Page]:
    with runtime.readers() as session:
        return list(session.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id)))


def test_an_aed_fetcher_accepting_is_briefed_but_the_search_for_the_responder_goes_on(
    client: TestClient, runtime: Runtime
) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    fetcher = next(p for p in pages(runtime, incident["id"]) if p.role == "aed_fetcher")
    responder = next(p for p in pages(runtime, incident["id"]) if p.role == "responder")

    assert reply(runtime, fetcher.phone, "1") == "support_accepted"
    deliver(runtime)
    brief = texts(runtime, fetcher.phone)[-1]
    assert "501" in brief and "AED" in brief, "the fetcher gets the door and which AED to bring"
    state = client.get(f"/api/v1/incidents/{incident['id']}", headers=auth("st_duty")).json()
    assert state["status"] == "dispatching" and state["accepted_by"] is None
    assert not any("无需前往" in t for t in texts(runtime, responder.phone)), "nobody was stood down"

    assert reply(runtime, responder.phone, "1") == "accepted"
    by_person = {p.person_id: p.status for p in pages(runtime, incident["id"])}
    assert by_person[fetcher.person_id] == "accepted" and by_person[responder.person_id] == "accepted"
    assert "support_accepted" in timeline_types(client, incident["id"])


def test_when_the_responder_accepts_first_the_open_aed_role_stays_open_and_then_closes(
    client: TestClient, runtime: Runtime
) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    fetchers = [p for p in pages(runtime, incident["id"]) if p.role == "aed_fetcher"]
    responder = next(p for p in pages(runtime, incident["id"]) if p.role == "responder")
    assert fetchers
    assert reply(runtime, responder.phone, "1") == "accepted"
    assert reply(runtime, responder.phone, "3") == "on_scene"
    still = {p.person_id: p.status for p in pages(runtime, incident["id"])}
    assert all(still[f.person_id] == "paged" for f in fetchers), "the AED is still wanted with the doctor there"
    assert all(
        s == "stood_down"
        for pid, s in still.items()
        if pid not in {responder.person_id} | {f.person_id for f in fetchers}
    )
    assert reply(runtime, fetchers[0].phone, "1") == "support_accepted"


def test_a_grid_workers_on_scene_with_nobody_accepted_keeps_the_search_for_a_qualified_responder(
    client: TestClient, runtime: Runtime
) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    waiting = [p for p in pages(runtime, incident["id"]) if p.role == "responder"]
    confirmed = client.post(
        f"/api/v1/incidents/{incident['id']}/confirm", json={"status": "on_scene"}, headers=auth("st_worker_g1")
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "on_scene"
    deliver(runtime)
    assert not any(any("无需前往" in t for t in texts(runtime, p.phone)) for p in waiting), "nobody qualified is there"
    assert reply(runtime, waiting[0].phone, "1 " + incident["code"]) == "accepted"


def test_a_yes_after_a_qualified_responder_is_on_scene_is_late_not_an_error(
    client: TestClient, runtime: Runtime
) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    waiting = [p for p in pages(runtime, incident["id"]) if p.role == "responder"]
    assert reply(runtime, waiting[0].phone, "1") == "accepted"
    confirmed = client.post(
        f"/api/v1/incidents/{incident['id']}/confirm",
        json={"status": "on_scene", "responder": waiting[0].person_id},
        headers=auth("st_worker_g1"),
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "on_scene"
    deliver(runtime)
    rest = waiting[1:]
    assert all(any("无需前往" in t for t in texts(runtime, p.phone)) for p in rest), "those paged stand down"
    assert reply(runtime, rest[0].phone, "1 " + incident["code"]) == "late"

"""The resident's screen: pair once, one big button, kind optional, live status, cancel, 120/110/119 always."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.testclient import TestClient

from dispatch.incidents.models import Incident
from dispatch.runtime import Runtime
from dispatch.web import live
from tests.support.flow import deliver, reply
from tests.web.screens import field, pair, press_on_page, status_line

DOCTOR = "+8617000000001"
REMINDER = ('href="tel:120"', 'href="tel:110"', 'href="tel:119"')


def _count(runtime: Runtime) -> int:
    with runtime.readers() as session:
        return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


def test_every_resident_page_shows_the_120_110_119_reminder(client: TestClient, runtime: Runtime) -> None:
    assert all(r in client.get("/resident").text for r in REMINDER)
    pair(client)
    assert all(r in client.get("/resident").text for r in REMINDER)
    press_on_page(client)
    assert all(r in client.get("/resident").text for r in REMINDER)


def test_a_wrong_device_code_does_not_pair(client: TestClient) -> None:
    assert pair(client, "not-a-token").headers["location"] == "/resident?error=pair_failed"
    assert "device_code" in client.get("/resident").text


def test_one_press_defaults_to_medical_and_the_status_follows_to_acceptance(
    client: TestClient, runtime: Runtime
) -> None:
    pair(client)
    assert press_on_page(client).status_code == 303
    deliver(runtime)
    assert status_line(client) == "已呼叫 4 位先锋"
    with runtime.readers() as session:
        assert session.scalar(select(Incident.kind)) == "medical"
    reply(runtime, DOCTOR, "1")
    assert status_line(client).startswith("李医生 已接单，约")
    assert client.get("/resident?lang=en").text.count("Dr.") == 0  # names stay as written
    assert "accepted, about" in status_line(client), "the language is remembered"


def test_one_tap_on_a_kind_button_presses_with_that_kind(client: TestClient, runtime: Runtime) -> None:
    pair(client)
    assert 'name="kind" value="fire"' in client.get("/resident").text
    press_on_page(client, kind="fire")
    with runtime.readers() as session:
        assert session.scalar(select(Incident.kind)) == "fire"


def test_pressing_twice_makes_one_incident(client: TestClient, runtime: Runtime) -> None:
    pair(client)
    page = client.get("/resident").text
    data = {"csrf": field(page, "csrf"), "idempotency_key": field(page, "idempotency_key"), "kind": "fall"}
    assert client.post("/resident/press", data=data, follow_redirects=False).status_code == 303
    assert client.post("/resident/press", data=data, follow_redirects=False).status_code == 303
    assert _count(runtime) == 1


def test_the_phone_location_is_sent_with_its_crs(client: TestClient, runtime: Runtime) -> None:
    pair(client)
    press_on_page(client, lat="25.8500", lon="114.9270", crs="WGS84")
    with runtime.readers() as session:
        assert session.scalar(select(Incident.location_source)) == "gps"


def test_the_press_needs_the_session_csrf_token(client: TestClient, runtime: Runtime) -> None:
    pair(client)
    r = client.post("/resident/press", data={"csrf": "forged", "idempotency_key": "k"})
    assert r.status_code == 403 and _count(runtime) == 0


def test_false_alarm_cancels_and_the_event_stream_reports_it_and_ends(client: TestClient, runtime: Runtime) -> None:
    pair(client)
    press_on_page(client)
    page = client.get("/resident").text
    incident_id = field(page, "incident_id")
    client.post("/resident/cancel", data={"csrf": field(page, "csrf"), "incident_id": incident_id})
    with runtime.readers() as session:
        assert session.get(Incident, incident_id).status == "cancelled"  # type: ignore[union-attr]
    stream = client.get(f"/resident/events?incident={incident_id}")
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert '"status": "cancelled"' in stream.text and '"closed": true' in stream.text
    assert "press-form" in client.get("/resident").text, "the button is back for the next emergency"


def test_the_status_sentence_for_each_stage() -> None:
    def snap(status: str, alerted: int = 0, name: str | None = None, eta: float | None = None) -> live.Snapshot:
        return live.Snapshot("i", "ABC", "medical", status, 1, alerted, name, eta, False, ())

    assert live.status_line(snap("dispatching", 3), "en") == "3 vanguards alerted"
    assert live.status_line(snap("accepted", 3, "Dr. Li", 95), "en") == "Dr. Li accepted, about 2 min away"
    assert live.status_line(snap("on_scene"), "en") == "A vanguard is on scene"
    assert live.status_line(snap("reported"), "zh") == "已受理，正在寻找先锋"

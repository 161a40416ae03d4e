"""The demo's simulated phones: every SMS and call, clickable one-tap links, replies and keypresses."""

from __future__ import annotations

from starlette.testclient import TestClient

from dispatch.clock import FakeClock
from dispatch.incidents.models import Incident
from dispatch.runtime import Runtime
from dispatch.web.pages import phone_ref, read_call
from tests.support.flow import deliver, press, tick
from tests.web.screens import field

DOCTOR = "+8617000000001"
DUTY = "+8617000000105"


def test_the_phones_page_lists_phones_and_makes_one_tap_links_clickable(client: TestClient, runtime: Runtime) -> None:
    incident = press(client).json()
    deliver(runtime)
    page = client.get(f"/demo/phones?ref={phone_ref(runtime, DOCTOR)}").text
    listing = client.get("/demo/phones").text
    assert "李医生" in listing and f"ref={phone_ref(runtime, DOCTOR)}" in listing and "phone=" not in listing
    assert '<a href="/r/' in page and 'name="body"' in page
    client.post("/demo/phones/reply", data={"phone": DOCTOR, "body": "1"})
    with runtime.readers() as session:
        assert session.get(Incident, incident["id"]).accepted_by == "V1"  # type: ignore[union-attr]
    assert field(client.get(f"/demo/phones?ref={phone_ref(runtime, DOCTOR)}").text, "phone") == DOCTOR


def test_a_key_pressed_on_a_simulated_call_answers_the_alert(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    incident = press(client).json()
    deliver(runtime)
    for _ in range(5):  # nobody answers: the search widens up to the duty officer, who is also called
        clock.advance(31)
        tick(runtime)
    page = client.get(f"/demo/phones?ref={phone_ref(runtime, DUTY)}").text
    assert "按 1 接单" in page, "the duty officer's call offers the keys"
    page_id = field(page, "page")
    assert (
        client.post("/demo/phones/keypress", data={"phone": DOCTOR, "page": page_id, "digit": "1"}).status_code == 404
    )
    client.post("/demo/phones/keypress", data={"phone": DUTY, "page": page_id, "digit": "1"})
    with runtime.readers() as session:
        found = session.get(Incident, incident["id"])
        assert found is not None and found.status == "accepted" and found.accepted_by == "S5"


def test_a_call_is_read_from_its_twiml() -> None:
    twiml = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="https://x/webhooks/twilio/voice/gather?page=7">'
        "<Say>有人求助</Say><Say>Help needed</Say></Gather><Say>再见</Say></Response>"
    )
    call = read_call(twiml)
    assert call is not None and call.page_id == 7 and call.said == "有人求助 Help needed"
    assert read_call("not xml") is None

"""The flow through the real twilio client (pointed at a local fake) and signed Twilio webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.app import create_app
from dispatch.clock import FakeClock
from dispatch.incidents.models import Page
from dispatch.runtime import Runtime, build_runtime
from dispatch.settings import Settings, TwilioSettings
from notify.signatures import sign_twilio_request
from tests.fakes.fake_twilio import FakeTwilio
from tests.support.flow import FIRST_WAVE, auth, deliver, pick_up, press, tick

SID, TOKEN, FROM = "AC" + "0" * 32, "twilio-auth-token", "+15005550006"
BASE = "https://dispatch.example.org"
DOCTOR = "+8617000000001"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN) as fake:
        yield fake


@pytest.fixture
def twilio_runtime(settings: Settings, clock: FakeClock, twilio: FakeTwilio) -> Iterator[Runtime]:
    configured = Settings(**{**settings.__dict__, "twilio": TwilioSettings(SID, TOKEN, FROM, twilio.base_url)})
    rt = build_runtime(configured, clock=clock)
    yield rt
    rt.stop()


@pytest.fixture
def twilio_client(twilio_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(twilio_runtime, start_background=False), base_url=BASE) as c:
        yield c


def signed_post(client: TestClient, path: str, params: dict[str, str], token: str = TOKEN) -> object:
    signature = sign_twilio_request(token, BASE + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def test_alerts_go_out_through_the_real_twilio_client(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio
) -> None:
    incident = press(twilio_client, kind="medical").json()
    assert deliver(twilio_runtime) == FIRST_WAVE
    sent = {m.form["To"]: m.form for m in twilio.messages}
    assert DOCTOR in sent
    assert sent[DOCTOR]["From"] == FROM
    assert f"#{incident['code']}" in sent[DOCTOR]["Body"]
    assert sent[DOCTOR]["StatusCallback"] == BASE + "/webhooks/twilio/status"
    timeline = twilio_client.get(f"/api/v1/incidents/{incident['id']}", headers=auth("st_duty")).json()["timeline"]
    provider_ids = {e["detail"].get("provider_id") for e in timeline if e["type"] == "alert_sent"}
    assert provider_ids == {m.sid for m in twilio.messages}, "each provider message id is kept"


def test_a_signed_sms_reply_accepts_and_a_forged_one_is_refused(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio
) -> None:
    incident = press(twilio_client, kind="medical").json()
    deliver(twilio_runtime)
    reply = {"From": DOCTOR, "Body": "1", "MessageSid": "SM" + "1" * 32}
    assert signed_post(twilio_client, "/webhooks/twilio/sms", reply, token="wrong").status_code == 403
    unsigned = twilio_client.post("/webhooks/twilio/sms", data=reply)
    assert unsigned.status_code == 403
    tampered = signed_post(twilio_client, "/webhooks/twilio/sms", {**reply, "Body": "2"})
    assert tampered.status_code == 200  # a valid signature over other params is a different, valid request
    state = twilio_client.get(f"/api/v1/incidents/{incident['id']}", headers=auth("st_duty")).json()
    assert state["status"] == "dispatching", "the decline did not accept"

    other_incident = press(twilio_client, token="hh_token_three", kind="medical").json()
    deliver(twilio_runtime)
    ok = signed_post(
        twilio_client,
        "/webhooks/twilio/sms",
        {"From": DOCTOR, "Body": f"1 {other_incident['code']}", "MessageSid": "SM" + "2" * 32},
    )
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/xml")
    state = twilio_client.get(f"/api/v1/incidents/{other_incident['id']}", headers=auth("st_duty")).json()
    assert state["status"] == "accepted"
    deliver(twilio_runtime)
    details = [m.form["Body"] for m in twilio.messages if m.form["To"] == DOCTOR and "谢谢您接单" in m.form["Body"]]
    assert len(details) == 1 and "201室" in details[0], "the door of household H3 goes to the accepter"


def test_a_provider_outage_delays_alerts_but_loses_none(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio, clock: FakeClock
) -> None:
    twilio.fail_next(503, times=FIRST_WAVE)
    press(twilio_client, kind="medical")
    assert deliver(twilio_runtime) == FIRST_WAVE  # one attempt each, all refused
    assert not [m for m in twilio.messages if m.status == 201]
    clock.advance(1)
    deliver(twilio_runtime)
    assert len({m.form["To"] for m in twilio.messages if m.status == 201}) == FIRST_WAVE


def test_delivery_status_callbacks_are_verified_and_recorded(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio
) -> None:
    press(twilio_client, kind="medical")
    deliver(twilio_runtime)
    sid = twilio.messages[0].sid
    assert sid
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    assert twilio_client.post("/webhooks/twilio/status", data=params).status_code == 403
    assert signed_post(twilio_client, "/webhooks/twilio/status", params).status_code == 204
    from sqlalchemy import select

    from notify.models import OutboxMessage

    with twilio_runtime.readers() as session:
        assert session.scalar(select(OutboxMessage.delivery_status).where(OutboxMessage.provider_id == sid)) == (
            "delivered"
        )


def test_without_credentials_the_webhooks_are_off_and_the_demo_phones_are_on(client: TestClient) -> None:
    assert client.post("/webhooks/twilio/sms", data={"From": DOCTOR, "Body": "1"}).status_code == 404
    assert client.get("/demo/phones").status_code == 200


# -- voice, channel failover, status callbacks, intake by phone ------------------------------------------------------

HOUSEHOLD_H1_PHONE = "+8617000000900"
DUTY = "+8617000000105"
LEADER_B1, SECRETARY_G1, WORKER_G1 = "+8617000000101", "+8617000000102", "+8617000000103"


def incident_state(client: TestClient, incident_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/incidents/{incident_id}", headers=auth("st_duty"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_an_sms_that_keeps_failing_becomes_a_voice_call_with_the_same_alert(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio, clock: FakeClock
) -> None:
    incident = press(twilio_client, kind="medical").json()
    twilio.fail_next(503, times=3 * FIRST_WAVE)  # every alert, three attempts each
    for _ in range(3):
        deliver(twilio_runtime)
        clock.advance(5)
    deliver(twilio_runtime)
    called = {c.form["To"]: c.form for c in twilio.calls}
    assert DOCTOR in called, "after three failed SMS attempts the alert rings instead"
    twiml = called[DOCTOR]["Twiml"]
    assert "<Gather" in twiml and "/webhooks/twilio/voice/gather?page=" in twiml
    assert " ".join(incident["code"]) in twiml, "the code is spoken letter by letter"
    assert not [m for m in twilio.messages if m.form["To"] == DOCTOR], "no SMS went through"
    assert "alert_failed_over" in [e["type"] for e in incident_state(twilio_client, incident["id"])["timeline"]]


def test_a_keypress_on_the_alert_call_accepts_and_a_replayed_one_changes_nothing(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio
) -> None:
    incident = press(twilio_client, kind="medical").json()
    deliver(twilio_runtime)
    with twilio_runtime.readers() as session:
        page_id = session.scalar(select(Page.id).where(Page.phone == DOCTOR))
    path = f"/webhooks/twilio/voice/gather?page={page_id}"
    params = {"CallSid": "CA" + "7" * 32, "Digits": "1", "From": FROM, "To": DOCTOR}
    assert twilio_client.post(path, data=params).status_code == 403, "unsigned keypresses are refused"
    first = signed_post(twilio_client, path, params)
    assert first.status_code == 200 and "<Say" in first.text and "谢谢您接单" in first.text
    again = signed_post(twilio_client, path, params)
    assert again.status_code == 200
    state = incident_state(twilio_client, incident["id"])
    assert state["status"] == "accepted"
    assert [e["type"] for e in state["timeline"]].count("accepted") == 1


def test_a_busy_or_unanswered_call_pages_the_next_candidate_at_once(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio, clock: FakeClock
) -> None:
    incident = press(twilio_client, kind="medical").json()
    twilio.fail_next(503, times=3 * FIRST_WAVE)
    for _ in range(4):
        deliver(twilio_runtime)
        clock.advance(5)
    [call] = [c for c in twilio.calls if c.form["To"] == DOCTOR]
    before = {m.form["To"] for m in twilio.messages} | {c.form["To"] for c in twilio.calls}
    callback = {"CallSid": call.sid or "", "CallStatus": "no-answer"}
    assert signed_post(twilio_client, "/webhooks/twilio/status", callback).status_code == 204
    assert signed_post(twilio_client, "/webhooks/twilio/status", callback).status_code == 204  # Twilio retried
    deliver(twilio_runtime)
    after = {m.form["To"] for m in twilio.messages} | {c.form["To"] for c in twilio.calls}
    assert len(after - before) == 1, "exactly one replacement, at once, without waiting for the timer"
    types = [e["type"] for e in incident_state(twilio_client, incident["id"])["timeline"]]
    assert types.count("no_answer") == 1


def test_an_undelivered_sms_moves_on_and_rings_the_same_person(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio
) -> None:
    press(twilio_client, kind="medical")
    deliver(twilio_runtime)
    [sms] = [m for m in twilio.messages if m.form["To"] == DOCTOR]
    alerted = {m.form["To"] for m in twilio.messages}
    callback = {"MessageSid": sms.sid or "", "MessageStatus": "undelivered"}
    assert signed_post(twilio_client, "/webhooks/twilio/status", callback).status_code == 204
    deliver(twilio_runtime)
    assert [c.form["To"] for c in twilio.calls] == [DOCTOR], "the same alert as a call"
    assert len({m.form["To"] for m in twilio.messages} - alerted) == 1, "and the next candidate is paged"


def test_a_registered_household_calling_the_community_number_opens_one_incident(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio
) -> None:
    params = {"CallSid": "CA" + "5" * 32, "From": HOUSEHOLD_H1_PHONE, "To": FROM}
    first = signed_post(twilio_client, "/webhooks/twilio/voice/incoming", params)
    assert first.status_code == 200 and "<Say" in first.text and "120" in first.text
    assert signed_post(twilio_client, "/webhooks/twilio/voice/incoming", params).status_code == 200  # retried
    pick_up(twilio_client)
    listed = twilio_client.get("/api/v1/incidents", headers=auth("st_duty")).json()
    assert len(listed) == 1 and listed[0]["status"] == "dispatching"
    assert " ".join(listed[0]["code"]) in first.text, "the caller hears the incident's code"
    deliver(twilio_runtime)
    assert len(twilio.messages) == FIRST_WAVE, "the first wave is paged as for the button"


def test_an_unknown_caller_is_put_through_to_the_duty_officer(twilio_client: TestClient) -> None:
    params = {"CallSid": "CA" + "6" * 32, "From": "+8613900000000", "To": FROM}
    r = signed_post(twilio_client, "/webhooks/twilio/voice/incoming", params)
    assert r.status_code == 200 and f">{DUTY}</Dial>" in r.text
    assert twilio_client.get("/api/v1/incidents", headers=auth("st_duty")).json() == []


def test_a_household_texting_the_number_opens_an_incident_and_an_unknown_sender_reaches_the_duty_officer(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio
) -> None:
    text = {"From": HOUSEHOLD_H1_PHONE, "Body": "我摔倒了 起不来", "MessageSid": "SM" + "3" * 32}
    assert signed_post(twilio_client, "/webhooks/twilio/sms", text).status_code == 200
    assert signed_post(twilio_client, "/webhooks/twilio/sms", text).status_code == 200  # retried: still one
    listed = twilio_client.get("/api/v1/incidents", headers=auth("st_duty")).json()
    assert [i["kind"] for i in listed] == ["fall"]
    stranger = {"From": "+8613900000001", "Body": "help", "MessageSid": "SM" + "4" * 32}
    assert signed_post(twilio_client, "/webhooks/twilio/sms", stranger).status_code == 200
    deliver(twilio_runtime)
    to_household = [m.form["Body"] for m in twilio.messages if m.form["To"] == HOUSEHOLD_H1_PHONE]
    assert len(to_household) == 1 and f"#{listed[0]['code']}" in to_household[0] and "120" in to_household[0]
    assert any("+8613900000001" in m.form["Body"] for m in twilio.messages if m.form["To"] == DUTY)


def test_a_busy_duty_officer_is_not_rung_again_before_everyone_else_in_the_chain_was_asked_again(
    twilio_client: TestClient, twilio_runtime: Runtime, twilio: FakeTwilio, clock: FakeClock
) -> None:
    press(twilio_client, kind="distress")  # nobody has counseling: building leader, grid branch, duty officer
    deliver(twilio_runtime)
    clock.advance(90)
    tick(twilio_runtime)  # the grid branch
    clock.advance(30)
    tick(twilio_runtime)  # the duty officer, texted and rung
    [call] = [c for c in twilio.calls if c.form["To"] == DUTY]
    busy = signed_post(twilio_client, "/webhooks/twilio/status", {"CallSid": call.sid or "", "CallStatus": "busy"})
    assert busy.status_code == 204
    clock.advance(10)
    tick(twilio_runtime)
    assert len([c for c in twilio.calls if c.form["To"] == DUTY]) == 1, "a busy line is not rung again at once"
    texted: list[str] = []
    for _ in range(4):
        clock.advance(30)
        before = len(twilio.messages)
        tick(twilio_runtime)
        texted += [m.form["To"] for m in twilio.messages[before:]]
    assert texted == [LEADER_B1, SECRETARY_G1, WORKER_G1, DUTY], "everyone asked again, one by one, the officer last"
    assert len([c for c in twilio.calls if c.form["To"] == DUTY]) == 2


def test_a_key_other_than_1_or_2_changes_nothing(twilio_client: TestClient, twilio_runtime: Runtime) -> None:
    incident = press(twilio_client, kind="medical").json()
    deliver(twilio_runtime)
    with twilio_runtime.readers() as session:
        page_id = session.scalar(select(Page.id).where(Page.phone == DOCTOR))
    r = signed_post(twilio_client, f"/webhooks/twilio/voice/gather?page={page_id}", {"Digits": "9", "CallSid": "CA1"})
    assert r.status_code == 200 and "<Say" in r.text
    assert incident_state(twilio_client, incident["id"])["status"] == "dispatching"

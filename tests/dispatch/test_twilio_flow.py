"""The flow through the real twilio client (pointed at a local fake) and signed Twilio webhooks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from dispatch.app import create_app
from dispatch.clock import FakeClock
from dispatch.runtime import Runtime, build_runtime
from dispatch.settings import Settings, TwilioSettings
from notify.signatures import sign_twilio_request
from tests.fakes.fake_twilio import FakeTwilio
from tests.support.flow import auth, deliver, press

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
    assert deliver(twilio_runtime) == 3
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
    twilio.fail_next(503, times=3)
    press(twilio_client, kind="medical")
    assert deliver(twilio_runtime) == 3  # three attempts, all refused
    assert not [m for m in twilio.messages if m.status == 201]
    clock.advance(1)
    deliver(twilio_runtime)
    assert len({m.form["To"] for m in twilio.messages if m.status == 201}) == 3


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

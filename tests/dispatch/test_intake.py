"""Intake: a press becomes a durable, located incident and the first wave is paged."""

from __future__ import annotations

from starlette.testclient import TestClient

from dispatch.runtime import Runtime
from geo.crs import Crs, from_wgs84
from tests.support.flow import auth, deliver, phones_alerted, press, shows_the_door, texts, timeline_types

V1_DOCTOR, V2_NURSE, V4_OFF_CALL_DOCTOR, V3_ELECTRICIAN = (
    "+8617000000001",
    "+8617000000002",
    "+8617000000004",
    "+8617000000003",
)
V5_AED_FETCHER, V6_FIRST_AID, S1_BUILDING_LEADER = "+8617000000005", "+8617000000006", "+8617000000101"


def test_a_household_press_is_located_at_its_building_and_pages_the_nearest_on_call_medics(
    client: TestClient, runtime: Runtime
) -> None:
    r = press(client, kind="medical")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["building"], body["grid"], body["zone"], body["out_of_area"]) == ("B1", "G1", "Z1", False)
    assert body["status"] == "reported", "acknowledged once durable, before anyone is paged"
    assert client.get(r.headers["Location"], headers=auth("hh_token_one")).json()["status"] == "dispatching"
    assert r.headers["Location"] == f"/api/v1/incidents/{body['id']}"
    assert "120" in body["reminder"]

    # At t = 0, in parallel: the three nearest medics, a first-aider to fetch the AED, the building's leader.
    assert deliver(runtime) == 5
    alerted = phones_alerted(runtime)
    assert alerted == {V1_DOCTOR, V2_NURSE, V6_FIRST_AID, V5_AED_FETCHER, S1_BUILDING_LEADER}
    assert V4_OFF_CALL_DOCTOR not in alerted, "off call"
    assert V3_ELECTRICIAN not in alerted, "no medical skill"
    sms = texts(runtime, V1_DOCTOR)[0]
    assert f"#{body['code']}" in sms and "回复 1 接单" in sms and "120" in sms
    assert not shows_the_door(sms), "the door number is only for whoever accepts"


def test_the_timeline_records_press_location_and_alerts(client: TestClient, runtime: Runtime) -> None:
    incident = press(client).json()
    deliver(runtime)
    types = timeline_types(client, incident["id"])
    assert types[:4] == ["pressed", "located", "dispatching", "paged"]
    assert types.count("alert_sent") == 5
    paged = next(
        e
        for e in client.get(f"/api/v1/incidents/{incident['id']}", headers=auth("st_duty")).json()["timeline"]
        if e["type"] == "paged"
    )
    assert all("why" in r and "eta_s" in r for r in paged["detail"]["recipients"]), "each ranking is explained"


def test_the_same_idempotency_key_returns_the_same_incident(client: TestClient) -> None:
    first = press(client, key="press-123")
    again = press(client, key="press-123")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


def test_presses_from_one_household_within_minutes_merge_but_households_never_merge(client: TestClient) -> None:
    one = press(client, token="hh_token_one").json()
    again = press(client, token="hh_token_one", key="different-key")
    other = press(client, token="hh_token_three")
    assert again.status_code == 200 and again.json()["id"] == one["id"]
    assert other.status_code == 201 and other.json()["id"] != one["id"]
    assert "pressed_again" in timeline_types(client, one["id"])


def test_a_gcj02_fix_from_a_phone_is_converted_before_locating(client: TestClient) -> None:
    lat, lon = from_wgs84(25.8500, 114.9330, Crs.GCJ02)  # building B2, as a Chinese phone reports it
    r = press(client, kind="fall", location={"lat": lat, "lon": lon, "crs": "GCJ02"})
    assert r.status_code == 201, r.text
    assert (r.json()["building"], r.json()["grid"]) == ("B2", "G2")
    # Read as if it were WGS-84 the same numbers land hundreds of metres away, outside the community.
    wrong = press(client, token="hh_token_three", kind="fall", location={"lat": lat, "lon": lon, "crs": "WGS84"})
    assert wrong.json()["out_of_area"] is True


def test_a_report_outside_the_community_is_accepted_and_goes_to_the_duty_officer(
    client: TestClient, runtime: Runtime
) -> None:
    r = press(client, location={"lat": 25.80, "lon": 114.90, "crs": "WGS84"})
    assert r.status_code == 201
    assert r.json()["out_of_area"] is True and r.json()["grid"] is None
    deliver(runtime)
    assert phones_alerted(runtime) == {"+8617000000105"}


def test_bad_input_gets_a_clear_4xx(client: TestClient) -> None:
    assert press(client, token="nope").status_code == 401
    assert client.post("/api/v1/incidents", json={"kind": "medical"}).status_code == 401
    wrong_household = press(client, kind="medical", household="H2")
    assert wrong_household.status_code == 403 and "another household" in wrong_household.text
    bad_lat = press(client, location={"lat": 123, "lon": 114.9, "crs": "WGS84"})
    assert bad_lat.status_code == 422 and "lat" in bad_lat.text
    not_a_number = press(client, location={"lat": "north", "lon": 114.9, "crs": "WGS84"})
    assert not_a_number.status_code == 422 and "lat" in not_a_number.text
    bad_crs = press(client, location={"lat": 25.85, "lon": 114.93, "crs": "ED50"})
    assert bad_crs.status_code == 422 and "crs" in bad_crs.text
    assert press(client, kind="earthquake").status_code == 422
    malformed = client.post(
        "/api/v1/incidents", content=b"{not json", headers={**auth("hh_token_one"), "Content-Type": "application/json"}
    )
    assert malformed.status_code == 422 and "JSON" in malformed.text
    staff = press(client, token="st_duty")
    assert staff.status_code == 403


def test_only_the_household_and_staff_in_scope_see_an_incident(client: TestClient) -> None:
    incident = press(client, token="hh_token_one").json()  # building B1, grid G1
    url = f"/api/v1/incidents/{incident['id']}"
    assert client.get(url, headers=auth("hh_token_one")).status_code == 200
    assert client.get(url, headers=auth("hh_token_three")).status_code == 403
    assert client.get(url, headers=auth("st_worker_g1")).status_code == 200
    assert client.get(url, headers=auth("st_worker_g2")).status_code == 403
    assert client.get(url, headers=auth("st_leader_b1")).status_code == 200
    assert client.get(url, headers=auth("st_duty")).status_code == 200
    assert client.get(url).status_code == 401
    assert client.get("/api/v1/incidents/does-not-exist", headers=auth("st_duty")).status_code == 404
    listed = client.get("/api/v1/incidents", headers=auth("st_worker_g2")).json()
    assert incident["id"] not in {i["id"] for i in listed}


def test_a_press_holds_one_pooled_connection_at_a_time(client: TestClient, runtime: Runtime) -> None:
    """Under load every request thread holding one connection while waiting for a second emptied the pool and
    stalled intake for the pool's 30 s timeout: a request takes at most one at a time."""
    import threading

    from sqlalchemy import event

    held: dict[int, int] = {}
    most: dict[int, int] = {}

    def checkout(*_: object) -> None:
        me = threading.get_ident()
        held[me] = held.get(me, 0) + 1
        most[me] = max(most.get(me, 0), held[me])

    def checkin(*_: object) -> None:
        held[threading.get_ident()] -= 1

    event.listen(runtime.engine, "checkout", checkout)
    event.listen(runtime.engine, "checkin", checkin)
    try:
        assert (
            client.post("/api/v1/incidents", json={"kind": "medical"}, headers=auth("hh_token_one")).status_code == 201
        )
    finally:
        event.remove(runtime.engine, "checkout", checkout)
        event.remove(runtime.engine, "checkin", checkin)
    assert most and max(most.values()) == 1

"""Locating and matching on a real database: typed addresses, walking ETAs, live positions, the AED fetcher.

The tiny test community gets real-looking addresses and two streets here, so the walking network is loaded.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from dispatch.clock import LOCAL_TZ, FakeClock
from dispatch.runtime import Runtime
from dispatch.vanguards import service as vanguards
from geo.crs import Crs
from tests.support.community import write_tiny_community
from tests.support.flow import auth, deliver, phones_alerted, press

ADDRESSES = {
    "B1": "江西省赣州市章贡区解放街道文清路1号1栋",
    "B2": "江西省赣州市章贡区解放街道章江路2号1栋",
    "B3": "江西省赣州市章贡区解放街道文清路1号2栋",
    "B4": "江西省赣州市章贡区解放街道文清路3号1栋",
}
V1_DOCTOR = "+8617000000001"


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    out = write_tiny_community(tmp_path / "community")
    buildings = json.loads((out / "buildings.geojson").read_text(encoding="utf-8"))
    for f in buildings["features"]:
        f["properties"]["address"] = ADDRESSES[f["properties"]["building_id"]]
    (out / "buildings.geojson").write_text(json.dumps(buildings, ensure_ascii=False), encoding="utf-8")
    # An east-west street and a north-south one, crossing at a shared vertex.
    cross = [114.9280, 25.8498]
    streets = [
        [[114.9260, 25.8498], cross, [114.9340, 25.8498]],
        [[114.9280, 25.8460], cross, [114.9280, 25.8540]],
    ]
    (out / "streets.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": {"type": "LineString", "coordinates": s}, "properties": {}}
                    for s in streets
                ],
            }
        ),
        encoding="utf-8",
    )
    return out


def incident(client: TestClient, incident_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/incidents/{incident_id}", headers=auth("st_duty"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def paged(client: TestClient, incident_id: str) -> list[dict[str, Any]]:
    return [
        p for e in incident(client, incident_id)["timeline"] if e["type"] == "paged" for p in e["detail"]["recipients"]
    ]


def test_a_typed_address_locates_the_door_and_its_floor(client: TestClient, runtime: Runtime) -> None:
    r = press(client, kind="fire", address="解放街道 文清路1号2幢 1单元 五楼01")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["building"] == "B3"
    located = next(e for e in body["timeline"] if e["type"] == "located")["detail"]
    assert (located["floor"], located["entrance"], located["unit"]) == (5, 1, "501")
    assert located["confidence"] >= 0.95


def test_an_ambiguous_address_gets_422_with_the_candidates(client: TestClient) -> None:
    r = press(client, kind="medical", address="文清路1号")  # 1栋 or 2栋?
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail["field"] == "address"
    assert {c["building"] for c in detail["candidates"]} == {"B1", "B3"}
    nothing = press(client, kind="medical", address="火星基地")
    assert nothing.status_code == 422 and nothing.json()["detail"]["candidates"] == []


def test_each_page_says_why_in_walking_terms_and_an_aed_fetcher_is_sent(client: TestClient, runtime: Runtime) -> None:
    r = press(client, kind="medical")  # H1 in B1, floor 5
    assert r.status_code == 201, r.text
    recipients = [p for p in paged(client, r.json()["id"]) if p["role"] != "staff"]  # the leader: no ranking
    assert len(recipients) == 4, "three medics and the AED fetcher"
    fetcher = [p for p in recipients if p["role"] == "aed_fetcher"]
    assert len(fetcher) == 1 and fetcher[0]["why"].startswith("fetches A1")
    for p in recipients:
        assert "m walk" in p["why"] and "accepts ~" in p["why"], p
    assert all(p["person"] not in ("V3", "V4") for p in recipients), "no skill / off call"


def test_a_fresh_live_position_counts_and_a_stale_one_falls_back_home(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    with runtime.sessions.begin() as session:
        # V1 (doctor, home B3 next door) is out of town; V7 (doctor, home in the east) is standing by B1.
        vanguards.report_position(session, runtime.ctx.directory, "V1", 25.8300, 114.9000, Crs.WGS84, clock.now())
        vanguards.report_position(session, runtime.ctx.directory, "V7", 25.8501, 114.9271, Crs.WGS84, clock.now())
    r = press(client, token="hh_token_three", kind="medical")  # H3 in B3
    recipients = {p["person"]: p for p in paged(client, r.json()["id"])}
    assert "V7" in recipients and "from live position" in recipients["V7"]["why"]
    assert "V1" not in recipients, "far away right now"
    assert runtime.ctx.directory.vanguard("V1").position == "live"  # type: ignore[union-attr]

    clock.advance(seconds=11 * 60)  # past the policy's 600 s freshness limit
    assert sorted(runtime.ctx.directory.expire_positions(clock.now(), 600)) == ["V1", "V7"]
    v1 = runtime.ctx.directory.vanguard("V1")
    assert v1 is not None and v1.position == "home"


def test_a_vanguard_who_switched_off_is_never_paged(client: TestClient, runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        vanguards.set_available(session, runtime.ctx.directory, "V1", False)
    r = press(client, kind="medical")
    assert r.status_code == 201
    deliver(runtime)
    assert V1_DOCTOR not in phones_alerted(runtime)
    assert "V1" not in {p["person"] for p in paged(client, r.json()["id"])}


def test_positions_survive_a_restart_through_the_database(runtime: Runtime, clock: FakeClock) -> None:
    from dispatch.directory import Directory

    with runtime.sessions.begin() as session:
        vanguards.report_position(session, runtime.ctx.directory, "V2", 25.8501, 114.9271, Crs.GCJ02, clock.now())
    with runtime.readers() as session:
        reloaded = Directory.load(session)
    v2 = reloaded.vanguard("V2")
    assert v2 is not None and v2.position == "live"
    assert (v2.x, v2.y) == pytest.approx(
        (runtime.ctx.directory.vanguard("V2").x, runtime.ctx.directory.vanguard("V2").y)
    )  # type: ignore[union-attr]


def test_answers_are_read_back_as_each_persons_history(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    from sqlalchemy import select

    from dispatch.incidents.models import Page
    from dispatch.vanguards.acceptance import acceptance_probability, load_histories

    r = press(client, kind="medical")
    with runtime.sessions.begin() as session:
        pages = list(session.scalars(select(Page).where(Page.incident_id == r.json()["id"])))
        for page, status in zip(pages, ["declined", "accepted", "paged"], strict=False):
            page.status = status
    with runtime.readers() as session:
        history = load_histories(session, since=clock.now() - timedelta(days=1))
    by_status = {p.person_id: p.status for p in pages}
    declined = next(k for k, v in by_status.items() if v == "declined")
    accepted = next(k for k, v in by_status.items() if v == "accepted")
    assert (sum(history[declined].offers), sum(history[declined].accepted)) == (1, 0)
    assert (sum(history[accepted].offers), sum(history[accepted].accepted)) == (1, 1)
    assert len(history) == 2, "a page still awaiting an answer says nothing yet"
    assert acceptance_probability(0.3, history[declined], clock.now()) < 0.3
    assert acceptance_probability(0.3, history[accepted], clock.now()) > 0.3


def test_answer_histories_are_re_read_at_most_once_a_minute(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    from sqlalchemy import select

    from dispatch.incidents.models import Page
    from dispatch.vanguards.acceptance import HistoryCache

    cache = HistoryCache()
    r = press(client, kind="medical")
    with runtime.readers() as session:
        assert cache.get(session, clock.now()) == {}, "nobody has answered yet"
    with runtime.sessions.begin() as session:
        page = session.scalars(select(Page).where(Page.incident_id == r.json()["id"])).first()
        assert page is not None
        page.status = "declined"
    clock.advance(59)
    with runtime.readers() as session:
        assert cache.get(session, clock.now()) == {}, "a minute's staleness is allowed"
    clock.advance(1)
    with runtime.readers() as session:
        assert sum(cache.get(session, clock.now())[page.person_id].offers) == 1


def test_nobody_accepts_more_likely_than_the_ceiling_the_search_stops_on(runtime: Runtime, clock: FakeClock) -> None:
    from sqlalchemy import select

    from dispatch.vanguards.acceptance import AnswerHistory, acceptance_probability
    from dispatch.vanguards.models import Vanguard

    directory = runtime.ctx.directory
    with runtime.readers() as session:
        ids = list(session.scalars(select(Vanguard.id)))
    now = clock.now()
    eager = AnswerHistory()
    for _ in range(30):  # says yes to everything: well above anyone's roster rate
        eager.add(now.astimezone(LOCAL_TZ).hour, accepted=True)
    history = {ids[-1]: eager, ids[0]: AnswerHistory()}

    def p(vid: str, answers: dict[str, AnswerHistory]) -> float:
        candidate = directory.vanguard(vid)
        assert candidate is not None
        return acceptance_probability(candidate.accept_rate, answers.get(vid), now)

    for answers in ({}, history):
        ceiling = directory.acceptance_ceiling(answers, now)
        assert all(p(vid, answers) <= ceiling for vid in ids)
        assert max(p(vid, answers) for vid in ids) == pytest.approx(ceiling), "and no looser than it must be"
    assert directory.acceptance_ceiling(history, now) > directory.acceptance_ceiling({}, now)

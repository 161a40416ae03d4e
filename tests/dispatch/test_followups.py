"""After the first answer: the on-scene bound re-opens a lapsed acceptance; wellbeing follow-ups and the opt-out;
the search moves at once when a whole level is unreachable; the alert budget; replies rate limited."""

from __future__ import annotations

import math

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.clock import FakeClock
from dispatch.incidents.models import Incident, Page
from dispatch.runtime import Runtime
from notify.models import WellbeingCheck
from tests.support.flow import auth, deliver, phones_alerted, press, reply, texts, tick, timeline_types

DOCTOR, DUTY, LEADER_B1 = "+8617000000001", "+8617000000105", "+8617000000101"


def resolve(client: TestClient, incident_id: str) -> None:
    url = f"/api/v1/incidents/{incident_id}/confirm"
    assert client.post(url, json={"status": "resolved"}, headers=auth("st_worker_g1")).status_code == 200


def accepted_page(runtime: Runtime, phone: str) -> Page:
    with runtime.readers() as session:
        page = session.scalars(select(Page).where(Page.phone == phone)).one()
    assert page.eta_s is not None
    return page


def test_a_primary_not_on_scene_by_eta_times_factor_plus_margin_lapses_and_the_search_reopens(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    assert reply(runtime, DOCTOR, "1") == "accepted"
    page = accepted_page(runtime, DOCTOR)
    bound = page.eta_s * 1.5 + 60  # the default policy's no-show factor and margin
    clock.advance(bound - 1)
    tick(runtime)
    assert accepted_page(runtime, DOCTOR).status == "accepted", "within the doctor's own bound nothing lapses"
    alerted = phones_alerted(runtime)
    clock.advance(1)
    tick(runtime)
    state = client.get(f"/api/v1/incidents/{incident['id']}", headers=auth("st_duty")).json()
    assert state["status"] == "dispatching", "nobody else on the way: searching again"
    assert phones_alerted(runtime) - alerted, "the next wave opens at once"
    assert "no_show" in timeline_types(client, incident["id"])
    assert any("未确认到场" in t for t in texts(runtime, DOCTOR)), "the lapsed accepter is told"
    assert reply(runtime, DOCTOR, "3") == "on_scene", "arriving late still counts"
    assert client.get(f"/api/v1/incidents/{incident['id']}", headers=auth("st_duty")).json()["status"] == "on_scene"


def test_on_scene_in_time_is_never_a_no_show(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    reply(runtime, DOCTOR, "1")
    assert reply(runtime, DOCTOR, "3") == "on_scene"
    for _ in range(6):
        clock.advance(600)
        tick(runtime)
    assert accepted_page(runtime, DOCTOR).status == "on_scene"
    types = timeline_types(client, incident["id"])
    assert "no_show" not in types and types.count("qualified_on_scene") == 1


def test_the_accepter_is_asked_how_it_went_later_and_a_wish_to_talk_reaches_the_duty_officer(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    reply(runtime, DOCTOR, "1")
    resolve(client, incident["id"])
    deliver(runtime)
    clock.advance(7199)
    deliver(runtime)
    assert not any("这次出勤还好吗" in t for t in texts(runtime, DOCTOR)), "not before two hours"
    clock.advance(1)
    deliver(runtime)
    assert any(f"#{incident['code']}" in t and "这次出勤还好吗" in t for t in texts(runtime, DOCTOR))
    assert reply(runtime, DOCTOR, "2 想聊聊") == "support_requested"
    deliver(runtime)
    assert any("希望有人联系" in t for t in texts(runtime, DUTY))
    with runtime.readers() as session:
        check = session.scalar(select(WellbeingCheck))
    assert check is not None and check.status == "answered" and check.needs_support is True
    assert "wellbeing_answer" in timeline_types(client, incident["id"])


def test_an_opt_out_takes_effect_at_once_even_for_a_queued_follow_up(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    reply(runtime, DOCTOR, "1")
    resolve(client, incident["id"])
    assert reply(runtime, DOCTOR, "TD") == "opted_out"
    clock.advance(3 * 3600)
    deliver(runtime)
    assert not any("这次出勤还好吗" in t for t in texts(runtime, DOCTOR))
    assert any("已为您取消出勤回访" in t for t in texts(runtime, DOCTOR))
    second = press(client, token="hh_token_three", kind="medical").json()
    deliver(runtime)
    reply(runtime, DOCTOR, "1")
    resolve(client, second["id"])
    with runtime.readers() as session:
        assert session.scalar(select(WellbeingCheck).where(WellbeingCheck.incident_id == second["id"])) is None


def test_when_everyone_at_a_level_has_declined_the_next_level_comes_at_once(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    press(client, kind="distress")  # nobody has counseling: the building leader is the first level paged
    deliver(runtime)
    assert phones_alerted(runtime) == {LEADER_B1}
    assert reply(runtime, LEADER_B1, "2") == "declined"
    tick(runtime)  # no clock advance: the next level is due now
    assert {"+8617000000102", "+8617000000103"} <= phones_alerted(runtime), "the grid branch, without waiting"


def test_a_vanguard_over_the_daily_alert_budget_is_not_paged_again(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    for i in range(12):
        press(client, token="hh_token_one", key=f"k{i}", kind="medical")
        client.post(
            f"/api/v1/incidents/{client.get('/api/v1/incidents', headers=auth('st_duty')).json()[0]['id']}/cancel",
            headers=auth("hh_token_one"),
        )
        clock.advance(400)
    with runtime.readers() as session:
        times_paged = len(session.scalars(select(Page.id).where(Page.phone == DOCTOR)).all())
    assert times_paged == 12
    press(client, token="hh_token_one", key="k-last", kind="medical")
    with runtime.readers() as session:
        latest = session.scalars(select(Page.phone).order_by(Page.id.desc()).limit(3)).all()
    assert DOCTOR not in latest, "twelve alerts in a day is the budget"


def test_replies_to_one_phone_are_rate_limited(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    for _ in range(8):
        reply(runtime, DOCTOR, "hello?")
        clock.advance(1)
    deliver(runtime)
    assert len(texts(runtime, DOCTOR)) == 5


def test_when_the_nearest_have_spent_their_alert_budget_the_replacement_comes_from_further_out(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    earlier = press(client, token="hh_token_two", kind="medical").json()
    client.post(f"/api/v1/incidents/{earlier['id']}/cancel", headers=auth("hh_token_two"))
    incident = press(client, kind="medical").json()
    with runtime.readers() as session:
        wave = {p.person_id: p.phone for p in session.scalars(select(Page).where(Page.incident_id == incident["id"]))}
        responders = {
            p.person_id
            for p in session.scalars(select(Page).where(Page.incident_id == incident["id"], Page.role == "responder"))
        }
    directory = runtime.ctx.directory
    home = directory.buildings["B1"]
    medics = {"V1", "V2", "V5", "V6", "V7", "V8", "V9"}  # on call, with a medical skill

    def distance(vanguard_id: str) -> float:
        c = directory.vanguard(vanguard_id)
        assert c is not None
        return math.dist((c.x, c.y), (home.x, home.y))

    rest = sorted(medics - set(wave), key=distance)
    spent, farthest = rest[:-1], rest[-1]  # all but the farthest spent: a search for two finds nobody
    with runtime.sessions.begin() as session:
        template = session.get(Incident, earlier["id"])
        assert template is not None
        for i in range(12):
            old = Incident(
                id=f"budget{i}", code=f"ZZ{i}", kind="medical", status="cancelled", household_id="H2",
                location_source="household", reported_at=clock.now(), escalation_level=0, plan=template.plan,
                out_of_area=False,
            )  # fmt: skip
            session.add(old)
            session.flush()
            for person in spent:
                session.add(
                    Page(
                        incident_id=old.id, person_id=person, person_kind="vanguard", role="responder", name=person,
                        phone=f"+86170000000{person[1:]}", step=0, status="declined", paged_at=clock.now(),
                    )
                )  # fmt: skip
    deliver(runtime)
    decliner = next(p for v, p in wave.items() if v in medics and v in responders)
    assert reply(runtime, decliner, "2") == "declined"
    with runtime.readers() as session:
        paged = set(session.scalars(select(Page.person_id).where(Page.incident_id == incident["id"])))
    assert paged - set(wave) == {farthest}, "twelve alerts in a day is the budget; the next within it is paged"

"""Answers: several may accept (the soonest is primary), declines move on at once, arrival stands the rest down."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch import responses
from dispatch.incidents.models import Incident, Page
from dispatch.incidents.service import CODE_ALPHABET
from dispatch.responses import Intent, parse_reply
from dispatch.runtime import Runtime
from tests.support.flow import auth, deliver, phones_alerted, press, reply, shows_the_door, texts, timeline_types

DOCTOR, NURSE = "+8617000000001", "+8617000000002"


@pytest.mark.parametrize(
    ("body", "intent", "code"),
    [
        ("1", Intent.ACCEPT, None),
        (" y ", Intent.ACCEPT, None),
        ("Yes!", Intent.ACCEPT, None),
        ("是", Intent.ACCEPT, None),
        ("接", Intent.ACCEPT, None),
        ("１", Intent.ACCEPT, None),
        ("2", Intent.DECLINE, None),
        ("n", Intent.DECLINE, None),
        ("否", Intent.DECLINE, None),
        ("1 K7R", Intent.ACCEPT, "K7R"),
        ("#k7r 2", Intent.DECLINE, "K7R"),
        ("1K7R", Intent.ACCEPT, "K7R"),
        ("3", Intent.ON_SCENE, None),
        ("hello", Intent.UNKNOWN, None),
        ("", Intent.UNKNOWN, None),
    ],
)
def test_replies_are_read_with_noise_case_and_chinese(body: str, intent: Intent, code: str | None) -> None:
    assert parse_reply(body) == (intent, code)


def test_several_accept_the_soonest_is_primary_the_others_back_up_until_a_qualified_responder_is_there(
    client: TestClient, runtime: Runtime
) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    alerted = phones_alerted(runtime)
    assert reply(runtime, NURSE, "1") == "accepted"
    assert reply(runtime, DOCTOR, "1") == "accepted"
    deliver(runtime)

    for phone in (DOCTOR, NURSE):
        details = [t for t in texts(runtime, phone) if shows_the_door(t)]
        assert details and "2单元" in details[0] and "5楼" in details[0], "every accepter gets the exact door"
    assert "第一响应人" in next(t for t in texts(runtime, DOCTOR) if shows_the_door(t)), "the doctor is due first"
    assert any("后援" in t for t in texts(runtime, NURSE)), "the nurse hears she is backup and keeps coming"
    for phone in alerted - {DOCTOR, NURSE}:
        assert not any("无需前往" in t for t in texts(runtime, phone)), "nobody stood down before anyone is there"
        assert not any(shows_the_door(t) for t in texts(runtime, phone)), "nobody else learns the door"
    state = client.get(f"/api/v1/incidents/{incident['id']}", headers=auth("hh_token_one")).json()
    assert state["status"] == "accepted" and state["accepted_by_name"] == "李医生"

    assert reply(runtime, DOCTOR, "3") == "on_scene"
    deliver(runtime)
    with runtime.readers() as session:
        support = {p.phone for p in session.scalars(select(Page).where(Page.role != "responder"))}
    assert any("可以返回" in t for t in texts(runtime, NURSE)), "the backup may turn back once a doctor is there"
    for phone in alerted - {DOCTOR, NURSE} - support:
        assert any("无需前往" in t for t in texts(runtime, phone)), phone
    types = timeline_types(client, incident["id"])
    assert types.count("accepted") == 2 and "qualified_on_scene" in types


def test_a_decline_pages_the_next_candidate_at_once(client: TestClient, runtime: Runtime) -> None:
    press(client, kind="medical")
    deliver(runtime)
    before = phones_alerted(runtime)
    assert reply(runtime, DOCTOR, "2") == "declined"
    deliver(runtime)
    assert len(phones_alerted(runtime) - before) == 1


@pytest.mark.parametrize("backend", ["postgis"])  # SQLite reads under its one write lock: nothing is stale
def test_a_decline_that_crossed_an_arrival_pages_nobody_new(client: TestClient, runtime: Runtime) -> None:
    press(client, kind="medical")
    deliver(runtime)
    first_wave = phones_alerted(runtime)
    with runtime.sessions.begin() as declining:
        # The nurse's "2" arrives: her page and the incident are read, still searching...
        page, incident = declining.execute(
            select(Page, Incident).join(Incident, Incident.id == Page.incident_id).where(Page.phone == NURSE)
        ).one()
        assert incident.status == "dispatching"
        # ...while the doctor's "1" and "3" are recorded and committed: a qualified responder is there.
        assert reply(runtime, DOCTOR, "1") == "accepted"
        assert reply(runtime, DOCTOR, "3") == "on_scene"
        outcome = responses.decline(declining, runtime.ctx, page, incident, via="link")
    assert outcome == "already_stood_down", "the decline sees the arrival"
    with runtime.readers() as session:
        paged = session.scalars(select(Page.phone)).all()
    assert len(paged) == len(first_wave), "nobody paged to replace her once help is there"


def test_with_two_open_alerts_a_bare_reply_gets_a_question_not_a_guess(client: TestClient, runtime: Runtime) -> None:
    one = press(client, token="hh_token_one", kind="medical").json()
    two = press(client, token="hh_token_three", kind="medical").json()
    deliver(runtime)
    assert reply(runtime, DOCTOR, "1") == "ambiguous"
    deliver(runtime)
    question = texts(runtime, DOCTOR)[-1]
    assert f"#{one['code']}" in question and f"#{two['code']}" in question
    assert reply(runtime, DOCTOR, f"1 {two['code']}") == "accepted"


def test_the_one_tap_link_shows_the_alert_and_accepts_with_a_post(client: TestClient, runtime: Runtime) -> None:
    press(client, kind="medical")
    deliver(runtime)
    link = re.search(r"https://dispatch\.example\.org(/r/[\w.\-]+)", texts(runtime, DOCTOR)[0])
    assert link
    page = client.get(link.group(1))
    assert page.status_code == 200 and "120" in page.text and not shows_the_door(page.text)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf
    forged = client.post(link.group(1), data={"action": "accept", "csrf": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    done = client.post(link.group(1), data={"action": "accept", "csrf": csrf.group(1)})
    assert done.status_code == 200 and "501" in done.text
    assert client.get(link.group(1) + "x").status_code == 404, "a tampered link is refused"


def test_grid_worker_confirms_on_scene_then_resolved_within_their_grid(client: TestClient, runtime: Runtime) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    reply(runtime, DOCTOR, "1")
    url = f"/api/v1/incidents/{incident['id']}/confirm"
    assert client.post(url, json={"status": "on_scene"}, headers=auth("st_worker_g2")).status_code == 403
    assert client.post(url, json={"status": "on_scene"}, headers=auth("hh_token_one")).status_code == 403
    assert client.post(url, json={"status": "on_scene"}, headers=auth("st_worker_g1")).json()["status"] == "on_scene"
    assert client.post(url, json={"status": "resolved"}, headers=auth("st_worker_g1")).json()["status"] == "resolved"
    again = client.post(url, json={"status": "on_scene"}, headers=auth("st_worker_g1"))
    assert again.status_code == 409 and "resolved" in again.text
    assert client.post(url, json={"status": "finished"}, headers=auth("st_worker_g1")).status_code == 422
    types = timeline_types(client, incident["id"])
    assert types.index("accepted") < types.index("on_scene") < types.index("resolved")


def test_the_household_can_call_it_off_and_everyone_paged_is_told(client: TestClient, runtime: Runtime) -> None:
    incident = press(client, kind="medical").json()
    deliver(runtime)
    r = client.post(f"/api/v1/incidents/{incident['id']}/cancel", headers=auth("hh_token_one"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    deliver(runtime)
    assert any("取消" in t for t in texts(runtime, DOCTOR))
    assert reply(runtime, DOCTOR, "1") == "nothing_open"


codes = st.text(alphabet=CODE_ALPHABET, min_size=3, max_size=5).filter(lambda c: not c.isdigit())
words = st.sampled_from([("1", Intent.ACCEPT), ("y", Intent.ACCEPT), ("接", Intent.ACCEPT), ("2", Intent.DECLINE)])


@given(code=codes, word=words, noise=st.sampled_from(["", "!", "。", " ", "#"]), code_first=st.booleans())
def test_a_reply_naming_its_incident_is_read_whatever_the_order_and_noise(
    code: str, word: tuple[str, Intent], noise: str, code_first: bool
) -> None:
    tagged, noise = (f"#{code}", "") if noise == "#" else (code.lower(), noise)
    body = f"{tagged} {word[0]}{noise}" if code_first else f"{word[0]} {tagged}{noise}"
    assert parse_reply(body) == (word[1], code)


@given(body=st.text(max_size=40))
def test_any_text_is_read_without_error(body: str) -> None:
    reply = parse_reply(body)
    assert reply.code is None or 3 <= len(reply.code) <= 6

"""Escalation: waves, then the building group, the grid branch and the duty officer, on durable timers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from starlette.testclient import TestClient

from dispatch.clock import FakeClock
from dispatch.community.models import Staff
from dispatch.escalation import dispatcher
from dispatch.escalation.models import EscalationTimer
from dispatch.escalation.runner import TimerRunner
from dispatch.incidents.models import Incident, Page
from dispatch.runtime import Runtime
from notify.simulated import inbox
from tests.support.flow import FIRST_WAVE, auth, deliver, phones_alerted, press, reply, tick, timeline_types


def sms_to(runtime: Runtime, phone: str) -> list[str]:
    with runtime.readers() as session:
        return [m.body for m in inbox(session, phone) if m.direction == "in" and m.channel == "sms"]


def calls_to(runtime: Runtime, phone: str) -> list[str]:
    with runtime.readers() as session:
        return [m.body for m in inbox(session, phone) if m.direction == "in" and m.channel == "voice"]


LEADER_B1, SECRETARY_G1, WORKER_G1, WORKER_G2, DUTY = (
    "+8617000000101",
    "+8617000000102",
    "+8617000000103",
    "+8617000000104",
    "+8617000000105",
)
RESIDENT_H1 = "+8617000000900"


def test_with_nobody_accepting_the_search_widens_level_by_level_on_time(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    incident = press(client, kind="medical").json()  # household H1, building B1, grid G1
    deliver(runtime)
    wave1 = phones_alerted(runtime)
    assert len(wave1) == FIRST_WAVE and LEADER_B1 in wave1, "the building's own leader at t = 0, beside the medics"

    clock.advance(29)
    assert tick(runtime) == 0, "not before the wait is over"
    clock.advance(1)
    assert tick(runtime) == 1
    wave2 = phones_alerted(runtime) - wave1
    assert wave2 and not wave2 & {SECRETARY_G1, DUTY}, "second wave: more vanguards"

    clock.advance(60)
    tick(runtime)
    assert {SECRETARY_G1, WORKER_G1} <= phones_alerted(runtime), "then the grid branch"
    assert WORKER_G2 not in phones_alerted(runtime), "never another grid's workers"
    assert any("120" in t and "立即拨打" in t for t in sms_to(runtime, RESIDENT_H1)), "the resident: call 120 now"
    clock.advance(30)
    tick(runtime)
    assert DUTY in phones_alerted(runtime), "then the community duty officer"
    types = timeline_types(client, incident["id"])
    assert types.count("chain_paged") == 3
    assert types.count("resident_told_call_120") == 1


def test_after_every_level_the_chain_rotates_through_everyone_with_a_bound_and_backoff(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    press(client, kind="medical")
    for _ in range(4):  # wave 2, (building leader at t = 0), grid branch, duty officer
        clock.advance(30)
        tick(runtime)
    assert len(sms_to(runtime, DUTY)) == 1
    assert len(calls_to(runtime, DUTY)) == 1, "the duty officer is texted and rung"
    asked: list[str] = []
    for _ in range(60):  # half an hour, a look every 30 s
        clock.advance(30)
        before = {phone: len(sms_to(runtime, phone)) for phone in (LEADER_B1, SECRETARY_G1, WORKER_G1, DUTY)}
        tick(runtime)
        asked += [phone for phone, n in before.items() if len(sms_to(runtime, phone)) > n]
    assert asked[:4] == [LEADER_B1, SECRETARY_G1, WORKER_G1, DUTY], "one at a time, nobody twice before all once"
    assert all(asked.count(p) == 2 for p in (LEADER_B1, SECRETARY_G1, WORKER_G1, DUTY)), "at most 3 times in all"
    assert len(calls_to(runtime, DUTY)) == 3
    assert "第2次提醒" in sms_to(runtime, DUTY)[1], "each repeat says it is a reminder (and differs from the last)"
    assert calls_to(runtime, DUTY)[0] != calls_to(runtime, DUTY)[1]


def test_with_nobody_at_all_the_resident_is_told_and_the_incident_keeps_a_timer(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    with runtime.sessions.begin() as session:
        session.execute(delete(Staff))  # nobody in the organisation at all
    incident = press(client, kind="distress").json()  # and no vanguard with the skill
    for _ in range(6):
        clock.advance(30)
        tick(runtime)
    with runtime.readers() as session:
        pending = session.scalars(
            select(EscalationTimer.step).where(
                EscalationTimer.incident_id == incident["id"], EscalationTimer.status == "pending"
            )
        ).all()
    assert len(pending) == 1, "another look is always scheduled, one at a time"
    types = timeline_types(client, incident["id"], token="hh_token_one")
    assert "nobody_reachable" in types and "resident_told_call_120" in types


def test_empty_levels_are_skipped_at_once(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    # Distress needs counseling; nobody in the tiny community has it: only the building leader at t = 0.
    incident = press(client, kind="distress").json()
    deliver(runtime)
    assert phones_alerted(runtime) == {LEADER_B1}
    with runtime.sessions.begin() as session:
        session.execute(delete(Staff).where(Staff.role.in_(["grid_secretary", "grid_worker"])))
    clock.advance(90)  # the grid branch's time: nobody there, so the duty officer at once
    tick(runtime)
    assert DUTY in phones_alerted(runtime)
    assert [e for e in timeline_types(client, incident["id"]) if e == "chain_paged"] == ["chain_paged"] * 3


def test_a_qualified_acceptance_stops_the_staff_chain_and_waves_stop_once_a_backup_is_coming_too(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    press(client, kind="medical")
    deliver(runtime)
    assert reply(runtime, "+8617000000001", "1") == "accepted"
    clock.advance(30)
    tick(runtime)
    assert len(phones_alerted(runtime)) > FIRST_WAVE, "a second wave looks for a backup"
    assert reply(runtime, "+8617000000002", "1") == "accepted"
    wave = phones_alerted(runtime)
    for _ in range(3):
        clock.advance(30)
        tick(runtime)
    assert phones_alerted(runtime) == wave, "two on the way: nobody more is paged"
    assert not {SECRETARY_G1, DUTY} & wave, "the chain stopped"


def test_timers_survive_a_restart(settings, clock: FakeClock, client: TestClient, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from dispatch.runtime import build_runtime

    press(client, kind="medical")
    runtime.stop()  # the process dies before the timer is due
    clock.advance(31)
    restarted = build_runtime(settings, clock=clock)
    try:
        assert restarted.worker.timers.run_due() == 1
    finally:
        restarted.stop()


def test_a_press_acknowledged_before_its_first_wave_still_pages_after_a_crash(  # type: ignore[no-untyped-def]
    settings, clock: FakeClock, client: TestClient, runtime: Runtime
) -> None:
    from dispatch.runtime import build_runtime

    r = client.post("/api/v1/incidents", json={"kind": "medical"}, headers=auth("hh_token_one"))
    assert r.status_code == 201 and r.json()["status"] == "reported"
    with runtime.readers() as session:
        timer = session.scalars(select(EscalationTimer).where(EscalationTimer.incident_id == r.json()["id"])).one()
    assert (timer.step, timer.status, timer.due_at) == (0, "pending", clock.now()), "committed with the incident"
    runtime.stop()  # the process dies before its worker picked the press up
    restarted = build_runtime(settings, clock=clock)
    try:
        assert restarted.worker.timers.run_due() == 1
        assert deliver(restarted) == FIRST_WAVE
    finally:
        restarted.stop()


def test_two_processes_racing_for_due_timers_fire_each_exactly_once(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    for token in ("hh_token_one", "hh_token_two", "hh_token_three"):
        assert press(client, token=token, kind="medical").status_code == 201
    clock.advance(91)  # whatever else each incident waits for, "call 120 now" is due at 90 s for all three
    runners = [TimerRunner(runtime.sessions, runtime.ctx, f"worker-{i}") for i in range(3)]
    fired = [0, 0, 0]

    def run(i: int) -> None:
        fired[i] = runners[i].run_due()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(fired) == 3
    with runtime.readers() as session:
        done = session.scalar(
            select(func.count())
            .select_from(EscalationTimer)
            .where(EscalationTimer.step == 1, EscalationTimer.status == "done")  # the wake-up step 0 asked for
        )
    assert done == 3


def test_a_crash_in_the_middle_of_a_step_leaves_its_timer_due_at_once(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = client.post("/api/v1/incidents", json={"kind": "medical"}, headers=auth("hh_token_one"))
    assert r.status_code == 201

    def dies(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed mid-step")  # not an error the runner handles: the process is going down

    with monkeypatch.context() as m:
        m.setattr(dispatcher, "decide", dies)
        with pytest.raises(SystemExit):
            TimerRunner(runtime.sessions, runtime.ctx, "doomed").run_due()
    with runtime.readers() as session:
        timer = session.scalars(select(EscalationTimer).where(EscalationTimer.incident_id == r.json()["id"])).one()
        assert session.scalar(select(func.count()).select_from(Page)) == 0, "nothing of the dead step committed"
    assert (timer.status, timer.claimed_by) == ("pending", None)
    assert TimerRunner(runtime.sessions, runtime.ctx, "survivor").run_due() == 1, "no lease to wait out"
    assert deliver(runtime) == FIRST_WAVE


def test_a_step_that_fails_is_retried_after_the_lease_not_in_a_tight_loop(
    client: TestClient, runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = client.post("/api/v1/incidents", json={"kind": "medical"}, headers=auth("hh_token_one"))
    calls: list[int] = []
    real_fire = dispatcher.decide

    def fails_once(*args: Any, **kwargs: Any) -> int | None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the provider's library blew up")
        return real_fire(*args, **kwargs)

    monkeypatch.setattr(dispatcher, "decide", fails_once)
    runner = TimerRunner(runtime.sessions, runtime.ctx, "w")
    assert runner.run_due() == 0 and len(calls) == 1
    assert runner.run_due() == 0 and len(calls) == 1, "put back until its lease ends"
    clock.advance(runner.lease.total_seconds() + 1)
    assert runner.run_due() == 1 and len(calls) == 2
    with runtime.readers() as session:
        timer = session.scalars(
            select(EscalationTimer).where(EscalationTimer.incident_id == r.json()["id"], EscalationTimer.step == 0)
        ).one()
    assert (timer.status, timer.attempts) == ("done", 2)  # one attempt failed, the next fired


@pytest.mark.parametrize("backend", ["postgis"])  # row locks: SQLite has one write lock, nothing to deadlock on
def test_a_step_never_waits_for_an_incident_a_response_is_changing(client: TestClient, runtime: Runtime) -> None:
    # A response (accept, decline) locks the incident and then updates its timers; a step that held its timer and
    # waited for the incident could deadlock with it. The step leaves the timer due and comes back.
    r = client.post("/api/v1/incidents", json={"kind": "medical"}, headers=auth("hh_token_one"))
    incident_id = r.json()["id"]
    with runtime.engine.connect() as response_under_way:
        held = response_under_way.begin()
        response_under_way.execute(select(Incident.id).where(Incident.id == incident_id).with_for_update())
        fired: list[int] = []
        step = threading.Thread(target=lambda: fired.append(TimerRunner(runtime.sessions, runtime.ctx, "w").run_due()))
        step.start()
        step.join(timeout=10)
        waited = step.is_alive()
        held.rollback()  # lets a waiting step finish, so that a regression fails here instead of hanging
        step.join()
    assert not waited, "the step waited for the incident's lock"
    assert fired == [0]
    with runtime.readers() as session:
        timer = session.scalars(select(EscalationTimer).where(EscalationTimer.incident_id == incident_id)).one()
    assert (timer.status, timer.attempts) == ("pending", 0), "still due, not put back as a failure"
    assert TimerRunner(runtime.sessions, runtime.ctx, "w").run_due() == 1
    assert deliver(runtime) == FIRST_WAVE

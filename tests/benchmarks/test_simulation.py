"""The simulation drives the real service, and the KPI code reads what the service recorded; the people it moves
behave as the reference policies assume, on the street graph the service itself ranks by."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from starlette.testclient import TestClient

from benchmarks.sim import service
from benchmarks.sim.behaviour import Behaviour, acceptance_factor, door_after_page_s, draw
from benchmarks.sim.breakdown import summary
from benchmarks.sim.calls import Call, Household
from benchmarks.sim.direct import Setting
from benchmarks.sim.engine import Simulation
from benchmarks.sim.run import references
from dispatch.clock import FakeClock
from dispatch.escalation.policy import load_policy
from dispatch.incidents.models import Page
from dispatch.runtime import Runtime
from tests.support.flow import timeline_types

EAGER = replace(Behaviour(), acceptance=0.95, no_show=0.0, texts_on_scene=1.0, explicit_decline=0.0)
H1 = Household("H1", "hh_token_one", 2, "B1", 5)  # tiny community: B1, 6 floors, no lift
H3 = Household("H3", "hh_token_three", 2, "B3", 2)
SEED = 7


def calls(
    clock: FakeClock, kinds: list[str], every_s: float = 3600, households: list[Household] | None = None
) -> list[Call]:
    start = clock.now() + timedelta(seconds=10)
    homes = households or [H1, H3]
    return [
        Call(
            i,
            start + timedelta(seconds=i * every_s),
            k,
            homes[i % len(homes)],
            homes[i % len(homes)].floor,
            400.0,
            900.0,
        )
        for i, k in enumerate(kinds)
    ]


def simulation(runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path, b: Behaviour) -> Simulation:
    return Simulation(runtime, client, clock, tiny_dir, b, random.Random(11), seed=SEED)


def test_simulated_incidents_leave_every_milestone_in_the_recorded_timeline(
    runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path
) -> None:
    sim = simulation(runtime, client, clock, tiny_dir, EAGER)
    sim.run(calls(clock, ["medical"] * 3), tail_s=3 * 3600)
    observed = sim.observed()
    assert len(observed) == 3
    for o in observed:
        t = o.times
        assert t.located_s == 0 and t.first_alert_s is not None
        assert t.first_accept_s is not None and t.on_scene_s is not None and t.closed_s is not None
        assert 0 <= t.first_alert_s <= t.first_accept_s <= t.on_scene_s <= t.closed_s
        assert o.true_on_scene_s is not None and o.true_on_scene_s <= t.on_scene_s
        assert o.ems_s == 400.0 and o.kind == "medical"
    types = timeline_types(client, observed[0].times.incident_id)
    for expected in ("pressed", "located", "paged", "alert_sent", "accepted", "on_scene", "resolved"):
        assert expected in types
    s = summary(observed)
    assert s["on_scene_share"] == 1.0 and s["before_ambulance_share"] is not None
    assert sim.counters.presses == 3 and sim.counters.alerts >= 3
    for outcome in sim.outcomes():  # everyone texts "3": the timeline says so, after the door
        assert outcome.qualified_s is not None and outcome.qualified_recorded_s is not None
        assert outcome.qualified_s <= outcome.qualified_recorded_s


def test_a_grid_workers_confirmation_records_the_qualified_vanguard_who_did_not_text(
    runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path
) -> None:
    sim = simulation(runtime, client, clock, tiny_dir, replace(EAGER, texts_on_scene=0.0))
    sim.run(calls(clock, ["medical"] * 2), tail_s=3 * 3600)
    for outcome in sim.outcomes():
        assert outcome.qualified_s is not None and outcome.qualified_recorded_s is not None
        assert outcome.qualified_recorded_s > outcome.qualified_s  # the grid worker's confirmation comes later


def test_a_vanguard_walks_the_street_graph_with_the_draws_the_bound_uses(
    runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path
) -> None:
    sim = simulation(runtime, client, clock, tiny_dir, EAGER)
    stream = calls(clock, ["medical", "fall", "medical"])
    sim.run(stream, tail_s=3 * 3600)
    walked = 0
    for incident_id, truth in sim.truth.items():
        for arrival in (a for a in truth.arrivals if a.kind == "vanguard"):
            with runtime.readers() as session:
                page = session.scalars(
                    select(Page).where(Page.incident_id == incident_id, Page.person_id == arrival.person)
                ).one()
            paged_s = (page.paged_at - truth.call.at).total_seconds()
            who = service.person(runtime, arrival.person)
            door = service.door(runtime, truth.call.household.building_id)
            assert who is not None
            street_m = service.walking_graph(runtime).field_from(door.x, door.y).to(who.x, who.y)
            d = draw(SEED, truth.call.index, arrival.person, EAGER)
            expected = paged_s + door_after_page_s(EAGER, d, street_m, truth.call.floor, door.has_lift)
            assert abs(arrival.at_s - expected) < 1e-3
            walked += 1
    assert walked >= 3


def test_the_bound_on_the_same_calls_is_never_later_than_the_service(
    runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path
) -> None:
    b = replace(Behaviour(), acceptance=0.5, no_show=0.1)
    sim = simulation(runtime, client, clock, tiny_dir, b)
    stream = calls(clock, ["medical", "fall", "medical", "medical", "fall", "medical"], every_s=1800)
    sim.run(stream, tail_s=3 * 3600)
    rates = [p.accept_rate for p in (service.person(runtime, v) for v in service.vanguard_ids(runtime)) if p]
    refs = references(runtime, stream, Setting(b, SEED, acceptance_factor(rates, b.acceptance)), sim.ways)
    production = {o.index: o for o in sim.outcomes()}
    for bound in refs["bound"]:
        ours = production[bound.index]
        if ours.qualified_s is not None:
            assert bound.qualified_s is not None and bound.qualified_s <= ours.qualified_s + 1e-6


def test_nobody_answering_escalates_on_the_real_timers_until_staff_take_it(
    runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path
) -> None:
    silent = replace(EAGER, acceptance=0.0, staff_acceptance=1.0)
    sim = simulation(runtime, client, clock, tiny_dir, silent)
    sim.run(calls(clock, ["medical"]), tail_s=3 * 3600)
    (o,) = sim.observed()
    (outcome,) = sim.outcomes()
    assert sim.counters.timer_firings >= 1
    assert o.arrived_kind == "staff" and outcome.qualified_s is None and outcome.first_s is not None
    assert outcome.qualified_recorded_s is None  # staff on scene is not a qualified responder
    # The building's own leader is paged at t = 0, beside the first wave: staff take it within the first wait.
    assert o.times.first_accept_s is not None and o.times.first_accept_s < 30
    assert "chain_paged" in timeline_types(client, o.times.incident_id)


def test_presses_from_one_household_within_minutes_merge_into_one_incident(
    runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path
) -> None:
    sim = simulation(runtime, client, clock, tiny_dir, EAGER)
    sim.run(calls(clock, ["medical", "medical"], every_s=60, households=[H1]), tail_s=3600)
    assert sim.counters.presses == 2 and sim.counters.merged == 1
    assert len(sim.observed()) == 1 and [o.index for o in sim.outcomes()] == [0]


def test_a_wave_size_scenario_changes_only_the_vanguard_waves() -> None:
    policy = load_policy()
    changed = service.with_wave_sizes(policy, (6,))
    waves = [s for s in changed.raw["steps"] if s["action"] == "wave"]
    assert waves[0]["size"] == 6
    assert waves[1:] == [s for s in policy.raw["steps"] if s["action"] == "wave"][1:]
    assert [s["action"] for s in changed.raw["steps"]] == [s["action"] for s in policy.raw["steps"]]

"""The simulation drives the real service, and the KPI code reads what the service recorded."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from starlette.testclient import TestClient

from dispatch.clock import FakeClock
from dispatch.escalation.policy import load_policy
from dispatch.kpi.breakdown import summary
from dispatch.runtime import Runtime
from dispatch.sim.arrivals import Arrival, SfIncident
from dispatch.sim.behaviour import Behaviour
from dispatch.sim.engine import Simulation
from dispatch.sim.run import with_wave_sizes
from tests.support.flow import timeline_types

EAGER = replace(Behaviour(), acceptance=0.95, no_show=0.0, texts_on_scene=1.0, explicit_decline=0.0)


def calls(clock: FakeClock, kinds: list[str], every_s: float = 3600) -> list[Arrival]:
    start = clock.now() + timedelta(seconds=10)
    return [
        Arrival(
            start + timedelta(seconds=i * every_s), SfIncident(str(i), start.replace(tzinfo=None), "x", 400.0, 900.0)
        )
        for i in range(len(kinds))
    ]


def with_kind(arrivals: list[Arrival], kinds: list[str]) -> list[Arrival]:
    call_type = {"medical": "Medical Incident", "fire": "Structure Fire"}
    return [Arrival(a.at, replace(a.source, call_type=call_type[k])) for a, k in zip(arrivals, kinds, strict=True)]


def test_simulated_incidents_leave_every_milestone_in_the_recorded_timeline(
    runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path
) -> None:
    kinds = ["medical", "medical", "medical"]
    sim = Simulation(runtime, client, clock, tiny_dir, EAGER, random.Random(11))
    sim.run(with_kind(calls(clock, kinds), kinds), tail_s=3 * 3600)
    observed = sim.observed()
    assert len(observed) == 3
    for o in observed:
        t = o.times
        assert t.located_s == 0 and t.first_alert_s is not None
        assert t.first_accept_s is not None and t.on_scene_s is not None and t.closed_s is not None
        assert 0 <= t.first_alert_s <= t.first_accept_s <= t.on_scene_s <= t.closed_s
        assert o.true_on_scene_s is not None and o.true_on_scene_s <= t.on_scene_s
        assert o.ems_s == 400.0 and o.kind == "medical"
    some = observed[0].times.incident_id
    types = timeline_types(client, some)
    for expected in ("pressed", "located", "paged", "alert_sent", "accepted", "on_scene", "resolved"):
        assert expected in types
    s = summary(observed)
    assert s["on_scene_share"] == 1.0 and s["before_ambulance_share"] is not None
    assert sim.counters.presses == 3 and sim.counters.alerts >= 3


def test_nobody_answering_escalates_on_the_real_timers_until_staff_take_it(
    runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path
) -> None:
    silent = replace(EAGER, acceptance=0.0, staff_acceptance=1.0)
    sim = Simulation(runtime, client, clock, tiny_dir, silent, random.Random(2))
    sim.run(with_kind(calls(clock, ["medical"]), ["medical"]), tail_s=3 * 3600)
    (o,) = sim.observed()
    assert sim.counters.timer_firings >= 1
    assert o.arrived_kind == "staff"
    assert o.times.first_accept_s is not None and o.times.first_accept_s >= 60  # after at least two waits of 30 s
    types = timeline_types(client, o.times.incident_id)
    assert "escalated" in types


def test_presses_from_one_household_within_minutes_merge_into_one_incident(
    runtime: Runtime, client: TestClient, clock: FakeClock, tiny_dir: Path
) -> None:
    sim = Simulation(runtime, client, clock, tiny_dir, EAGER, random.Random(4))
    sim.households = sim.households[:1]
    sim._weights = [1]
    sim.run(with_kind(calls(clock, ["medical", "medical"], every_s=60), ["medical", "medical"]), tail_s=3600)
    assert sim.counters.presses == 2 and sim.counters.merged == 1
    assert len(sim.observed()) == 1


def test_a_wave_size_scenario_changes_only_the_vanguard_waves() -> None:
    policy = load_policy()
    changed = with_wave_sizes(policy, (6,))
    waves = [s for s in changed.raw["steps"] if s["action"] == "wave"]
    assert waves[0]["size"] == 6
    assert waves[1:] == [s for s in policy.raw["steps"] if s["action"] == "wave"][1:]
    assert [s["action"] for s in changed.raw["steps"]] == [s["action"] for s in policy.raw["steps"]]

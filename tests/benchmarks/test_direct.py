"""The reference policies evaluated from the behaviour model: the bound pages everyone qualified at the press."""

from __future__ import annotations

import math

from benchmarks.sim.behaviour import Behaviour
from benchmarks.sim.direct import BOUND, BROADCAST, Setting, arrival_s, evaluate, paged
from benchmarks.sim.outcome import Arrival, Outcome, figures, percentile_late
from benchmarks.sim.service import Door, Person
from benchmarks.sim.ways import Ways
from geo.walking import WalkingGraph

DOOR = Door(0.0, 0.0, has_lift=False)
SETTING = Setting(Behaviour(), seed=2026, accept_factor=1.0)


def street() -> Ways:
    return Ways(WalkingGraph([[(-3000.0, 0.0), (3000.0, 0.0)]]))  # one long straight street through the door


def crowd() -> list[Person]:
    # Qualified people every 100 m out to 3 km either way, everyone accepting often; one without the skill.
    people = [
        Person(f"V{i}", 100.0 * i * (1 if i % 2 else -1), 0.0, frozenset({"first_aid"}), 0.6) for i in range(1, 31)
    ]
    return [*people, Person("X", 10.0, 0.0, frozenset({"electrician"}), 0.9)]


def test_the_bound_pages_every_qualified_person_and_broadcast_only_those_within_1_3_km() -> None:
    skills = frozenset({"first_aid", "doctor"})
    everyone = paged(BOUND, crowd(), skills, DOOR)
    near = paged(BROADCAST, crowd(), skills, DOOR)
    assert len(everyone) == 30 and "X" not in {p.vanguard_id for p in everyone}
    assert {p.vanguard_id for p in near} == {f"V{i}" for i in range(1, 14)}  # 100 m ... 1,300 m


def test_the_bound_is_never_later_than_broadcast_on_the_same_draws() -> None:
    ways, skills = street(), frozenset({"first_aid"})
    for index in range(200):
        bound = evaluate(SETTING, BOUND, index, crowd(), skills, DOOR, 3, ways)
        broadcast = evaluate(SETTING, BROADCAST, index, crowd(), skills, DOOR, 3, ways)
        if broadcast.qualified_s is not None:
            assert bound.qualified_s is not None and bound.qualified_s <= broadcast.qualified_s
        assert bound.alerts >= broadcast.alerts


def test_the_first_to_arrive_is_whoever_the_shared_draws_bring_first() -> None:
    ways, skills = street(), frozenset({"first_aid"})
    people = paged(BOUND, crowd(), skills, DOOR)
    outcome = evaluate(SETTING, BOUND, 5, crowd(), skills, DOOR, 3, ways)
    each = [arrival_s(SETTING, 5, p, abs(p.x), 3, False) for p in people]
    assert math.isclose(outcome.qualified_s or 0, min(t for t in each if t is not None))
    assert outcome.first_s == outcome.qualified_s and outcome.alerts == 30


def test_nobody_reaching_the_door_counts_as_infinitely_late_not_as_left_out() -> None:
    assert percentile_late([100.0, 200.0, None, None], 50) is None
    assert percentile_late([100.0, 200.0, 300.0, None], 50) == 250.0
    outcomes = [Outcome(i, v, v, 4, 3) for i, v in enumerate([100.0, 800.0, None, 300.0])]
    f = figures(outcomes)
    assert f["before_ambulance_share"] == 0.5 and f["qualified_on_scene_share"] == 0.75
    assert f["alerts_per_incident"] == 4 and f["vanguard_alerts_per_incident"] == 3
    assert f["qualified_on_scene_p90_s"] is None


def test_staff_first_at_the_door_is_first_on_scene_but_not_a_qualified_responder() -> None:
    arrivals = [Arrival("i", "", "staff", "S1", 90.0, False), Arrival("i", "", "vanguard", "V1", 240.0, True)]
    o = Outcome.of(0, arrivals, alerts=5, vanguard_alerts=3)
    assert (o.first_s, o.qualified_s) == (90.0, 240.0)
    assert math.isclose(figures([o])["first_on_scene_p50_s"], 90.0)

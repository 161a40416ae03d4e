"""Sampling simulated people's behaviour: the published figures come out of the samplers, one person's behaviour
for one incident is fixed whoever pages them, and a walk follows the street graph."""

from __future__ import annotations

import random
from dataclasses import replace

from benchmarks.sim.behaviour import (
    Answer,
    Behaviour,
    acceptance_factor,
    climb_s,
    door_after_page_s,
    draw,
    lognormal,
    trip,
)
from benchmarks.sim.ways import Ways
from dispatch.kpi.times import percentile
from geo.walking import WalkingGraph


def test_lognormal_draws_have_the_asked_median_and_p90() -> None:
    rng = random.Random(3)
    draws = [lognormal(rng, 30.0, 90.0) for _ in range(20000)]
    assert abs((percentile(draws, 50) or 0) - 30.0) < 1.5
    assert abs((percentile(draws, 90) or 0) - 90.0) < 5.0


def test_acceptance_rescales_personal_rates_to_the_published_median() -> None:
    factor = acceptance_factor([0.1, 0.3, 0.5], 0.287)
    assert abs(sum(r * factor for r in [0.1, 0.3, 0.5]) / 3 - 0.287) < 1e-9
    assert acceptance_factor([], 0.287) == 0.0


def test_answers_accept_at_the_given_rate_and_some_of_the_rest_decline() -> None:
    b = Behaviour()
    answers = [draw(7, i, "V1", b).answer(0.287) for i in range(20000)]
    accepted = answers.count(Answer.ACCEPT) / len(answers)
    declined = answers.count(Answer.DECLINE) / len(answers)
    assert abs(accepted - 0.287) < 0.015
    assert abs(declined - (1 - 0.287) * b.explicit_decline) < 0.015


def test_one_vanguard_on_one_incident_behaves_the_same_under_any_policy() -> None:
    b = Behaviour()
    # Two policies ask in different orders and about different people: the answer depends only on the key.
    first_policy = {v: draw(2026, 17, v, b) for v in ("V1", "V2", "V3")}
    other_policy = {v: draw(2026, 17, v, b) for v in ("V3", "V9", "V1")}
    assert first_policy["V1"] == other_policy["V1"] and first_policy["V3"] == other_policy["V3"]
    assert draw(2026, 17, "V1", b) != draw(2026, 18, "V1", b)  # another incident
    assert draw(2026, 17, "V1", b) != draw(2026, 17, "V2", b)  # another person
    assert draw(2026, 17, "V1", b) != draw(2027, 17, "V1", b)  # another run seed
    # A scenario that changes one figure keeps everyone's other draws: only the affected choice moves.
    eager = replace(b, no_show=0.0)
    assert replace(draw(2026, 17, "V1", eager), no_show=False) == replace(draw(2026, 17, "V1", b), no_show=False)


def test_a_walk_follows_the_street_graph_at_the_persons_speed_then_climbs_the_floors() -> None:
    # An L of streets: 300 m east, then 400 m north. The straight line is 500 m; the walk is 700 m.
    graph = WalkingGraph([[(0.0, 0.0), (300.0, 0.0)], [(300.0, 0.0), (300.0, 400.0)], [(0.0, 0.0), (-50.0, 0.0)]])
    metres = Ways(graph).one((0.0, 0.0), 300.0, 400.0)
    assert abs(metres - 700.0) < 1e-6
    b = Behaviour()
    d = draw(1, 1, "V1", b)
    walk = trip(b, d, metres, floor=7, has_lift=False)
    assert abs(walk.street_s - 700.0 / d.speed_m_s) < 1e-9
    assert walk.climb_s == 6 * b.stairs_s_per_floor
    assert walk.total_s == d.prepare_s + walk.street_s + walk.climb_s
    assert climb_s(b, 11, True) == b.lift_wait_s + 10 * b.lift_s_per_floor and climb_s(b, 1, True) == 0.0
    whole = door_after_page_s(b, d, metres, 7, False)
    assert whole == d.alert_sms_s + d.reaction_s + d.details_sms_s + walk.total_s


def test_walking_speeds_have_the_published_median() -> None:
    b = Behaviour()
    speeds = [draw(3, i, "V1", b).speed_m_s for i in range(5000)]
    assert abs((percentile(speeds, 50) or 0) - b.speed_median_m_s) < 0.05

"""Sampling simulated people's behaviour: the published figures come out of the samplers."""

from __future__ import annotations

import random

from dispatch.kpi.times import percentile
from dispatch.sim.behaviour import Answer, Behaviour, acceptance_factor, answer, lognormal, trip


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
    rng, b = random.Random(5), Behaviour()
    answers = [answer(rng, 0.287, b) for _ in range(20000)]
    accepted = answers.count(Answer.ACCEPT) / len(answers)
    declined = answers.count(Answer.DECLINE) / len(answers)
    assert abs(accepted - 0.287) < 0.015
    assert abs(declined - (1 - 0.287) * b.explicit_decline) < 0.015


def test_a_trip_is_preparation_plus_a_detoured_walk_plus_the_climb() -> None:
    b = Behaviour()
    ground = [trip(random.Random(i), b, 0.0, 1, False) for i in range(200)]
    assert all(t.street_s == 0 and t.climb_s == 0 and t.total_s == t.prepare_s for t in ground)
    far = [trip(random.Random(i), b, 500.0, 7, False) for i in range(2000)]
    assert all(t.climb_s == 6 * b.stairs_s_per_floor for t in far)
    walk = percentile([t.street_s for t in far], 50) or 0
    # 500 m x 1.3 detour at 1.8 m/s is about 361 s (the medians do not multiply exactly)
    assert 300 < walk < 420
    lift = trip(random.Random(1), b, 0.0, 11, True)
    assert lift.climb_s == 10 * b.lift_s_per_floor + b.lift_wait_s

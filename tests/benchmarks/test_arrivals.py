"""The arrival process: real SF call timing, collapsed to incidents, scaled to the community's population."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from benchmarks.sim.arrivals import (
    KIND_OF_CALL_TYPE,
    SfIncident,
    arrivals,
    hourly_rates,
    load_sf_incidents,
    parse_sf_rows,
    poisson,
    population_scale,
)
from dispatch.clock import LOCAL_TZ
from dispatch.escalation.policy import load_policy
from dispatch.kpi.times import percentile

MONDAY = datetime(2017, 1, 2)


def row(number: str, received: str, on_scene: str, unit_type: str = "ENGINE", call: str = "Medical Incident"):  # type: ignore[no-untyped-def]
    return {
        "Incident Number": number,
        "Received DtTm": received,
        "On Scene DtTm": on_scene,
        "Unit Type": unit_type,
        "Call Type": call,
    }


def test_unit_rows_collapse_to_one_incident_with_its_first_unit_and_first_ambulance_on_scene() -> None:
    incidents = parse_sf_rows(
        [
            row("1", "01/02/2017 10:00:00 AM", "01/02/2017 10:07:00 AM", "ENGINE"),
            row("1", "01/02/2017 10:00:00 AM", "01/02/2017 10:05:30 AM", "TRUCK"),
            row("1", "01/02/2017 10:00:00 AM", "01/02/2017 10:09:00 AM", "MEDIC"),
            row("1", "01/02/2017 10:00:00 AM", "", "PRIVATE"),
            row("2", "01/02/2017 11:00:00 PM", "", "ENGINE", "Alarms"),
        ]
    )
    assert [i.number for i in incidents] == ["1", "2"]
    first, second = incidents
    assert first.first_on_scene_s == 330
    assert first.ambulance_on_scene_s == 540
    assert second.first_on_scene_s is None and second.kind == "fire"


def test_every_mapped_kind_is_one_the_policy_knows() -> None:
    kinds = set(load_policy().kinds)
    assert set(KIND_OF_CALL_TYPE.values()) <= kinds
    assert SfIncident("x", MONDAY, "Citizen Assist / Service Call", None, None).kind in kinds


def test_an_hour_of_the_week_seen_twice_in_the_window_is_averaged_not_doubled() -> None:
    # Eight days from a Monday: Monday hours occur twice, every other hour once.
    incidents = [SfIncident(str(i), MONDAY + timedelta(hours=i), "Medical Incident", None, None) for i in range(8 * 24)]
    rates = hourly_rates(incidents, scale=1.0)
    assert rates[0] == 1.0  # Monday 00:00: two calls in two Mondays
    assert rates[24] == 1.0  # Tuesday 00:00: one call in one Tuesday
    assert len(rates) == 168


def test_poisson_draws_have_the_asked_mean() -> None:
    rng = random.Random(1)
    draws = [poisson(rng, 1.7) for _ in range(20000)]
    assert abs(sum(draws) / len(draws) - 1.7) < 0.05
    assert poisson(rng, 0.0) == 0


def test_arrivals_scale_with_population_and_follow_the_hour_profile() -> None:
    # One call per hour, except ten at 09:00 on Mondays.
    week = [SfIncident(str(i), MONDAY + timedelta(hours=i), "Medical Incident", 400.0, 600.0) for i in range(168)]
    week += [
        SfIncident(f"m{i}", MONDAY + timedelta(hours=9, minutes=i), "Medical Incident", 400.0, 600.0) for i in range(9)
    ]
    start = datetime(2026, 1, 5, tzinfo=LOCAL_TZ)  # a Monday
    stream = list(arrivals(week, start, days=7 * 40, rng=random.Random(7), scale=0.5))
    expected = 0.5 * (168 + 9) * 40
    assert abs(len(stream) - expected) < 4 * expected**0.5
    assert all(a.at >= start for a in stream) and stream == sorted(stream, key=lambda a: a.at)
    monday_nine = sum(1 for a in stream if a.at.weekday() == 0 and a.at.hour == 9)
    assert abs(monday_nine - 0.5 * 10 * 40) < 4 * (0.5 * 10 * 40) ** 0.5


def test_the_real_call_stream_matches_its_provenance_and_scales_to_about_thirty_a_day() -> None:
    sf = load_sf_incidents()
    assert len(sf) == 3560
    first_on_scene = [i.first_on_scene_s for i in sf if i.first_on_scene_s is not None]
    assert 380 <= (percentile(first_on_scene, 50) or 0) <= 410  # PROVENANCE: median 396 s
    per_day = sum(hourly_rates(sf, population_scale())) / 7
    assert 25 <= per_day <= 40

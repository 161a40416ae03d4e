"""Matching never pages someone who cannot go, and ranks by time to the door."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.escalation.policy import load_policy
from dispatch.matching import Candidate, Target, estimate_eta_s, rank_candidates
from dispatch.vanguards.schedule import ScheduleError, is_on_call, parse_schedule

PLAN = load_policy().plan_for("medical", out_of_area=False)
MONDAY_0330_LOCAL = datetime(2026, 11, 29, 19, 30, tzinfo=UTC)  # Monday 03:30 in Asia/Shanghai

candidate_st = st.builds(
    Candidate,
    vanguard_id=st.text("V0123456789", min_size=2, max_size=5),
    name=st.just("x"),
    phone=st.just("+86"),
    skills=st.frozensets(st.sampled_from(["doctor", "nurse", "first_aid", "electrician", "counseling"]), max_size=3),
    x=st.floats(-2000, 2000),
    y=st.floats(-2000, 2000),
    on_call=st.sampled_from(["Mon-Sun 00:00-24:00", "Mon 03:00-04:00", "Tue-Sun 08:00-20:00", "Sun 22:00-06:00"]),
    available=st.booleans(),
    accept_rate=st.floats(0, 1),
)


@given(st.lists(candidate_st, max_size=40, unique_by=lambda c: c.vanguard_id), st.frozensets(st.text(max_size=3)))
def test_only_eligible_people_are_ranked_and_in_eta_order(candidates: list[Candidate], engaged: frozenset[str]) -> None:
    ranked = rank_candidates(Target(0, 0, 3), candidates, PLAN, MONDAY_0330_LOCAL, excluded=engaged)
    for r in ranked:
        c = r.candidate
        assert c.available and c.vanguard_id not in engaged
        assert c.skills & set(PLAN.skills)
        assert is_on_call(c.on_call, MONDAY_0330_LOCAL)
        assert r.distance_m <= PLAN.max_distance_m
    etas = [r.eta_s for r in ranked]
    assert etas == sorted(etas)


def test_eta_walks_the_detour_at_walking_speed_and_climbs_the_floors() -> None:
    assert estimate_eta_s(180, Target(0, 0, 1), PLAN) == pytest.approx(180 * 1.3 / 1.8)
    assert estimate_eta_s(0, Target(0, 0, 6, has_lift=False), PLAN) == pytest.approx(5 * 12)
    assert estimate_eta_s(0, Target(0, 0, 6, has_lift=True), PLAN) == pytest.approx(5 * 4)


@pytest.mark.parametrize(
    ("spec", "local", "on"),
    [
        ("Mon-Fri 18:30-23:00", "2026-11-30 19:00", True),  # Monday evening
        ("Mon-Fri 18:30-23:00", "2026-12-05 19:00", False),  # Saturday
        ("Fri 22:00-06:00", "2026-12-05 05:59", True),  # past midnight into Saturday
        ("Fri 22:00-06:00", "2026-12-05 06:00", False),
        ("Sun 22:00-06:00", "2026-11-30 01:00", True),  # wraps the end of the week
        ("Mon-Sun 00:00-24:00", "2026-12-02 12:34", True),
        ("Sat-Mon 08:00-09:00", "2026-11-30 08:30", True),  # a day range that wraps
    ],
)
def test_weekly_on_call_windows_in_local_time(spec: str, local: str, on: bool) -> None:
    from dispatch.clock import LOCAL_TZ

    when = datetime.fromisoformat(local).replace(tzinfo=LOCAL_TZ)
    assert is_on_call(spec, when) is on


@pytest.mark.parametrize("spec", ["Monday 08:00-09:00", "Mon 25:00-26:00", "Mon 08:00", "Mon-Xyz 01:00-02:00"])
def test_an_unreadable_schedule_is_refused_with_an_example(spec: str) -> None:
    with pytest.raises(ScheduleError, match="Mon"):
        parse_schedule(spec)

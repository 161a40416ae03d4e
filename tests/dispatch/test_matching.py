"""Matching never pages someone who cannot go, and ranks by time to the door."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.escalation.policy import load_policy
from dispatch.matching import (
    Aed,
    Candidate,
    MatchRules,
    RoleSpec,
    Target,
    assign_role,
    estimate_eta_s,
    rank_candidates,
    select_best,
)
from dispatch.vanguards.acceptance import AnswerHistory, acceptance_probability
from dispatch.vanguards.schedule import ScheduleError, is_on_call, parse_schedule
from geo.walking import WalkingGraph

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


# --- walking ETAs, acceptance, exact selection and support roles ---------------------------------------------------


# Two streets 100 m apart joined only at x = 0: someone 30 m away across the wall walks ~800 m.
WALLED = WalkingGraph([[(0, 0), (500, 0)], [(0, 100), (500, 100)], [(0, 0), (0, 100)]])


def person(
    vid: str, x: float, y: float, skills: str = "doctor", rate: float = 0.3, available: bool = True
) -> Candidate:
    return Candidate(vid, vid, "+86", frozenset(skills.split(";")), x, y, "Mon-Sun 00:00-24:00", available, rate)


def test_the_person_across_the_wall_is_not_the_nearest_on_foot() -> None:
    patient = Target(400, 10)
    across = person("V1", 400, 70)  # 60 m in a straight line, ~820 m on foot
    along = person("V2", 200, 10)  # 200 m, on the same street
    walk = WALLED.field_from(patient.x, patient.y).to_many
    ranked = rank_candidates(patient, [across, along], PLAN, MONDAY_0330_LOCAL, walk=walk)
    assert [r.candidate.vanguard_id for r in ranked] == ["V2", "V1"]
    assert ranked[1].walk_m is not None and ranked[1].walk_m > 700
    assert "m walk" in ranked[0].reason


def test_a_likelier_acceptor_a_little_farther_is_ranked_first() -> None:
    near_unlikely, far_likely = person("V1", 100, 0, rate=0.1), person("V2", 130, 0, rate=0.6)
    by_eta = rank_candidates(Target(0, 0), [near_unlikely, far_likely], PLAN, MONDAY_0330_LOCAL)
    assert [r.candidate.vanguard_id for r in by_eta] == ["V1", "V2"]
    weighted = rank_candidates(
        Target(0, 0), [near_unlikely, far_likely], PLAN, MONDAY_0330_LOCAL, acceptance={"V1": 0.1, "V2": 0.6}
    )
    assert [r.candidate.vanguard_id for r in weighted] == ["V2", "V1"]
    assert "accepts ~60%" in weighted[0].reason


@given(
    st.lists(candidate_st, max_size=40, unique_by=lambda c: c.vanguard_id),
    st.frozensets(st.text("V0123456789", max_size=3)),
    st.floats(0, 2),
)
def test_weighted_ranking_never_returns_the_ineligible_and_is_sorted_by_its_score(
    candidates: list[Candidate], engaged: frozenset[str], weight: float
) -> None:
    plan = replace(PLAN, matching={"acceptance_weight": weight})
    acceptance = {c.vanguard_id: max(0.01, c.accept_rate) for c in candidates}
    ranked = rank_candidates(
        Target(0, 0, 3), candidates, plan, MONDAY_0330_LOCAL, excluded=engaged, acceptance=acceptance
    )
    for r in ranked:
        c = r.candidate
        assert c.available and c.vanguard_id not in engaged and c.skills & set(PLAN.skills)
        assert is_on_call(c.on_call, MONDAY_0330_LOCAL)
    assert [r.score for r in ranked] == sorted(r.score for r in ranked)
    if weight == 0:
        assert [r.eta_s for r in ranked] == sorted(r.eta_s for r in ranked)


@given(
    st.lists(
        st.tuples(st.floats(-50, 550), st.floats(-50, 150), st.floats(0.05, 0.95), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 5),
)
def test_stopping_early_on_the_straight_line_bound_gives_the_same_best_as_ranking_everyone(
    raw: list[tuple[float, float, float, bool]], size: int
) -> None:
    patient = Target(250, 50, floor=4)
    people = [person(f"V{i:02d}", x, y, rate=p, available=ok) for i, (x, y, p, ok) in enumerate(raw)]
    people.sort(key=lambda c: (math.hypot(c.x - patient.x, c.y - patient.y), c.vanguard_id))
    walk = WALLED.field_from(patient.x, patient.y).to_many
    rates = {c.vanguard_id: c.accept_rate for c in people}
    everyone = rank_candidates(patient, people, PLAN, MONDAY_0330_LOCAL, walk=walk, acceptance=rates)
    for p_max in (1.0, max(rates.values())):  # any true ceiling on acceptance keeps the answer exact
        best = select_best(
            patient, iter(people), PLAN, MONDAY_0330_LOCAL, size, walk=walk,
            acceptance=lambda chunk: {c.vanguard_id: rates[c.vanguard_id] for c in chunk}, batch=3, p_max=p_max,
        )  # fmt: skip
        assert [r.candidate.vanguard_id for r in best[:size]] == [r.candidate.vanguard_id for r in everyone[:size]]


def test_the_aed_fetcher_is_the_first_aider_whose_detour_by_the_aed_is_shortest() -> None:
    patient = Target(0, 0)
    aed = Aed("AED1", "lobby", 300, 0)
    near_wrong_side = person("V1", -100, 0, "first_aid")  # 100 m from the patient, 400 m from the AED
    by_the_aed = person("V2", 320, 0, "first_aid")  # 320 m away, passes the AED
    pool = rank_candidates(patient, [near_wrong_side, by_the_aed], PLAN, MONDAY_0330_LOCAL)
    spec = RoleSpec("aed_fetcher", ("first_aid",), 1, "aed")
    chosen = assign_role(spec, patient, pool, frozenset(), PLAN, aeds=[aed])
    assert [r.candidate.vanguard_id for r in chosen] == ["V2"]
    assert chosen[0].role == "aed_fetcher" and chosen[0].via == aed
    assert chosen[0].reason.startswith("fetches AED1 (lobby) on the way")
    # Someone already in the wave is never given a second job.
    assert assign_role(spec, patient, pool, frozenset({"V2"}), PLAN, aeds=[aed])[0].candidate.vanguard_id == "V1"
    assert assign_role(spec, patient, pool, frozenset(), PLAN, aeds=[]) == []


def test_roles_and_settings_come_from_the_policy_not_from_code() -> None:
    policy = load_policy()
    medical = MatchRules.from_plan(policy.plan_for("medical", out_of_area=False))
    assert [(r.role, r.fetch) for r in medical.roles] == [("aed_fetcher", "aed")]
    fall = MatchRules.from_plan(policy.plan_for("fall", out_of_area=False))
    assert [r.skills for r in fall.roles] == [("carrying",)]
    assert MatchRules.from_plan(policy.plan_for("fire", out_of_area=False)).roles == ()
    assert medical.acceptance_weight == 0.5 and medical.live_position_max_age_s == 600


def test_acceptance_starts_at_the_prior_and_learns_from_answers_at_that_hour() -> None:
    night = datetime(2026, 11, 29, 19, 30, tzinfo=UTC)  # 03:30 local
    day = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 local
    assert acceptance_probability(0.3, None, night) == pytest.approx(0.3)
    history = AnswerHistory()
    for _ in range(10):
        history.add(3, accepted=False)  # never answers at night
        history.add(10, accepted=True)  # always answers in the morning
    assert acceptance_probability(0.3, history, night) < 0.3 < acceptance_probability(0.3, history, day)
    assert 0.02 <= acceptance_probability(0.0, history, night) <= acceptance_probability(1.0, history, day) <= 0.98


def test_walking_metres_are_computed_for_many_people_at_once() -> None:
    field = WALLED.field_from(400, 10)
    many = field.to_many(np.array([400.0, 200.0]), np.array([70.0, 10.0]))
    assert many[1] == pytest.approx(200 + 0 + 20) and many[0] > 700  # 10 m off the street at each end

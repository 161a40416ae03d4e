"""The search walks only people who can be paged now: the directory's index follows the on-call windows as time
moves (either way), and availability and position changes, and always agrees with filtering everyone."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.clock import LOCAL_TZ
from dispatch.directory import Directory
from dispatch.matching import Candidate, Target
from dispatch.vanguards.roster import OnCallRoster, boundaries, crossed
from dispatch.vanguards.schedule import MINUTES_PER_WEEK, minute_of_week, on_call_at
from geo.areas import CommunityMap

SCHEDULES = [
    "Mon-Sun 00:00-24:00",
    "Mon-Sun 08:00-18:00",
    "Mon-Sun 18:00-08:00",
    "Mon-Fri 18:30-23:00; Sat-Sun 09:00-21:00",
    "Sat 22:00-24:00; Sun 00:00-06:00",  # touching windows: no switch at midnight
    "Wed 12:00-12:01",
]
MONDAY = datetime(2026, 11, 30, tzinfo=LOCAL_TZ)  # a Monday, 00:00 local time


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def person(vid: str, on_call: str, x: float, y: float = 0.0, available: bool = True) -> Candidate:
    return Candidate(vid, vid, "+8613800000000", frozenset({"doctor"}), x, y, on_call, available, 0.3)


def directory(people: list[Candidate]) -> Directory:
    community = CommunityMap({}, {}, {"B1": (114.93, 25.85)})
    return Directory(community, {}, {c.vanguard_id: c for c in people}, {})


def near(d: Directory, when: datetime) -> list[str]:
    return [c.vanguard_id for c in d.candidates_near(Target(0.0, 0.0), ("doctor",), when)]


def test_only_the_available_people_on_call_at_that_minute_are_offered_nearest_first() -> None:
    d = directory(
        [
            person("ALWAYS", SCHEDULES[0], 300),
            person("DAY", SCHEDULES[1], 100),
            person("NIGHT", SCHEDULES[2], 200),
            person("AWAY", SCHEDULES[0], 50, available=False),
        ]
    )
    assert near(d, at(0, 10)) == ["DAY", "ALWAYS"]
    assert len(d.index) == 2, "the off-call and the unavailable are not in the index at all"
    assert near(d, at(0, 20)) == ["NIGHT", "ALWAYS"]
    assert near(d, at(0, 9)) == ["DAY", "ALWAYS"], "a clock set back catches up as well"
    assert near(d, at(3, 7, 59)) == ["NIGHT", "ALWAYS"], "three days on"


def test_availability_position_and_schedule_changes_respect_the_hour() -> None:
    d = directory([person("DAY", SCHEDULES[1], 100), person("NIGHT", SCHEDULES[2], 200)])
    night = at(0, 22)
    assert near(d, night) == ["NIGHT"]
    d.set_available("NIGHT", False)
    assert near(d, night) == []
    d.set_available("DAY", True)
    assert near(d, night) == [], "available, but not on call at night"
    d.set_available("NIGHT", True)
    d.set_position("DAY", 10.0, 0.0, night)
    assert near(d, night) == ["NIGHT"], "a live position does not put someone off call on the list"
    assert near(d, at(1, 9)) == ["DAY"], "their window opens: found where they were last seen"
    current = d.vanguard("NIGHT")
    assert current is not None
    d.upsert_vanguard(replace(current, on_call=SCHEDULES[0]))
    assert near(d, at(1, 9)) == ["DAY", "NIGHT"], "a new schedule counts at once"
    assert near(d, at(1, 20)) == ["NIGHT"]


def test_touching_windows_do_not_switch_where_they_meet() -> None:
    assert boundaries("Sat 22:00-24:00; Sun 00:00-06:00") == {5 * 1440 + 22 * 60, 6 * 1440 + 6 * 60}
    assert boundaries("Mon-Sun 00:00-24:00") == frozenset()
    assert list(crossed(MINUTES_PER_WEEK - 2, 1)) == [MINUTES_PER_WEEK - 1, 0, 1]
    assert list(crossed(5, 5)) == []


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(SCHEDULES), min_size=1, max_size=12),
    st.lists(st.integers(0, MINUTES_PER_WEEK - 1), min_size=1, max_size=12),
)
def test_the_roster_names_everyone_whose_state_changed(schedules: list[str], minutes: list[int]) -> None:
    roster = OnCallRoster((f"V{i}", spec) for i, spec in enumerate(schedules))
    assert roster.move_to(minutes[0]) is None, "the first time, everyone is looked at"
    for before, now in itertools.pairwise(minutes):
        named = roster.move_to(now)
        assert named is not None
        switched = {f"V{i}" for i, spec in enumerate(schedules) if on_call_at(spec, before) != on_call_at(spec, now)}
        assert switched <= named


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(SCHEDULES), st.floats(0, 2000), st.floats(0, 2000), st.booleans()),
        min_size=1,
        max_size=25,
    ),
    st.lists(
        st.tuples(st.integers(0, 7 * 24 * 60 - 1), st.integers(-1, 24), st.booleans()),
        min_size=1,
        max_size=8,
    ),
)
def test_the_index_always_agrees_with_filtering_everyone(
    raw: list[tuple[str, float, float, bool]], moves: list[tuple[int, int, bool]]
) -> None:
    people = [person(f"V{i:02d}", spec, x, y, ok) for i, (spec, x, y, ok) in enumerate(raw)]
    d = directory(people)
    for minutes, who, available in moves:
        if 0 <= who < len(people):  # someone's availability changes between two searches
            d.set_available(people[who].vanguard_id, available)
        when = MONDAY + timedelta(minutes=minutes)
        records = [d.vanguard(c.vanguard_id) for c in people]
        expected = sorted(
            (math.hypot(c.x, c.y), c.vanguard_id)
            for c in records
            if c is not None and c.available and on_call_at(c.on_call, minute_of_week(when))
        )
        assert near(d, when) == [vid for _, vid in expected]

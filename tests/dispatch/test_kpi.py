"""KPIs come from the recorded events: first of each milestone, seconds since the press."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.kpi.times import incident_times, percentile, summarize

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@dataclass
class E:
    type: str
    at: datetime


def test_milestones_are_the_first_event_of_each_kind_in_seconds_since_the_press() -> None:
    events = [
        E("alert_sent", T0 + timedelta(seconds=2)),
        E("pressed", T0),
        E("alert_sent", T0 + timedelta(seconds=3)),
        E("accepted", T0 + timedelta(seconds=40)),
        E("on_scene", T0 + timedelta(seconds=160)),
        E("resolved", T0 + timedelta(seconds=900)),
    ]
    t = incident_times("i1", events)
    assert t is not None
    assert (t.first_alert_s, t.first_accept_s, t.on_scene_s, t.closed_s) == (2, 40, 160, 900)
    assert t.located_s is None


def test_an_incident_without_a_press_has_no_times() -> None:
    assert incident_times("i1", [E("accepted", T0)]) is None


def test_percentiles_interpolate_like_numpy() -> None:
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert percentile([10, 20, 30, 40, 50], 90) == pytest.approx(46)
    assert percentile([], 50) is None
    s = summarize([None, 3, 1, 2])
    assert (s.count, s.p50) == (3, 2)

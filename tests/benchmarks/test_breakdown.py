"""Breakdowns over many incidents: shares before the ambulance, per-group percentiles, stage medians."""

from __future__ import annotations

from datetime import UTC, datetime

from benchmarks.sim.breakdown import AMBULANCE_S, Observed, breakdown, share_before, stage_medians, summary
from dispatch.kpi.times import IncidentTimes

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def observed(accept: float | None, scene: float | None, grid: str = "G1", kind: str = "medical") -> Observed:
    times = IncidentTimes("i", T0, 0.0, 0.5, accept, scene, None)
    return Observed(times, grid, kind, hour=3, true_on_scene_s=scene, ems_s=400.0, ambulance_s=None)


def test_nobody_on_scene_counts_as_not_before_and_unknown_limits_are_left_out() -> None:
    assert share_before([100.0, None, 800.0], [AMBULANCE_S] * 3) == 1 / 3
    assert share_before([100.0, 100.0], [None, 50.0]) == 0.0
    assert share_before([100.0], [None]) is None


def test_summary_reads_the_headline_figures_the_benchmark_promises() -> None:
    items = [observed(20.0, 100.0), observed(40.0, 500.0), observed(None, None)]
    s = summary(items)
    assert s["incidents"] == 3
    assert s["on_scene_p50_s"] == 300.0
    assert s["first_accept_share"] == 2 / 3
    assert s["before_ambulance_share"] == 2 / 3
    assert s["before_sf_first_unit_share"] == 1 / 3
    assert s["before_sf_ambulance_share"] is None
    assert s["on_scene_mean_s"] == 300.0


def test_breakdown_groups_and_gives_p50_and_p90_per_group() -> None:
    items = [observed(10.0 * i, 60.0 * i, grid="G1" if i % 2 else "G2") for i in range(1, 11)]
    groups = breakdown(items, lambda o: o.grid)
    assert list(groups) == ["G1", "G2"]
    assert groups["G1"]["count"] == 5
    assert groups["G1"]["on_scene_p50_s"] == 300.0  # 60, 180, 300, 420, 540


def test_stage_medians_say_which_stage_takes_the_time() -> None:
    stages = stage_medians([observed(30.0, 330.0), observed(50.0, 250.0)])
    assert stages["first_alert_to_first_accept"] == 39.5
    assert stages["first_accept_to_on_scene"] == 250.0

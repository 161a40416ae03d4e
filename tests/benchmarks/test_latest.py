"""The dashboard reads the latest benchmark headline back from the results files."""

from __future__ import annotations

import json
from pathlib import Path

from dispatch.kpi.latest import latest_response_times


def test_no_results_yet_means_nothing_to_show(tmp_path: Path) -> None:
    assert latest_response_times(tmp_path) is None
    (tmp_path / "response_times.json").write_text("{not json")
    assert latest_response_times(tmp_path) is None


def test_the_headline_and_which_targets_are_met(tmp_path: Path) -> None:
    (tmp_path / "response_times.json").write_text(
        json.dumps(
            {
                "on_scene_p50_s": 300.0,
                "on_scene_p90_s": 900.0,
                "first_accept_p90_s": 55.0,
                "before_ambulance_share": 0.8,
                "targets": {
                    "first_accept_p90_s": {"max": 60},
                    "on_scene_p50_s": {"max": 120},
                    "before_ambulance_share": {"min": 0.95},
                },
                "baseline": {"incidents": 860, "days": 28},
                "quick": False,
            }
        )
    )
    (tmp_path / "response_times.md").write_text("# report")
    latest = latest_response_times(tmp_path)
    assert latest is not None
    assert latest.figures["on_scene_p50_s"] == 300.0
    assert latest.met == {"first_accept_p90_s": True, "on_scene_p50_s": False, "before_ambulance_share": False}
    assert latest.incidents == 860 and latest.simulated_days == 28 and not latest.quick
    assert latest.report == tmp_path / "response_times.md"

"""The latest benchmark results, for the coordinator dashboard to show next to the live KPIs.

`dispatch bench response-times` writes benchmarks/results/response_times.json and .md; this reads the headline back
without importing the benchmark code (or matplotlib) into the web process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch.settings import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
HEADLINE = ("on_scene_p50_s", "on_scene_p90_s", "first_accept_p90_s", "before_ambulance_share")


@dataclass(frozen=True)
class BenchmarkHeadline:
    figures: dict[str, float | None]
    targets: dict[str, dict[str, float]]
    met: dict[str, bool]
    incidents: int | None
    simulated_days: float | None
    quick: bool
    written_at: datetime  # when the results file was written (its modification time, UTC)
    report: Path | None  # the Markdown report next to it, when present


def _met(value: float | None, bound: dict[str, float]) -> bool:
    if value is None:
        return False
    if "max" in bound:
        return value <= bound["max"]
    return value >= bound.get("min", float("-inf"))


def latest_response_times(results_dir: Path = RESULTS_DIR) -> BenchmarkHeadline | None:
    """The last response-time benchmark's headline, or None when it has never run (or the file is unreadable)."""
    path = results_dir / "response_times.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        written = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except (OSError, json.JSONDecodeError):
        return None
    figures = {k: data.get(k) for k in HEADLINE}
    targets: dict[str, dict[str, float]] = data.get("targets") or {}
    baseline = data.get("baseline") or {}
    report = results_dir / "response_times.md"
    return BenchmarkHeadline(
        figures=figures,
        targets=targets,
        met={k: _met(figures.get(k), targets[k]) for k in targets if k in figures},
        incidents=baseline.get("incidents"),
        simulated_days=baseline.get("days"),
        quick=bool(data.get("quick")),
        written_at=written,
        report=report if report.exists() else None,
    )

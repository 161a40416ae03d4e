"""Response-time breakdowns over many incidents: percentiles per grid, kind and hour, and shares before EMS. Pure.

Works on `IncidentTimes` (computed from recorded events by `times.incident_times`); simulations also attach their
ground truth (when someone really arrived) and the emergency service's time to compare with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dispatch.kpi.times import IncidentTimes, percentile

AMBULANCE_S = 12 * 60  # Chinese urban EMS average arrival (shared figures, PROVENANCE)
STAGES = ("located_s", "first_alert_s", "first_accept_s", "on_scene_s")


@dataclass(frozen=True)
class Observed:
    times: IncidentTimes
    grid: str | None
    kind: str
    hour: int  # local hour of the press, 0..23
    true_on_scene_s: float | None = None  # when someone really got there (simulation only)
    arrived_kind: str | None = None  # vanguard | staff | grid_worker
    ems_s: float | None = None  # the real service's first unit on scene for a comparable call
    ambulance_s: float | None = None  # ... and its first ambulance
    accepter_distance_m: float | None = None  # straight line from the first accepter to the incident


def share_before(values: Iterable[float | None], limits: Iterable[float | None]) -> float | None:
    """Share of incidents where someone was on scene before the limit; no one on scene counts as not before.
    Pairs whose limit is unknown are left out."""
    hits = total = 0
    for value, limit in zip(values, limits, strict=True):
        if limit is None:
            continue
        total += 1
        hits += value is not None and value < limit
    return hits / total if total else None


def _p(values: Sequence[float | None], p: float) -> float | None:
    present = [v for v in values if v is not None]
    return percentile(present, p)


def summary(items: Sequence[Observed]) -> dict[str, Any]:
    """The headline figures of a set of incidents, as plain JSON-able values (seconds, shares)."""
    on_scene = [o.times.on_scene_s for o in items]
    out: dict[str, Any] = {"incidents": len(items)}
    for stage in STAGES:
        values = [getattr(o.times, stage) for o in items]
        name = stage.removesuffix("_s")
        out[f"{name}_p50_s"] = _p(values, 50)
        out[f"{name}_p90_s"] = _p(values, 90)
        out[f"{name}_share"] = sum(v is not None for v in values) / len(items) if items else None
    present = [v for v in on_scene if v is not None]
    out["on_scene_mean_s"] = sum(present) / len(present) if present else None
    true = [o.true_on_scene_s for o in items]
    out["true_on_scene_p50_s"] = _p(true, 50)
    out["true_on_scene_p90_s"] = _p(true, 90)
    out["before_ambulance_share"] = share_before(on_scene, [AMBULANCE_S] * len(items))
    out["true_before_ambulance_share"] = share_before(true, [AMBULANCE_S] * len(items))
    out["before_sf_first_unit_share"] = share_before(on_scene, [o.ems_s for o in items])
    out["before_sf_ambulance_share"] = share_before(on_scene, [o.ambulance_s for o in items])
    return out


def breakdown(items: Iterable[Observed], key: Callable[[Observed], Any]) -> dict[str, dict[str, Any]]:
    """Per group: count, first accept and on scene p50/p90, share before a 12-minute ambulance."""
    groups: dict[Any, list[Observed]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    out: dict[str, dict[str, Any]] = {}
    # Numbers (hours) in numeric order, names by name, the unknown last.
    for name in sorted(
        groups,
        key=lambda k: (k is None, not isinstance(k, int | float), k if isinstance(k, int | float) else 0, str(k)),
    ):
        group = groups[name]
        accept = [o.times.first_accept_s for o in group]
        scene = [o.times.on_scene_s for o in group]
        out[str(name)] = {
            "count": len(group),
            "first_accept_p50_s": _p(accept, 50),
            "first_accept_p90_s": _p(accept, 90),
            "on_scene_p50_s": _p(scene, 50),
            "on_scene_p90_s": _p(scene, 90),
            "before_ambulance_share": share_before(scene, [AMBULANCE_S] * len(group)),
        }
    return out


def stage_medians(items: Sequence[Observed]) -> dict[str, float | None]:
    """Median duration of each stage (from the previous milestone), to say which stage costs the time."""
    pairs = {
        "press_to_located": ("pressed", "located_s"),
        "located_to_first_alert": ("located_s", "first_alert_s"),
        "first_alert_to_first_accept": ("first_alert_s", "first_accept_s"),
        "first_accept_to_on_scene": ("first_accept_s", "on_scene_s"),
    }
    out: dict[str, float | None] = {}
    for name, (start, end) in pairs.items():
        spans: list[float] = []
        for o in items:
            a = 0.0 if start == "pressed" else getattr(o.times, start)
            b = getattr(o.times, end)
            if a is not None and b is not None:
                spans.append(b - a)
        out[name] = percentile(spans, 50)
    return out

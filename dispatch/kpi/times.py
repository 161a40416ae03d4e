"""Per-incident response intervals from the timeline, and percentiles over groups of incidents. Pure."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

K = TypeVar("K")

# The milestones of one incident, each the first event of its kind (timeline event types).
MILESTONES: Mapping[str, tuple[str, ...]] = {
    "pressed": ("pressed",),
    "located": ("located",),
    "first_alert": ("alert_sent",),
    "first_accept": ("accepted",),
    "on_scene": ("on_scene",),
    "closed": ("resolved", "false_alarm", "cancelled"),
}


class EventLike(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True)
class IncidentTimes:
    """Seconds from the press to each milestone (None: it has not happened)."""

    incident_id: str
    pressed_at: datetime
    located_s: float | None
    first_alert_s: float | None
    first_accept_s: float | None
    on_scene_s: float | None
    closed_s: float | None


def incident_times(incident_id: str, events: Iterable[EventLike]) -> IncidentTimes | None:
    first: dict[str, datetime] = {}
    for e in sorted(events, key=lambda e: e.at):
        for milestone, types in MILESTONES.items():
            if e.type in types and milestone not in first:
                first[milestone] = e.at
    pressed = first.get("pressed")
    if pressed is None:
        return None

    def since(name: str) -> float | None:
        at = first.get(name)
        return None if at is None else (at - pressed).total_seconds()

    return IncidentTimes(
        incident_id,
        pressed,
        since("located"),
        since("first_alert"),
        since("first_accept"),
        since("on_scene"),
        since("closed"),
    )


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolated percentile (p in 0..100), as numpy's default; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    count: int
    p50: float | None
    p90: float | None


def summarize(values: Iterable[float | None]) -> Summary:
    present = [v for v in values if v is not None]
    return Summary(len(present), percentile(present, 50), percentile(present, 90))


def group_by(items: Iterable[IncidentTimes], key: Callable[[IncidentTimes], K]) -> dict[K, list[IncidentTimes]]:
    groups: dict[K, list[IncidentTimes]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups

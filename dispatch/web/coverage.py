"""Doctor coverage: for each grid and hour of the week, the share of its buildings with an on-call, available
doctor within 400 m (straight line, metres, from the doctor's home building: rosters say when, not where, so live
phone positions do not count here). Pure: people and buildings in, a table out."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dispatch.vanguards.schedule import parse_schedule

HOURS_PER_WEEK = 168
REACH_M = 400.0


@dataclass(frozen=True)
class Responder:
    x: float
    y: float
    on_call: str
    available: bool


@dataclass(frozen=True)
class Site:
    grid_id: str
    x: float
    y: float


def hours_on_call(spec: str) -> list[bool]:
    """Hour h of the week (0 = Monday 00:00 local) counts when the roster covers its whole hour."""
    intervals = parse_schedule(spec).intervals
    return [any(s <= h * 60 and (h + 1) * 60 <= e for s, e in intervals) for h in range(HOURS_PER_WEEK)]


def coverage(
    sites: Iterable[Site], doctors: Iterable[Responder], reach_m: float = REACH_M
) -> Mapping[str, list[float]]:
    """grid id -> 168 shares (0..1) of that grid's buildings covered in each hour of the week."""
    rosters = [(d.x, d.y, hours_on_call(d.on_call)) for d in doctors if d.available]
    covered: dict[str, list[int]] = {}
    totals: dict[str, int] = {}
    for site in sites:
        near = [hours for x, y, hours in rosters if math.hypot(x - site.x, y - site.y) <= reach_m]
        counts = covered.setdefault(site.grid_id, [0] * HOURS_PER_WEEK)
        totals[site.grid_id] = totals.get(site.grid_id, 0) + 1
        for h in range(HOURS_PER_WEEK):
            if any(hours[h] for hours in near):
                counts[h] += 1
    return {g: [c / totals[g] for c in counts] for g, counts in sorted(covered.items())}

"""What one policy achieved on one incident, and the figures over many: the terms the three policies are compared in.

"Qualified on scene" is the first vanguard holding a skill the kind needs at the door; "first on scene" is anyone,
staff and grid workers included. Both are the simulation's ground truth (when the person reached the door), the
same clock for a policy the service runs and for one evaluated directly. Pure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.sim.breakdown import AMBULANCE_S


@dataclass(frozen=True)
class Arrival:
    incident_id: str
    phone: str
    kind: str  # vanguard | staff | grid_worker
    person: str
    at_s: float  # seconds from the press
    qualified: bool


@dataclass(frozen=True)
class Outcome:
    index: int  # the call's index in the run
    qualified_s: float | None
    first_s: float | None
    alerts: int  # every alert sent for the incident, staff included
    vanguard_alerts: int
    first_alert_s: float | None = 0.0  # press -> first alert sent (simulated clock)
    first_kind: str | None = None  # who was first at the door: vanguard | staff | grid_worker
    # Production only: when the service's timeline first says so (see Simulation.outcomes). Later than the door.
    qualified_recorded_s: float | None = None

    @classmethod
    def of(
        cls,
        index: int,
        arrivals: Sequence[Arrival],
        alerts: int,
        vanguard_alerts: int,
        qualified_recorded_s: float | None = None,
    ) -> Outcome:
        qualified = [a.at_s for a in arrivals if a.qualified]
        return cls(
            index,
            min(qualified, default=None),
            min((a.at_s for a in arrivals), default=None),
            alerts,
            vanguard_alerts,
            first_kind=arrivals[0].kind if arrivals else None,
            qualified_recorded_s=qualified_recorded_s,
        )


def percentile_late(values: Sequence[float | None], p: float) -> float | None:
    """Percentile counting a missing value (nobody came) as infinitely late: None when it falls among them, so a
    p90 is never flattered by leaving out the incidents nobody reached."""
    if not values:
        return None
    ordered = sorted(math.inf if v is None else v for v in values)
    rank = (len(ordered) - 1) * p / 100
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    if math.isinf(high):
        return None
    return low + (high - low) * (rank - math.floor(rank))


def figures(outcomes: Sequence[Outcome], *, recorded_by_service: bool = False) -> dict[str, Any]:
    n = len(outcomes)
    qualified = [o.qualified_s for o in outcomes]
    recorded = [o.qualified_recorded_s for o in outcomes]
    by_service = {
        "qualified_on_scene_recorded_p50_s": _round(percentile_late(recorded, 50)),
        "qualified_on_scene_recorded_p90_s": _round(percentile_late(recorded, 90)),
    }
    return {
        "incidents": n,
        "qualified_on_scene_p50_s": _round(percentile_late(qualified, 50)),
        "qualified_on_scene_p90_s": _round(percentile_late(qualified, 90)),
        "first_on_scene_p50_s": _round(percentile_late([o.first_s for o in outcomes], 50)),
        **(by_service if recorded_by_service else {}),
        "before_ambulance_share": _share(sum(q is not None and q < AMBULANCE_S for q in qualified), n),
        "qualified_on_scene_share": _share(sum(q is not None for q in qualified), n),
        # Flattering on purpose and named so: the p90 over only the incidents a qualified responder reached.
        "qualified_on_scene_p90_reached_s": _round(percentile_late([q for q in qualified if q is not None], 90)),
        # Why no qualified responder came: who was first at the door instead ("nobody": no one at all).
        "without_qualified_first_on_scene_by": dict(
            Counter(o.first_kind or "nobody" for o in outcomes if o.qualified_s is None)
        ),
        "alerts_per_incident": _share(sum(o.alerts for o in outcomes), n, 2),
        "vanguard_alerts_per_incident": _share(sum(o.vanguard_alerts for o in outcomes), n, 2),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _share(count: float, n: int, digits: int = 4) -> float | None:
    return round(count / n, digits) if n else None

"""Matching: who among the candidates the index found should be paged, best first. Pure functions.

The spatial index proposes people near the incident; this policy keeps those who can go now (on call, available,
not engaged elsewhere, not already paged) and hold a needed skill, and ranks them by estimated time to the door.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dispatch.escalation.policy import Plan
from dispatch.vanguards.schedule import is_on_call


@dataclass(frozen=True)
class Candidate:
    vanguard_id: str
    name: str
    phone: str
    skills: frozenset[str]
    x: float
    y: float
    on_call: str
    available: bool
    accept_rate: float


@dataclass(frozen=True)
class Target:
    """Where help must get to: a point in metres, and how many floors up."""

    x: float
    y: float
    floor: int = 1
    has_lift: bool = False


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    distance_m: float
    eta_s: float
    matched_skills: tuple[str, ...]

    @property
    def reason(self) -> str:
        minutes = max(1, round(self.eta_s / 60))
        return f"{'/'.join(self.matched_skills)}, {self.distance_m:.0f} m, ~{minutes} min"


def estimate_eta_s(distance_m: float, target: Target, plan: Plan) -> float:
    """Straight-line distance times a detour factor at walking speed, plus the climb to the floor."""
    walk = distance_m * plan.detour_factor / plan.walking_speed_m_s
    per_floor = plan.lift_s_per_floor if target.has_lift else plan.stairs_s_per_floor
    return walk + max(0, target.floor - 1) * per_floor


def is_eligible(c: Candidate, needs: frozenset[str], now: datetime, excluded: frozenset[str]) -> bool:
    return c.vanguard_id not in excluded and c.available and bool(c.skills & needs) and is_on_call(c.on_call, now)


def rank_candidates(
    target: Target,
    candidates: Iterable[Candidate],
    plan: Plan,
    now: datetime,
    *,
    excluded: frozenset[str] = frozenset(),
) -> list[Ranked]:
    """Eligible candidates within the plan's reach, by ETA (ties by id, so the order is stable)."""
    needs = frozenset(plan.skills)
    ranked: list[Ranked] = []
    for c in candidates:
        if not is_eligible(c, needs, now, excluded):
            continue
        distance = math.hypot(c.x - target.x, c.y - target.y)
        if distance > plan.max_distance_m:
            continue
        matched = tuple(s for s in plan.skills if s in c.skills)
        ranked.append(Ranked(c, distance, estimate_eta_s(distance, target, plan), matched))
    ranked.sort(key=lambda r: (r.eta_s, r.candidate.vanguard_id))
    return ranked

"""Matching: who among the candidates the index found should be paged, best first. Pure functions.

The spatial index proposes people near the incident, nearest first in a straight line; this policy keeps those who
can go now (on call, available, not engaged elsewhere, not already paged) and hold a needed skill, and ranks them
by estimated time to the door: walking distance on the street network at the plan's walking speed plus the climb
to the floor, weighted by how likely each is to accept. A straight line never exceeds the walk, so scanning stops
as soon as the next person's straight-line time cannot beat the last place taken: the result is exact without
walking the whole community.

Support roles (a first-aider who brings the nearest AED, a second pair of hands to carry) are configured per
incident kind in the policy and chosen from the same pool after the responders.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from dispatch.escalation.policy import Plan
from dispatch.vanguards.schedule import minute_of_week, on_call_at

# Walking metres from the incident to many points at once (a geo.walking.WalkField's to_many), or None.
WalkFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


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
    position: str = "home"  # "home": their home building; "live": a fresh position from their phone


@dataclass(frozen=True)
class Target:
    """Where help must get to: a point in metres, and how many floors up."""

    x: float
    y: float
    floor: int = 1
    has_lift: bool = False


@dataclass(frozen=True)
class Aed:
    id: str
    label: str
    x: float
    y: float


@dataclass(frozen=True)
class RoleSpec:
    """A support role of an incident kind: who qualifies, how many, and whether they fetch something first."""

    role: str
    skills: tuple[str, ...]
    count: int = 1
    fetch: str | None = None  # "aed": go by the nearest AED on the way


@dataclass(frozen=True)
class MatchRules:
    acceptance_weight: float = 0.5
    live_position_max_age_s: float = 600.0
    roles: tuple[RoleSpec, ...] = ()

    @classmethod
    def from_plan(cls, plan: Plan) -> MatchRules:
        raw: Mapping[str, Any] = getattr(plan, "matching", None) or {}
        roles = tuple(
            RoleSpec(str(r["role"]), tuple(r["skills"]), int(r.get("count", 1)), r.get("fetch"))
            for r in raw.get("roles", ())
        )
        return cls(
            max(0.0, float(raw.get("acceptance_weight", cls.acceptance_weight))),  # < 0 would void the scan bound
            float(raw.get("live_position_max_age_s", cls.live_position_max_age_s)),
            roles,
        )


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    distance_m: float  # the straight line
    eta_s: float
    matched_skills: tuple[str, ...]
    walk_m: float | None = None  # along the streets, when the network is known
    p_accept: float | None = None
    score: float = 0.0  # what the order follows: ETA divided by p_accept ** acceptance_weight
    role: str = "responder"
    via: Aed | None = None

    @property
    def reason(self) -> str:
        minutes = max(1, round(self.eta_s / 60))
        how = f"{self.walk_m:.0f} m walk" if self.walk_m is not None else f"{self.distance_m:.0f} m"
        where = "" if self.candidate.position == "home" else " from live position"
        parts = [f"{'/'.join(self.matched_skills)}, {how}{where}, ~{minutes} min"]
        if self.via is not None:
            parts.insert(0, f"fetches {self.via.id} ({self.via.label}) on the way")
        if self.p_accept is not None:
            parts.append(f"accepts ~{self.p_accept:.0%} at this hour")
        return "; ".join(parts)


def climb_s(target: Target, plan: Plan) -> float:
    per_floor = plan.lift_s_per_floor if target.has_lift else plan.stairs_s_per_floor
    return max(0, target.floor - 1) * per_floor


def estimate_eta_s(distance_m: float, target: Target, plan: Plan) -> float:
    """Straight-line distance times a detour factor at walking speed, plus the climb to the floor."""
    return distance_m * plan.detour_factor / plan.walking_speed_m_s + climb_s(target, plan)


def eta_from_walk_s(walk_m: float, target: Target, plan: Plan) -> float:
    return walk_m / plan.walking_speed_m_s + climb_s(target, plan)


def is_eligible(c: Candidate, needs: frozenset[str], minute: int, excluded: frozenset[str]) -> bool:
    """At `minute` of the week (`minute_of_week`, computed once for a whole search)."""
    return c.vanguard_id not in excluded and c.available and bool(c.skills & needs) and on_call_at(c.on_call, minute)


def weighted(eta_s: float, p_accept: float, weight: float) -> float:
    return float(eta_s / max(p_accept, 1e-3) ** weight)


def rank_candidates(
    target: Target,
    candidates: Iterable[Candidate],
    plan: Plan,
    now: datetime,
    *,
    excluded: frozenset[str] = frozenset(),
    walk: WalkFn | None = None,
    acceptance: Mapping[str, float] | None = None,
    rules: MatchRules | None = None,
    eligible_checked: bool = False,
) -> list[Ranked]:
    """Eligible candidates within the plan's reach, best first (ties by id, so the order is stable).

    `eligible_checked`: the caller has already left out the ineligible and the excluded.

    With `walk` the ETA follows the streets, otherwise the straight line times the plan's detour factor. With
    `acceptance` (vanguard id -> probability) the order is by ETA / p ** weight; without it, by ETA.
    """
    rules = rules or MatchRules.from_plan(plan)
    needs = frozenset(plan.skills)
    minute = minute_of_week(now)
    kept: list[tuple[Candidate, float]] = []
    for c in candidates:
        if not eligible_checked and not is_eligible(c, needs, minute, excluded):
            continue
        distance = math.hypot(c.x - target.x, c.y - target.y)
        if distance <= plan.max_distance_m:
            kept.append((c, distance))
    walks: Sequence[float | None] = [None] * len(kept)
    if walk is not None and kept:
        metres = walk(np.array([c.x for c, _ in kept]), np.array([c.y for c, _ in kept]))
        walks = [max(float(m), d) for m, (_, d) in zip(metres, kept, strict=True)]
    ranked: list[Ranked] = []
    for (c, distance), walked in zip(kept, walks, strict=True):
        eta = eta_from_walk_s(walked, target, plan) if walked is not None else estimate_eta_s(distance, target, plan)
        p = acceptance.get(c.vanguard_id, c.accept_rate) if acceptance is not None else None
        score = eta if p is None else weighted(eta, p, rules.acceptance_weight)
        matched = tuple(s for s in plan.skills if s in c.skills)
        ranked.append(Ranked(c, distance, eta, matched, walked, p, score))
    ranked.sort(key=lambda r: (r.score, r.candidate.vanguard_id))
    return ranked


def lower_bound_s(distance_m: float, target: Target, plan: Plan) -> float:
    """No one at this straight-line distance can score better: walks are never shorter and p <= 1."""
    return distance_m / plan.walking_speed_m_s + climb_s(target, plan)


def select_best(
    target: Target,
    nearest_first: Iterable[Candidate],
    plan: Plan,
    now: datetime,
    size: int,
    *,
    excluded: frozenset[str] = frozenset(),
    walk: WalkFn | None = None,
    acceptance: Callable[[Sequence[Candidate]], Mapping[str, float]] | None = None,
    batch: int = 32,
    p_max: float = 1.0,
) -> list[Ranked]:
    """The best `size` (and the runners-up seen on the way) from candidates in straight-line order.

    Exact: scanning stops only once the next candidate's lower bound exceeds the `size`-th best score. `p_max`:
    nobody's acceptance exceeds it (1 holds for any); a true lower value lets the scan stop much sooner, since
    everyone's score is then at least their ETA / p_max ** weight.
    """
    needs = frozenset(plan.skills)
    weight = MatchRules.from_plan(plan).acceptance_weight if acceptance is not None else 0.0
    bound_factor = 1.0 / max(min(p_max, 1.0), 1e-3) ** weight
    minute = minute_of_week(now)
    ranked: list[Ranked] = []
    chunk: list[Candidate] = []
    seen = 0

    def absorb() -> None:
        # Rank only the newcomers (their walks and acceptance once each) and merge them into the standings.
        nonlocal ranked, seen
        seen += len(chunk)
        eligible = [c for c in chunk if is_eligible(c, needs, minute, excluded)]
        chunk.clear()
        probs = acceptance(eligible) if acceptance is not None and eligible else None
        fresh = rank_candidates(
            target, eligible, plan, now, walk=walk, acceptance=probs if acceptance else None, eligible_checked=True
        )
        ranked = sorted([*ranked, *fresh], key=lambda r: (r.score, r.candidate.vanguard_id))

    for c in nearest_first:
        distance = math.hypot(c.x - target.x, c.y - target.y)
        if distance > plan.max_distance_m:
            break
        if (
            not chunk
            and len(ranked) >= size
            and lower_bound_s(distance, target, plan) * bound_factor > ranked[size - 1].score
        ):
            break
        chunk.append(c)
        if len(chunk) >= batch:
            absorb()
    if chunk or not seen:
        absorb()
    return ranked


def assign_role(
    spec: RoleSpec,
    target: Target,
    pool: Sequence[Ranked],
    taken: frozenset[str],
    plan: Plan,
    *,
    weight: float = 0.0,
    aeds: Sequence[Aed] = (),
    from_aeds: Callable[[Sequence[Aed], np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> list[Ranked]:
    """Fill a support role from ranked, eligible people not already chosen. Pure.

    A fetcher's time is the walk to their best AED plus the walk from there to the patient: the nearest
    first-aider is not the best fetcher if the AED lies the other way. `from_aeds(aeds, xs, ys)` gives walking
    metres from an AED to points (straight line times the detour factor without a street network).
    """
    people = [r for r in pool if r.candidate.vanguard_id not in taken and r.candidate.skills & set(spec.skills)]
    if not people or (spec.fetch == "aed" and not aeds):
        return []

    def metres(stations: Sequence[Aed], xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        if from_aeds is not None:
            return from_aeds(stations, xs, ys)
        ax = np.array([a.x for a in stations])[:, None]
        ay = np.array([a.y for a in stations])[:, None]
        return np.asarray(np.hypot(xs[None, :] - ax, ys[None, :] - ay) * plan.detour_factor, dtype=float)

    xs = np.array([r.candidate.x for r in people])
    ys = np.array([r.candidate.y for r in people])
    best: list[tuple[float, Aed | None]] = [(math.inf, None)] * len(people)
    if spec.fetch == "aed":
        stations = sorted(aeds, key=lambda a: a.id)
        # Every AED against every person at once: walk to the AED, then on to the patient; on a tie the lower id.
        trips = metres(stations, xs, ys) + metres(stations, np.array([target.x]), np.array([target.y]))
        pick = np.argmin(trips, axis=0)
        best = [(float(trips[k, i]), stations[k]) for i, k in enumerate(pick.tolist())]
    choices: list[Ranked] = []
    for r, (walk_m, aed) in zip(people, best, strict=True):
        matched = tuple(s for s in spec.skills if s in r.candidate.skills)
        if aed is None:
            choices.append(
                Ranked(r.candidate, r.distance_m, r.eta_s, matched, r.walk_m, r.p_accept, r.score, spec.role)
            )
            continue
        eta = eta_from_walk_s(walk_m, target, plan)
        score = eta if r.p_accept is None else weighted(eta, r.p_accept, weight)
        choices.append(Ranked(r.candidate, r.distance_m, eta, matched, walk_m, r.p_accept, score, spec.role, aed))
    choices.sort(key=lambda r: (r.score, r.candidate.vanguard_id))
    return choices[: spec.count]

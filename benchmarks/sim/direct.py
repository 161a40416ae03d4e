"""The two reference policies, evaluated straight from the behaviour model (no service to run):

- `bound`: every qualified vanguard who can be paged (available, on call) is paged at the press; the first of them
  to reach the door counts. Under the behaviour model no dispatch policy gets a qualified responder there sooner,
  short of paging people the service may not page.
- `broadcast` (Heartrunner-style): every such vanguard within 1.3 km in a straight line is paged at the press.

Both use the same calls, the same common random numbers per (incident, vanguard), the same street graph, floors
and SMS latencies as the production run; the door details are sent the moment someone accepts (as the service
does). Pure given the people, the ways and the draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.sim import behaviour as bh
from benchmarks.sim.outcome import Outcome
from benchmarks.sim.service import Door, Person
from benchmarks.sim.ways import Ways

BROADCAST_RADIUS_M = 1300.0  # Heartrunner alerts within 1.3 km (shared figures)


@dataclass(frozen=True)
class Reference:
    name: str
    radius_m: float | None  # None: the whole community


BOUND = Reference("bound", None)
BROADCAST = Reference("broadcast", BROADCAST_RADIUS_M)


def paged(reference: Reference, people: Sequence[Person], skills: frozenset[str], door: Door) -> list[Person]:
    out = [p for p in people if p.skills & skills]
    if reference.radius_m is not None:
        out = [p for p in out if math.hypot(p.x - door.x, p.y - door.y) <= reference.radius_m]
    return out


@dataclass(frozen=True)
class Setting:
    """What a direct evaluation shares with the production run: behaviour, run seed, the acceptance rescaling."""

    behaviour: bh.Behaviour
    seed: int
    accept_factor: float


def arrival_s(
    setting: Setting, index: int, person: Person, street_m: float, floor: int, has_lift: bool
) -> float | None:
    """When this person reaches the door if paged at the press, or None if they do not come."""
    d = bh.draw(setting.seed, index, person.vanguard_id, setting.behaviour)
    if d.answer(min(0.95, person.accept_rate * setting.accept_factor)) is not bh.Answer.ACCEPT or d.no_show:
        return None
    return bh.door_after_page_s(setting.behaviour, d, street_m, floor, has_lift)


def evaluate(
    setting: Setting,
    reference: Reference,
    index: int,
    people: Sequence[Person],
    skills: frozenset[str],
    door: Door,
    floor: int,
    ways: Ways,
) -> Outcome:
    chosen = paged(reference, people, skills, door)
    metres = ways.metres((door.x, door.y), [p.x for p in chosen], [p.y for p in chosen])
    times = [arrival_s(setting, index, p, m, floor, door.has_lift) for p, m in zip(chosen, metres, strict=True)]
    first = min((t for t in times if t is not None), default=None)
    kind = "vanguard" if first is not None else None
    return Outcome(index, first, first, len(chosen), len(chosen), 0.0 if chosen else None, kind)

"""Every place the simulation reaches into the service, in one module: when the service's internals move, only this
file follows them.

The simulation talks to the service as the outside world does (HTTP for presses and staff confirmations, the SMS
reply handling for people's answers, the outbox for what it sends) and reads only what a deployment knows anyway:
who is on call, the policy's skills per kind, the buildings and the street graph the directory built.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from dispatch import responses
from dispatch.escalation.policy import Policy
from dispatch.runtime import Runtime
from dispatch.vanguards.models import Vanguard
from dispatch.vanguards.schedule import minute_of_week, on_call_at
from geo.walking import WalkingGraph

_replies = itertools.count()


@dataclass(frozen=True)
class Person:
    """A vanguard as the simulation sees them at one moment: where they are and how likely they accept."""

    vanguard_id: str
    x: float
    y: float
    skills: frozenset[str]
    accept_rate: float


@dataclass(frozen=True)
class Door:
    x: float
    y: float
    has_lift: bool


def reply(runtime: Runtime, phone: str, body: str) -> str:
    """An SMS typed on a phone, handled as the Twilio SMS webhook and the demo phones hand it to the service."""
    now = runtime.ctx.clock.now()
    with runtime.sessions.begin() as session:
        outcome = responses.handle_sms(session, runtime.ctx, phone, body, f"SIM{next(_replies)}:{now.timestamp():.0f}")
    runtime.worker.wake()
    return outcome


def qualifying_skills(runtime: Runtime, kind: str) -> frozenset[str]:
    """The skills a responder for `kind` must hold (the policy's, as the service's matching reads them)."""
    return frozenset(runtime.ctx.policy.plan_for(kind, out_of_area=False).skills)


def vanguard_ids(runtime: Runtime) -> list[str]:
    with runtime.readers() as session:
        return sorted(session.scalars(select(Vanguard.id)))


def person(runtime: Runtime, vanguard_id: str) -> Person | None:
    c = runtime.ctx.directory.vanguard(vanguard_id)
    return None if c is None else Person(c.vanguard_id, c.x, c.y, frozenset(c.skills), c.accept_rate)


def pageable_at(runtime: Runtime, ids: list[str], at: datetime) -> list[Person]:
    """Those the service could page at `at`: available (not switched off) and inside their on-call window."""
    minute = minute_of_week(at)
    out = []
    for vanguard_id in ids:
        c = runtime.ctx.directory.vanguard(vanguard_id)
        if c is not None and c.available and on_call_at(c.on_call, minute):
            out.append(Person(c.vanguard_id, c.x, c.y, frozenset(c.skills), c.accept_rate))
    return out


def switch_off(runtime: Runtime, ids: list[str]) -> None:
    for vanguard_id in ids:
        runtime.ctx.directory.set_available(vanguard_id, False)


def door(runtime: Runtime, building_id: str) -> Door:
    b = runtime.ctx.directory.buildings[building_id]
    return Door(b.x, b.y, b.has_lift)


def walking_graph(runtime: Runtime) -> WalkingGraph:
    graph = runtime.ctx.directory.walking
    if graph is None:
        raise LookupError("the community has no streets.geojson: the simulation walks the street graph")
    return graph


def with_wave_sizes(policy: Policy, sizes: tuple[int, ...]) -> Policy:
    raw = copy.deepcopy(policy.raw)
    waves = iter(sizes)
    for step in raw["steps"]:
        if step["action"] == "wave":
            step["size"] = next(waves, step["size"])
    return Policy(raw)

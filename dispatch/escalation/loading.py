"""Reading one incident into the decision core's terms: its pages, its progress, who could still be paged, and the
staff chain. Side effects stop here: the snapshot is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from dispatch.community.models import Staff
from dispatch.context import DispatchContext
from dispatch.escalation import engine
from dispatch.escalation.engine import Recipient
from dispatch.escalation.lifecycle import GOING, PageStatus, Role
from dispatch.escalation.policy import Plan
from dispatch.escalation.rules import Rules
from dispatch.escalation.snapshot import (
    MARK_ROTATION,
    MARKS,
    ChainAction,
    Offer,
    PageView,
    Progress,
    Snapshot,
    StaffMember,
)
from dispatch.incidents.models import Incident, IncidentEvent, Page
from dispatch.incidents.states import Status
from dispatch.matching import select_best
from dispatch.vanguards.acceptance import acceptance_probability
from dispatch.vanguards.models import Vanguard
from dispatch.vanguards.schedule import is_on_call


@dataclass
class Loaded:
    snapshot: Snapshot
    rules: Rules
    plan: Plan
    pages: dict[str, Page]
    # Whom each possible new page would reach: name, phone and why they were chosen.
    recipients: dict[str, Recipient] = field(default_factory=dict)


def load(session: Session, ctx: DispatchContext, incident: Incident, now: datetime, *, offers: bool) -> Loaded:
    """The incident as the core sees it. `offers`: also rank who could be paged (only when a page may follow)."""
    plan = Plan.from_json(incident.plan)
    rules = Rules.from_plan(plan)
    rows = list(session.scalars(select(Page).where(Page.incident_id == incident.id).order_by(Page.id)))
    marks = [
        (e.type, e.at, e.detail or {})
        for e in session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id, IncidentEvent.type.in_(sorted(MARKS)))
            .order_by(IncidentEvent.id)
        )
    ]
    repaged: dict[str, int] = {}
    for type_, _, detail in marks:
        if type_ == MARK_ROTATION:
            repaged[str(detail["person"])] = repaged.get(str(detail["person"]), 0) + 1
    views = tuple(_view(p, repaged.get(p.person_id, 0)) for p in rows)
    loaded = Loaded(
        Snapshot(
            incident.id,
            Status(incident.status),
            incident.reported_at,
            incident.out_of_area,
            incident.building_id is not None,
            pages=views,
            chain=(),
            progress=Progress.from_marks(marks),
            offers_loaded=offers,
        ),
        rules,
        plan,
        {p.person_id: p for p in rows},
    )
    chain = _chain(session, incident, now, loaded)
    offered: tuple[Offer, ...] = ()
    if offers and not incident.out_of_area:
        offered = _offers(session, ctx, incident, plan, rules, now, loaded)
    loaded.snapshot = Snapshot(
        **{**loaded.snapshot.__dict__, "chain": chain, "offers": offered},
    )
    return loaded


def _view(page: Page, repaged: int) -> PageView:
    role = Role.of(page.role, page.person_kind)
    status = PageStatus(page.status)
    accepted = page.responded_at if status in (*GOING, PageStatus.LAPSED) else None
    return PageView(
        page.person_id,
        "staff" if page.person_kind == "staff" else "vanguard",
        role,
        status,
        page.paged_at,
        page.eta_s,
        accepted_at=accepted,
        times_paged=1 + repaged,
        qualified=page.person_kind == "vanguard" and role is Role.RESPONDER,
    )


def _chain(session: Session, incident: Incident, now: datetime, loaded: Loaded) -> tuple[StaffMember, ...]:
    """The staff of each level, in the order the chain reaches them (on duty now; the building's leaders and the
    community's duty officers all, when none is rostered: they are the last line)."""
    members: list[StaffMember] = []
    for step in loaded.rules.chain_steps:
        action = loaded.rules.step_action(step)
        where: tuple[ColumnElement[bool], ...]
        if action is ChainAction.BUILDING_LEADER:
            if not incident.building_id:
                continue
            where = (Staff.role == "building_leader", Staff.building_id == incident.building_id)
            fallback = True
        elif action is ChainAction.GRID_BRANCH:
            if not incident.grid_id:
                continue
            where = (Staff.role.in_(["grid_secretary", "grid_worker"]), Staff.grid_id == incident.grid_id)
            fallback = False
        else:
            where, fallback = (Staff.role == "duty_officer",), True
        people = list(session.scalars(select(Staff).where(*where).order_by(Staff.id)))
        on_duty = [s for s in people if is_on_call(s.on_call, now)] or (people if fallback else [])
        for s in on_duty:
            if all(m.person_id != s.id for m in members):
                members.append(StaffMember(s.id, action))
                loaded.recipients[s.id] = Recipient(s.id, "staff", Role.STAFF.value, s.name, s.phone)
    return tuple(members)


def _offers(
    session: Session, ctx: DispatchContext, incident: Incident, plan: Plan, rules: Rules, now: datetime, loaded: Loaded
) -> tuple[Offer, ...]:
    first = loaded.snapshot.progress.waves == 0
    # The support roles are ranked for the first wave, and again when one of them still needs a replacement.
    support = [v for v in loaded.snapshot.pages if v.role.is_support]
    open_role = any(
        v.status in (PageStatus.DECLINED, PageStatus.FAILED, PageStatus.NO_ANSWER)
        and not any(o.role is v.role and o.status in GOING for o in support)
        for v in support
    )
    # Enough for the largest wave plus a few replacements, and the building's own people beside them.
    size = max((rules.wave_size(n) for n in range(len(rules.wave_steps) + 1)), default=0) + 3
    ranked = engine.vanguards_within_budget(session, ctx, incident, plan, size, now, with_roles=first or open_role)
    building: list[Recipient] = []
    if first and rules.building_at_start and incident.building_id:
        building = _building_vanguards(session, ctx, incident, plan, rules.building_vanguards_max, now)
    offers: list[Offer] = []
    for r in [*building, *ranked]:
        if r.ranked is None or any(o.person_id == r.person_id for o in offers):
            continue
        loaded.recipients[r.person_id] = r
        offers.append(Offer(r.person_id, Role(r.role), r.ranked.eta_s, same_building=r in building))
    return tuple(offers)


def _building_vanguards(
    session: Session, ctx: DispatchContext, incident: Incident, plan: Plan, count: int, now: datetime
) -> list[Recipient]:
    """On-call vanguards who live in the incident's building and hold a needed skill: the nearest of all."""
    target = engine.target_of(ctx, session, incident)
    if target is None:
        return []
    ids = session.scalars(select(Vanguard.id).where(Vanguard.building_id == incident.building_id))
    near = [c for i in ids if (c := ctx.directory.vanguard(i)) is not None]
    near.sort(key=lambda c: (c.x - target.x) ** 2 + (c.y - target.y) ** 2)
    excluded = engine.engaged_vanguards(session) | engine.already_paged(session, incident.id)
    history = ctx.directory.answers.get(session, now)
    walk = ctx.directory.walk_field(target)
    ranked = select_best(
        target,
        near,
        plan,
        now,
        count,
        excluded=excluded,
        walk=walk.to_many if walk is not None else None,
        acceptance=lambda chunk: {
            c.vanguard_id: acceptance_probability(c.accept_rate, history.get(c.vanguard_id), now) for c in chunk
        },
        p_max=ctx.directory.acceptance_ceiling(history, now),
    )
    return [
        Recipient(r.candidate.vanguard_id, "vanguard", Role.RESPONDER.value, r.candidate.name, r.candidate.phone, r)
        for r in ranked
    ]

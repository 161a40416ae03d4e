"""Carrying out escalation steps: choose whom to page, write pages and outbox messages, set the next timer.

Called inside the caller's transaction (intake for step 0, the timer runner for later steps, a decline for a
replacement), so the state change, the messages and the next timer commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.community.models import Household, Staff
from dispatch.context import DispatchContext
from dispatch.directory import BuildingInfo
from dispatch.escalation.models import EscalationTimer
from dispatch.escalation.policy import Plan, StepSpec
from dispatch.incidents.models import Incident, Page
from dispatch.incidents.states import ACTIVE, OPEN_SEARCH, Status
from dispatch.incidents.transitions import record, transition
from dispatch.matching import Ranked, Target, rank_candidates
from dispatch.vanguards.schedule import is_on_call
from notify import messages
from notify.outbox import enqueue


@dataclass(frozen=True)
class Recipient:
    person_id: str
    person_kind: str
    role: str
    name: str
    phone: str
    ranked: Ranked | None = None


def target_of(ctx: DispatchContext, session: Session, incident: Incident) -> Target | None:
    building = ctx.directory.buildings.get(incident.building_id or "")
    floor = 1
    if incident.household_id and incident.location_source == "household":
        household = session.get(Household, incident.household_id)
        floor = household.floor if household else 1
    if building is not None and incident.location_source == "household":
        return Target(building.x, building.y, floor, building.has_lift)
    if incident.geom is not None:
        from geoalchemy2.shape import to_shape

        p = to_shape(incident.geom)
        x, y = ctx.directory.projector.to_metric(float(p.x), float(p.y))
        return Target(x, y, 1, False)
    return None


def engaged_vanguards(session: Session) -> frozenset[str]:
    """Vanguards who accepted an incident that is still under way: they are busy."""
    rows = session.scalars(
        select(Page.person_id)
        .join(Incident, Incident.id == Page.incident_id)
        .where(
            Page.status == "accepted",
            Page.person_kind == "vanguard",
            Incident.status.in_([Status.ACCEPTED.value, Status.ON_SCENE.value]),
        )
    )
    return frozenset(rows)


def already_paged(session: Session, incident_id: str) -> frozenset[str]:
    return frozenset(session.scalars(select(Page.person_id).where(Page.incident_id == incident_id)))


def choose_vanguards(
    session: Session, ctx: DispatchContext, incident: Incident, plan: Plan, size: int, now: datetime
) -> list[Recipient]:
    target = target_of(ctx, session, incident)
    if target is None or size <= 0:
        return []
    excluded = engaged_vanguards(session) | already_paged(session, incident.id)
    ranked: list[Ranked] = []
    # The index yields people nearest first; rank in growing batches until enough are eligible.
    batch = []
    for candidate in ctx.directory.candidates_near(target, plan.skills):
        batch.append(candidate)
        if len(batch) % 64 == 0:
            ranked = rank_candidates(target, batch, plan, now, excluded=excluded)
            if len(ranked) >= size * 2:
                break
    ranked = rank_candidates(target, batch, plan, now, excluded=excluded)
    return [
        Recipient(r.candidate.vanguard_id, "vanguard", "responder", r.candidate.name, r.candidate.phone, r)
        for r in ranked[:size]
    ]


def _staff(session: Session, now: datetime, *where: object, fallback_all: bool = False) -> list[Staff]:
    people = list(session.scalars(select(Staff).where(*where).order_by(Staff.id)))  # type: ignore[arg-type]
    on_call = [s for s in people if is_on_call(s.on_call, now)]
    return on_call or (people if fallback_all else [])


def choose_staff(session: Session, incident: Incident, spec: StepSpec, now: datetime, repeat: bool) -> list[Recipient]:
    if spec.action == "building_leader":
        if not incident.building_id:
            return []
        staff = _staff(
            session, now, Staff.role == "building_leader", Staff.building_id == incident.building_id, fallback_all=True
        )
    elif spec.action == "grid_branch":
        if not incident.grid_id:
            return []
        staff = _staff(
            session, now, Staff.role.in_(["grid_secretary", "grid_worker"]), Staff.grid_id == incident.grid_id
        )
    else:
        # The last line of defence: if nobody is rostered now, every duty officer is called.
        staff = _staff(session, now, Staff.role == "duty_officer", fallback_all=True)
    paged = already_paged(session, incident.id)
    return [Recipient(s.id, "staff", s.role, s.name, s.phone) for s in staff if repeat or s.id not in paged]


def describe_place(building: BuildingInfo | None, incident: Incident) -> tuple[str, str]:
    if building is None:
        return ("社区外位置（见地图）", "a place outside the community (see map)")
    zone = f"{building.zone_name} " if building.zone_name else ""
    return (f"{zone}{building.address}", building.address_en)


def page_recipients(
    session: Session,
    ctx: DispatchContext,
    incident: Incident,
    step: int,
    recipients: list[Recipient],
    now: datetime,
    tag: str,
) -> list[Page]:
    building = ctx.directory.buildings.get(incident.building_id or "")
    place_zh, place_en = describe_place(building, incident)
    pages: list[Page] = []
    for r in recipients:
        page = session.scalar(select(Page).where(Page.incident_id == incident.id, Page.person_id == r.person_id))
        if page is None:
            page = Page(
                incident_id=incident.id,
                person_id=r.person_id,
                person_kind=r.person_kind,
                role=r.role,
                name=r.name,
                phone=r.phone,
                step=step,
                status="paged",
                paged_at=now,
                distance_m=r.ranked.distance_m if r.ranked else None,
                eta_s=r.ranked.eta_s if r.ranked else None,
            )
            session.add(page)
            session.flush()
        eta_min = max(1, round(page.eta_s / 60)) if page.eta_s is not None else None
        facts = messages.AlertFacts(
            code=incident.code,
            kind_zh=ctx.policy.label(incident.kind, "zh"),
            kind_en=ctx.policy.label(incident.kind, "en"),
            place_zh=place_zh,
            place_en=place_en,
            distance_m=page.distance_m,
            eta_min=eta_min,
            link=ctx.links.url(page.id),
        )
        enqueue(
            session,
            dedupe_key=f"{incident.id}:{tag}:{r.person_id}:alert",
            to=r.phone,
            body=messages.alert_sms(facts, "responder" if r.person_kind == "vanguard" else "staff"),
            purpose="alert",
            now=now,
            incident_id=incident.id,
            page_id=page.id,
        )
        pages.append(page)
    record(
        session,
        incident.id,
        "paged",
        now,
        None,
        step=step,
        tag=tag,
        recipients=[
            {
                "person": r.person_id,
                "role": r.role,
                "name": r.name,
                **({"why": r.ranked.reason, "eta_s": round(r.ranked.eta_s)} if r.ranked else {}),
            }
            for r in recipients
        ],
    )
    return pages


def schedule(session: Session, incident_id: str, step: int, due_at: datetime) -> None:
    exists = session.scalar(
        select(EscalationTimer.id).where(EscalationTimer.incident_id == incident_id, EscalationTimer.step == step)
    )
    if exists is None:
        session.add(EscalationTimer(incident_id=incident_id, step=step, due_at=due_at, status="pending", attempts=0))


def fire(session: Session, ctx: DispatchContext, incident: Incident, step: int) -> int | None:
    """Run escalation step `step` (skipping empty ones at once). Returns the step that paged someone."""
    now = ctx.clock.now()
    plan = Plan.from_json(incident.plan)
    index = step
    while (spec := plan.step(index)) is not None:
        repeat = index >= len(plan.steps)
        if spec.action == "wave":
            recipients = choose_vanguards(session, ctx, incident, plan, spec.size, now)
        else:
            recipients = choose_staff(session, incident, spec, now, repeat)
        if recipients:
            if incident.status == Status.REPORTED.value:
                transition(session, incident, Status.DISPATCHING, now, only_from=frozenset({Status.REPORTED}))
            page_recipients(session, ctx, incident, index, recipients, now, tag=f"s{index}")
            incident.escalation_level = index
            if index > 0:
                record(session, incident.id, "escalated", now, None, step=index, action=spec.action)
            schedule(session, incident.id, index + 1, now + timedelta(seconds=plan.wait_s))
            return index
        record(
            session, incident.id, "step_skipped", now, None, step=index, action=spec.action, reason="nobody available"
        )
        index += 1
    record(session, incident.id, "escalation_exhausted", now, None, step=index)
    return None


def page_replacement(session: Session, ctx: DispatchContext, incident: Incident, declined: Page) -> None:
    """A decline or a failed delivery moves to the next candidate at once, without waiting for the timer."""
    if Status(incident.status) not in OPEN_SEARCH or declined.person_kind != "vanguard":
        return
    now = ctx.clock.now()
    plan = Plan.from_json(incident.plan)
    recipients = choose_vanguards(session, ctx, incident, plan, 1, now)
    if recipients:
        page_recipients(session, ctx, incident, incident.escalation_level, recipients, now, tag=f"r{declined.id}")


def stop_search(session: Session, incident: Incident) -> None:
    session.execute(
        update(EscalationTimer)
        .where(EscalationTimer.incident_id == incident.id, EscalationTimer.status == "pending")
        .values(status="skipped")
    )


def is_active(incident: Incident) -> bool:
    return Status(incident.status) in ACTIVE


def stand_down_all(session: Session, ctx: DispatchContext, incident: Incident) -> None:
    """The incident closed before anyone went: tell everyone still paged (and the accepter) not to go."""
    now = ctx.clock.now()
    pages = session.scalars(select(Page).where(Page.incident_id == incident.id, Page.status.in_(["paged", "accepted"])))
    for page in pages:
        if page.status == "accepted" and incident.status == Status.RESOLVED.value:
            continue
        if page.status == "paged":
            page.status = "stood_down"
        enqueue(
            session,
            dedupe_key=f"{incident.id}:{page.person_id}:closed",
            to=page.phone,
            body=messages.closed_sms(
                incident.code,
                {"resolved": "解决", "cancelled": "取消", "false_alarm": "确认为误报"}.get(incident.status, "结束"),
            ),
            purpose="stand_down",
            now=now,
            incident_id=incident.id,
            page_id=page.id,
        )

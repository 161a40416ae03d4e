"""Moving on without waiting: a failed delivery, an unanswered call or a decline; and re-opening a lapsed acceptance.

A timer's wait exists for people who might still answer. Once we know someone will not (busy, no answer, failed
SMS, a decline), waiting out the rest of the step only costs the patient time, so the search moves at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch.context import DispatchContext
from dispatch.escalation import engine
from dispatch.escalation.models import EscalationTimer
from dispatch.escalation.policy import Plan
from dispatch.incidents.models import Incident, Page
from dispatch.incidents.states import OPEN_SEARCH, Status
from dispatch.incidents.transitions import record, transition
from notify import messages
from notify.outbox import enqueue

ON_SCENE_CHECK = "on_scene_check"
REPEAT_FLOOR = timedelta(seconds=10)


def hasten_next_step(session: Session, incident: Incident, now: datetime) -> bool:
    """Bring the next escalation step forward to now. True when a pending step was moved.

    Calling the same last level again gets a short floor (REPEAT_FLOOR): a phone that is busy right now would
    otherwise be rung again and again within seconds, using up the chain's patience in a burst."""
    plan = Plan.from_json(incident.plan)
    due = now if incident.escalation_level + 1 < len(plan.steps) else now + REPEAT_FLOOR
    result = session.execute(
        update(EscalationTimer)
        .where(
            EscalationTimer.incident_id == incident.id,
            EscalationTimer.kind == "step",
            EscalationTimer.step == incident.escalation_level + 1,
            EscalationTimer.status == "pending",
            EscalationTimer.due_at > due,
        )
        .values(due_at=due)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def still_waiting_on(session: Session, incident: Incident) -> int:
    """How many people paged at the current level may still answer."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Page)
            .where(Page.incident_id == incident.id, Page.step == incident.escalation_level, Page.status == "paged")
        )
        or 0
    )


def move_on(session: Session, ctx: DispatchContext, incident: Incident, page: Page, outcome: str, via: str) -> str:
    """`page`'s person will not come (`outcome`: failed, no_answer, declined): page the next candidate at once, and
    if nobody at this level is left to answer, run the next step now rather than when its timer is due.

    Idempotent: a page that is no longer awaiting an answer is left alone."""
    if page.status != "paged" or Status(incident.status) not in OPEN_SEARCH:
        return "ignored"
    now = ctx.clock.now()
    page.status = outcome
    if outcome != "declined":
        record(session, incident.id, outcome, now, page.person_id, via=via, name=page.name)
    if engine.page_replacement(session, ctx, incident, page):
        return "replaced"
    if still_waiting_on(session, incident) == 0 and hasten_next_step(session, incident, now):
        record(session, incident.id, "step_hastened", now, None, step=incident.escalation_level + 1, after=outcome)
        return "hastened"
    return "moved_on"


def schedule_on_scene_check(session: Session, incident: Incident, now: datetime) -> None:
    """After an acceptance: if nobody is on scene within the bound, the search re-opens (see `check_on_scene`)."""
    plan = Plan.from_json(incident.plan)
    earlier = session.scalar(
        select(func.count())
        .select_from(EscalationTimer)
        .where(EscalationTimer.incident_id == incident.id, EscalationTimer.kind == ON_SCENE_CHECK)
    )
    session.add(
        EscalationTimer(
            incident_id=incident.id,
            step=-(int(earlier or 0) + 1),
            kind=ON_SCENE_CHECK,
            due_at=now + timedelta(seconds=plan.on_scene_bound_s),
            status="pending",
            attempts=0,
        )
    )


def check_on_scene(session: Session, ctx: DispatchContext, incident: Incident) -> bool:
    """The bound after acceptance is over. Still not on scene: re-open the search. True when it re-opened."""
    if incident.status != Status.ACCEPTED.value:
        return False
    now = ctx.clock.now()
    lapsed = incident.accepted_by
    if not transition(
        session,
        incident,
        Status.DISPATCHING,
        now,
        only_from=frozenset({Status.ACCEPTED}),
        values={"accepted_by": None, "accepted_at": None},
        reason="not on scene in time",
        lapsed=lapsed,
    ):
        return False
    record(session, incident.id, "search_reopened", now, None, lapsed=lapsed)
    page = session.scalar(select(Page).where(Page.incident_id == incident.id, Page.person_id == lapsed))
    if page is not None:
        page.status = "lapsed"
        enqueue(
            session,
            dedupe_key=f"{incident.id}:{page.person_id}:lapsed:{now.isoformat()}",
            to=page.phone,
            body=messages.lapsed_sms(incident.code),
            purpose="notice",
            now=now,
            incident_id=incident.id,
            page_id=page.id,
        )
    engine.fire(session, ctx, incident, max(0, incident.escalation_level) + 1)
    return True

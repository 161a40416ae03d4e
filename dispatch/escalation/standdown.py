"""Standing people down: telling those paged that they are not needed (any more), and why."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import wellbeing
from dispatch.context import DispatchContext
from dispatch.incidents.models import Incident, Page
from dispatch.incidents.states import Status
from dispatch.incidents.transitions import record
from notify import messages
from notify.outbox import enqueue


def stand_down_waiting(
    session: Session,
    ctx: DispatchContext,
    incident: Incident,
    *,
    keep: int | None = None,
    only_role: str | None = None,
    spare_roles: frozenset[str] = frozenset(),
) -> None:
    """A role is covered: those still paged for it (all roles unless `only_role`; never `spare_roles`, whose
    places are still open; never page `keep`) are told not to go."""
    now = ctx.clock.now()
    query = select(Page).where(Page.incident_id == incident.id, Page.id != (keep or -1), Page.status == "paged")
    if only_role is not None:
        query = query.where(Page.role == only_role)
    if spare_roles:
        query = query.where(Page.role.not_in(sorted(spare_roles)))
    stood_down = []
    for other in session.scalars(query):
        other.status = "stood_down"
        stood_down.append(other.person_id)
        enqueue(
            session,
            dedupe_key=f"{incident.id}:{other.person_id}:stand_down",
            to=other.phone,
            body=messages.stand_down_sms(incident.code),
            purpose="stand_down",
            now=now,
            incident_id=incident.id,
            page_id=other.id,
        )
    if stood_down:
        record(session, incident.id, "stood_down", now, None, people=stood_down)


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
    # Whoever went gets asked, some time later, how it went.
    wellbeing.schedule_followup(session, ctx, incident)

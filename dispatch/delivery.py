"""What dispatch records when the outbox delivers (or gives up on) a message: timeline events, failed pages."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.context import DispatchContext
from dispatch.escalation import engine
from dispatch.incidents.models import Incident, Page
from dispatch.incidents.transitions import record
from notify.outbox import Delivery


def record_outcome(ctx: DispatchContext, session: Session, delivery: Delivery) -> None:
    if delivery.incident_id is None:
        return
    page = session.get(Page, delivery.page_id) if delivery.page_id is not None else None
    person = page.person_id if page else None
    now = ctx.clock.now()
    if delivery.sent is not None:
        record(
            session,
            delivery.incident_id,
            f"{delivery.purpose}_sent",
            now,
            None,
            person=person,
            provider=delivery.sent.provider,
            provider_id=delivery.sent.provider_id,
        )
        return
    if not delivery.gave_up:
        return
    record(
        session, delivery.incident_id, f"{delivery.purpose}_failed", now, None, person=person, error=str(delivery.error)
    )
    if page is not None and delivery.purpose == "alert" and page.status == "paged":
        page.status = "failed"
        incident = session.get(Incident, delivery.incident_id)
        if incident is not None:
            engine.page_replacement(session, ctx, incident, page)

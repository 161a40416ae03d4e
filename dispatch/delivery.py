"""What dispatch records when the outbox delivers (or gives up on) a message, and when the provider reports back
on it later (status callbacks): timeline events, failed pages, and moving on at once when someone is unreachable."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.context import DispatchContext
from dispatch.escalation.dispatcher import unreachable
from dispatch.incidents.models import Incident, Page
from dispatch.incidents.transitions import record
from notify.models import OutboxMessage
from notify.outbox import failover
from notify.sender import Delivery

# Twilio's final statuses that mean the person was not reached.
SMS_NOT_DELIVERED = frozenset({"failed", "undelivered"})
CALL_NOT_ANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})


def record_outcomes(ctx: DispatchContext, session: Session, deliveries: Sequence[Delivery]) -> None:
    """A batch of send outcomes: their incidents locked, their pages read in one query, then each recorded."""
    _lock_incidents(session, {d.incident_id for d in deliveries if d.incident_id is not None})
    pages = _load_pages(session, [d.page_id for d in deliveries])
    for delivery in deliveries:
        record_outcome(ctx, session, delivery, pages.get(delivery.page_id) if delivery.page_id is not None else None)


def _lock_incidents(session: Session, incident_ids: set[str]) -> None:
    """On PostgreSQL, lock the batch's incidents (in id order) before touching their pages, as every other path
    that changes pages does (an answer, a step, a confirmation): a batch may move on from a failed alert, updating
    one page and paging someone new. Without the lock it could cross a decline on the same incident (each holding
    a page or a new page's key the other wants) or another process's batch, and deadlock."""
    if incident_ids and session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Incident.id).where(Incident.id.in_(sorted(incident_ids))).order_by(Incident.id).with_for_update()
        )


def _load_pages(session: Session, page_ids: Iterable[int | None]) -> dict[int, Page]:
    wanted = sorted({i for i in page_ids if i is not None})
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Page).where(Page.id.in_(wanted)))}


def record_outcome(ctx: DispatchContext, session: Session, delivery: Delivery, page: Page | None) -> None:
    if delivery.incident_id is None:
        return
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
            channel=delivery.channel,
            provider=delivery.sent.provider,
            provider_id=delivery.sent.provider_id,
        )
        return
    if delivery.failed_over:
        record(session, delivery.incident_id, f"{delivery.purpose}_failed_over", now, None, person=person, to="voice")
        return
    if not delivery.gave_up:
        return
    record(
        session, delivery.incident_id, f"{delivery.purpose}_failed", now, None, person=person, error=str(delivery.error)
    )
    if page is not None and delivery.purpose == "alert":
        incident = session.get(Incident, delivery.incident_id)
        if incident is not None:
            unreachable(session, ctx, incident, page, "failed", via=delivery.channel)


def record_status(ctx: DispatchContext, session: Session, provider_id: str, state: str) -> str:
    """A provider status callback. Idempotent: a repeated or late callback for a page already settled does nothing."""
    msg = session.scalar(select(OutboxMessage).where(OutboxMessage.provider_id == provider_id))
    if msg is None:
        return "unknown_message"
    msg.delivery_status = state
    if msg.purpose != "alert" or msg.page_id is None or msg.incident_id is None:
        return "recorded"
    lock = session.get_bind().dialect.name == "postgresql"
    incident = session.get(Incident, msg.incident_id, with_for_update=lock)
    page = session.get(Page, msg.page_id)
    if incident is None or page is None:
        return "recorded"
    if msg.channel == "sms" and state in SMS_NOT_DELIVERED:
        record(session, incident.id, "alert_undelivered", ctx.clock.now(), None, person=page.person_id, status=state)
        if page.status == "paged" and failover(session, msg, ctx.clock.now()):
            record(session, incident.id, "alert_failed_over", ctx.clock.now(), None, person=page.person_id, to="voice")
        return unreachable(session, ctx, incident, page, "failed", via="sms_status")
    if msg.channel == "voice" and (state in CALL_NOT_ANSWERED or state == "completed"):
        # A call that ended without a keypress is as good as unanswered: do not wait out the step for it.
        return unreachable(session, ctx, incident, page, "no_answer", via=f"call_{state}")
    return "recorded"


def withdrawn(session: Session, messages: Sequence[OutboxMessage]) -> set[int]:
    """Alerts whose page was answered, stood down or lapsed before they left (their ids): sending one would page
    someone about an incident a human already has. (Outside this check a send may still cross an acceptance by
    milliseconds.)"""
    alerts = {m.id: m.page_id for m in messages if m.purpose == "alert" and m.page_id is not None}
    pages = _load_pages(session, alerts.values())
    return {
        message_id
        for message_id, page_id in alerts.items()
        if (page := pages.get(page_id)) is not None and page.status not in ("paged", "no_answer", "failed")
    }

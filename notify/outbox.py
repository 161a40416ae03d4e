"""The outbox: messages queued with the state change that wants them, delivered after commit with retries.

A provider outage delays messages, never loses them. A row is claimed with a lease before sending, so several
processes can deliver side by side; a process that dies mid-send leaves a lease that expires and is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from notify.models import OutboxMessage
from notify.ports import PhoneProvider, ProviderError, Sent

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60.0, 0.5 * 2 ** max(0, attempts - 1)))


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    to: str,
    body: str,
    purpose: str,
    now: datetime,
    incident_id: str | None = None,
    page_id: int | None = None,
    channel: str = "sms",
) -> bool:
    """Queue a message unless one with the same key exists. True when queued now."""
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if exists is not None:
        return False
    session.add(
        OutboxMessage(
            dedupe_key=dedupe_key,
            incident_id=incident_id,
            page_id=page_id,
            channel=channel,
            to=to,
            body=body,
            purpose=purpose,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )
    return True


@dataclass(frozen=True)
class Delivery:
    message_id: int
    incident_id: str | None
    page_id: int | None
    purpose: str
    sent: Sent | None
    error: ProviderError | None
    gave_up: bool


def _claim(session: Session, worker: str, now: datetime, limit: int) -> list[OutboxMessage]:
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(status="sending", claimed_by=worker, claimed_until=now + LEASE)
    )
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)))


def deliver_due(
    sessions: sessionmaker[Session],
    provider: PhoneProvider,
    now: Callable[[], datetime],
    *,
    worker: str,
    status_callback: str | None = None,
    limit: int = 50,
    on_outcome: Callable[[Session, Delivery], None] | None = None,
) -> list[Delivery]:
    """Send what is due. Each message: claim (commit), send, record the outcome (commit).

    `on_outcome` runs inside the outcome's transaction, so what the caller records about it commits with it.
    """
    with sessions.begin() as session:
        claimed = [(m.id, m.to, m.body, m.channel) for m in _claim(session, worker, now(), limit)]
    results: list[Delivery] = []
    for message_id, to, body, channel in claimed:
        sent: Sent | None = None
        error: ProviderError | None = None
        try:
            if channel == "voice":
                sent = provider.place_call(to, body, status_callback=status_callback)
            else:
                sent = provider.send_sms(to, body, status_callback=status_callback)
        except ProviderError as exc:
            error = exc
        with sessions.begin() as session:
            msg = session.get(OutboxMessage, message_id)
            if msg is None or msg.claimed_by != worker:  # lease lost to another worker meanwhile
                continue
            gave_up = False
            msg.attempts += 1
            msg.claimed_until = None
            if sent is not None:
                msg.status, msg.sent_at = "sent", now()
                msg.provider, msg.provider_id, msg.delivery_status = sent.provider, sent.provider_id, sent.status
                msg.error = None
            else:
                assert error is not None
                msg.error = str(error)
                if error.retryable and msg.attempts < MAX_ATTEMPTS:
                    msg.status, msg.next_attempt_at = "pending", now() + backoff(msg.attempts)
                else:
                    msg.status, gave_up = "failed", True
                log.warning("outbox message %s attempt %s failed: %s", message_id, msg.attempts, error)
            delivery = Delivery(message_id, msg.incident_id, msg.page_id, msg.purpose, sent, error, gave_up)
            if on_outcome is not None:
                on_outcome(session, delivery)
            results.append(delivery)
    return results

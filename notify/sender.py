"""Sending what the outbox holds: claim what is due (or take what a transaction handed over), send it through the
provider, and record the outcomes a few at a time.

A sender that loses its lease mid-batch (a slow provider, a loaded machine) renews it before the next send or, when
another sender has taken the message over, leaves it alone and records nothing over the new owner's record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from notify.lifecycle import OutboxStatus, may_become
from notify.models import OutboxMessage
from notify.outbox import (
    FAILOVER_AFTER,
    LEASE,
    MAX_ATTEMPTS,
    Claimed,
    Withdrawn,
    backoff,
    claim_due,
    due_ids,
    failover,
    withdraw_unwanted,
)
from notify.ports import PhoneProvider, ProviderError, Sent

log = logging.getLogger(__name__)

# Outcomes recorded per commit: fewer commits under load, while a status callback (it names the provider's id,
# known only once recorded) still finds its message a few sends later at most.
OUTCOMES_PER_COMMIT = 8


@dataclass(frozen=True)
class Delivery:
    """The outcome of one send, for the caller to record (`on_outcomes`)."""

    message_id: int
    incident_id: str | None
    page_id: int | None
    purpose: str
    sent: Sent | None
    error: ProviderError | None
    gave_up: bool
    failed_over: bool = False
    channel: str = "sms"


def _renew(sessions: sessionmaker[Session], message_id: int, worker: str, until: datetime) -> bool:
    with sessions.begin() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.claimed_by == worker,
                OutboxMessage.status == OutboxStatus.SENDING,
            )
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _send(provider: PhoneProvider, m: Claimed, status_callback: str | None) -> Sent:
    if m.orphaned:
        try:
            found = provider.find_sent(m.to, m.body, channel=m.channel, since=m.created_at)
        except ProviderError as exc:  # cannot tell: sending again risks a duplicate, not sending risks a life
            log.warning("outbox message %s: could not check for an earlier send (%s); sending", m.id, exc)
            found = None
        if found is not None:
            log.info("outbox message %s had gone out before its sender died (%s)", m.id, found.provider_id)
            return found
    if m.channel == "voice":
        return provider.place_call(m.to, m.body, status_callback=status_callback)
    return provider.send_sms(m.to, m.body, status_callback=status_callback)


def deliver_due(
    sessions: sessionmaker[Session],
    provider: PhoneProvider,
    now: Callable[[], datetime],
    *,
    worker: str,
    status_callback: str | None = None,
    limit: int = 50,
    on_outcomes: Callable[[Session, list[Delivery]], None] | None = None,
    lease: timedelta = LEASE,
    withdrawn: Withdrawn | None = None,
    readers: sessionmaker[Session] | None = None,
) -> list[Delivery]:
    """Send what is due: claim a batch (commit), then send, recording outcomes a few at a time (commit).

    `on_outcomes` runs inside the outcomes' transaction, so what the caller records about them commits with them.
    `withdrawn` is asked, when messages are claimed, which of them are no longer wanted (ids): those are never sent.
    `readers` (read-only sessions) look first whether anything is due: on SQLite a write transaction that finds
    nothing still makes every other writer wait for it.
    """
    if readers is not None:
        with readers() as session:
            if session.scalar(due_ids(now(), 1)) is None:
                return []
    with sessions.begin() as session:
        claimed = claim_due(session, worker, now(), limit, lease, withdrawn)
    return deliver_claimed(
        sessions, provider, now, claimed, worker=worker, held_since=now(), lease=lease,
        status_callback=status_callback, on_outcomes=on_outcomes,
    )  # fmt: skip


def still_wanted(
    sessions: sessionmaker[Session], claimed: list[Claimed], worker: str, withdrawn: Withdrawn
) -> list[Claimed]:
    """Those of `claimed` this worker still holds and that are still wanted; the others are marked withdrawn. For
    claims that waited (a backlog): meanwhile a page may have been answered or the incident stood down."""
    if not claimed:
        return []
    with sessions.begin() as session:
        held = select(OutboxMessage).where(
            OutboxMessage.id.in_([c.id for c in claimed]),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.status == OutboxStatus.SENDING,
        )
        if session.get_bind().dialect.name == "postgresql":
            held = held.with_for_update()
        rows = list(session.scalars(held))
        keep = {m.id for m in rows} - withdraw_unwanted(session, rows, withdrawn)
    return [c for c in claimed if c.id in keep]


def deliver_claimed(
    sessions: sessionmaker[Session],
    provider: PhoneProvider,
    now: Callable[[], datetime],
    claimed: list[Claimed],
    *,
    worker: str,
    held_since: datetime,
    lease: timedelta = LEASE,
    status_callback: str | None = None,
    on_outcomes: Callable[[Session, list[Delivery]], None] | None = None,
) -> list[Delivery]:
    """Send messages this worker claimed at `held_since`, recording outcomes a few at a time (commit)."""
    results: list[Delivery] = []
    attempts: list[tuple[Claimed, Sent | None, ProviderError | None]] = []
    for claimed_message in claimed:
        message_id = claimed_message.id
        sent: Sent | None = None
        error: ProviderError | None = None
        # The batch was claimed at once; sending it may outlast the lease (a slow provider, a loaded machine). Once
        # half the lease is gone, renew the claim before each send, so that a message another worker took over is
        # never sent by both (the other half must cover one send: the Twilio client times out at 10 s).
        if now() - held_since > lease / 2:
            if not _renew(sessions, message_id, worker, now() + lease):
                continue
            held_since = now()
        try:
            sent = _send(provider, claimed_message, status_callback)
        except ProviderError as exc:
            error = exc
        attempts.append((claimed_message, sent, error))
        if len(attempts) >= OUTCOMES_PER_COMMIT:
            results += _record(sessions, attempts, worker, now, on_outcomes)
            attempts = []
    if attempts:
        results += _record(sessions, attempts, worker, now, on_outcomes)
    return results


def _record(
    sessions: sessionmaker[Session],
    attempts: list[tuple[Claimed, Sent | None, ProviderError | None]],
    worker: str,
    now: Callable[[], datetime],
    on_outcomes: Callable[[Session, list[Delivery]], None] | None,
) -> list[Delivery]:
    """The outcomes of a few sends, in one transaction. A crash before it commits leaves the messages claimed;
    whoever re-claims them asks the provider first (`find_sent`), so nothing is sent twice."""
    with sessions.begin() as session:
        sent = [(claim, s) for claim, s, _ in attempts if s is not None]
        failed = [(claim, e) for claim, s, e in attempts if s is None and e is not None]
        recorded = {
            d.message_id: d
            for d in [*_record_sent(session, sent, worker, now()), *_record_failed(session, failed, worker, now)]
        }
        results = [recorded[claim.id] for claim, _, _ in attempts if claim.id in recorded]  # in the order sent
        if on_outcomes is not None and results:
            on_outcomes(session, results)
    return results


def _held(session: Session, ids: list[int], worker: str) -> set[int]:
    """Those of `ids` this worker still holds the claim on (another may have taken over an expired lease)."""
    held = select(OutboxMessage.id).where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker)
    if session.get_bind().dialect.name == "postgresql":
        held = held.with_for_update()
    return set(session.scalars(held))


# One statement for many rows (executemany) takes no IN list: the one status a message becomes sent from.
(_SENT_FROM,) = may_become(OutboxStatus.SENT)
_SENT = (
    update(OutboxMessage.__table__)  # type: ignore[arg-type]
    .where(OutboxMessage.__table__.c.id == bindparam("message_id"), OutboxMessage.__table__.c.status == _SENT_FROM)
    .values(
        status=OutboxStatus.SENT,
        attempts=bindparam("attempts"),
        claimed_until=None,
        sent_at=bindparam("sent_at"),
        provider=bindparam("provider"),
        provider_id=bindparam("provider_id"),
        delivery_status=bindparam("delivery_status"),
        error=None,
    )
)


def _record_sent(session: Session, sent: list[tuple[Claimed, Sent]], worker: str, at: datetime) -> list[Delivery]:
    """Sends that went through (the usual case): one statement for all, no rows loaded."""
    if not sent:
        return []
    held = _held(session, [claim.id for claim, _ in sent], worker)
    done = [(claim, s) for claim, s in sent if claim.id in held]
    if done:
        session.execute(
            _SENT,
            [
                {
                    "message_id": claim.id,
                    "attempts": claim.attempts + 1,
                    "sent_at": at,
                    "provider": s.provider,
                    "provider_id": s.provider_id,
                    "delivery_status": s.status,
                }
                for claim, s in done
            ],
        )
    return [
        Delivery(claim.id, claim.incident_id, claim.page_id, claim.purpose, s, None, False, False, claim.channel)
        for claim, s in done
    ]


def _record_failed(
    session: Session, failed: list[tuple[Claimed, ProviderError]], worker: str, now: Callable[[], datetime]
) -> list[Delivery]:
    """Failed sends, row by row: each is retried later, moved to a voice call, or given up on."""
    if not failed:
        return []
    ids = [claim.id for claim, _ in failed]
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids)).execution_options(populate_existing=True)
    )
    messages = {m.id: m for m in rows}
    results: list[Delivery] = []
    for claim, error in failed:
        msg = messages.get(claim.id)
        if msg is None or msg.claimed_by != worker:  # lease lost to another worker meanwhile
            continue
        gave_up = failed_over = False
        msg.attempts += 1
        msg.claimed_until = None
        msg.error = str(error)
        final = not error.retryable or msg.attempts >= MAX_ATTEMPTS
        if msg.fallback_body and msg.channel == "sms" and (final or msg.attempts >= FAILOVER_AFTER):
            msg.status, failed_over = OutboxStatus.FAILED, True
            failover(session, msg, now())
        elif not final:
            msg.status, msg.next_attempt_at = OutboxStatus.PENDING, now() + backoff(msg.attempts)
        else:
            msg.status, gave_up = OutboxStatus.FAILED, True
        log.warning("outbox message %s attempt %s failed: %s", claim.id, msg.attempts, error)
        results.append(
            Delivery(
                claim.id, msg.incident_id, msg.page_id, msg.purpose, None, error, gave_up, failed_over, msg.channel
            )
        )
    return results

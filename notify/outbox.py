"""The outbox: messages queued with the state change that wants them, delivered after commit with retries.

A provider outage delays messages, never loses them. A row is claimed with a lease before sending, so several
processes can deliver side by side; a process that dies mid-send leaves a lease that expires and is retried, after
asking the provider whether the dead process's send went through (so a crash does not page twice).

An alert SMS that keeps failing moves to a voice call (`fallback_body`, TwiML) after FAILOVER_AFTER attempts.
Replies to whoever texts us are rate limited per phone, so a stuck handset or a prankster cannot make us spam.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from notify.models import OutboxMessage
from notify.ports import PhoneProvider, ProviderError, Sent

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 8
FAILOVER_AFTER = 3
REPLY_LIMIT = 5
REPLY_WINDOW = timedelta(minutes=10)
# Outcomes recorded per commit: fewer commits under load, while a status callback (it names the provider's id,
# known only once recorded) still finds its message a few sends later at most.
OUTCOMES_PER_COMMIT = 8


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
    not_before: datetime | None = None,
    fallback_body: str | None = None,
    fresh: bool = False,
) -> bool:
    """Queue a message unless one with the same key exists. True when queued now.

    `not_before` delays delivery (a follow-up hours later); `fallback_body` is the voice version used on failover.
    `fresh`: the caller knows no message can have this key yet (it names a row made in this transaction), so the
    lookup is skipped; the unique key still stands guard.
    """
    if not fresh:
        exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if exists is not None:
            return False
    if purpose == "reply" and replies_recently(session, to, now) >= REPLY_LIMIT:
        log.warning("reply to %s dropped: %s replies in the last %s", to, REPLY_LIMIT, REPLY_WINDOW)
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
            next_attempt_at=not_before or now,
            fallback_body=fallback_body,
        )
    )
    return True


def replies_recently(session: Session, to: str, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.to == to, OutboxMessage.purpose == "reply", OutboxMessage.created_at > now - REPLY_WINDOW
            )
        )
        or 0
    )


def cancel_pending(session: Session, *, to: str, purpose: str) -> int:
    """Withdraw messages not yet sent (an opt-out takes effect at once, even for what is already queued)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.to == to, OutboxMessage.purpose == purpose, OutboxMessage.status == "pending")
        .values(status="cancelled")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Delivery:
    message_id: int
    incident_id: str | None
    page_id: int | None
    purpose: str
    sent: Sent | None
    error: ProviderError | None
    gave_up: bool
    failed_over: bool = False
    channel: str = "sms"


@dataclass(frozen=True)
class _Claimed:
    id: int
    to: str
    body: str
    channel: str
    created_at: datetime
    orphaned: bool  # a previous sender's lease expired mid-send: it may have gone out
    attempts: int
    incident_id: str | None
    page_id: int | None
    purpose: str

    @classmethod
    def of(cls, m: OutboxMessage) -> _Claimed:
        orphaned = m.status == "sending"
        where = (m.incident_id, m.page_id, m.purpose)
        return cls(m.id, m.to, m.body, m.channel, m.created_at, orphaned, m.attempts, *where)


def _due_ids(now: datetime, limit: int) -> Select[int]:
    return (
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


def _claim(
    session: Session,
    worker: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    withdrawn: Callable[[Session, Sequence[OutboxMessage]], set[int]] | None = None,
) -> list[_Claimed]:
    due = _due_ids(now, limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)))
    if withdrawn is not None:
        gone = withdrawn(session, [m for m in rows if m.status == "pending"])
        for m in rows:
            if m.id in gone:
                m.status = "withdrawn"  # no longer wanted (the page was answered or stood down meanwhile)
        session.flush()
        rows = [m for m in rows if m.status != "withdrawn"]
        ids = [m.id for m in rows]
    claimed = [_Claimed.of(m) for m in rows]
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(status="sending", claimed_by=worker, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return claimed


def _renew(sessions: sessionmaker[Session], message_id: int, worker: str, until: datetime) -> bool:
    with sessions.begin() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker, OutboxMessage.status == "sending"
            )
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _send(provider: PhoneProvider, m: _Claimed, status_callback: str | None) -> Sent:
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
    withdrawn: Callable[[Session, Sequence[OutboxMessage]], set[int]] | None = None,
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
            if session.scalar(_due_ids(now(), 1)) is None:
                return []
    with sessions.begin() as session:
        claimed = _claim(session, worker, now(), limit, lease, withdrawn)
    held_since = now()
    results: list[Delivery] = []
    attempts: list[tuple[_Claimed, Sent | None, ProviderError | None]] = []
    for claim in claimed:
        message_id = claim.id
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
            sent = _send(provider, claim, status_callback)
        except ProviderError as exc:
            error = exc
        attempts.append((claim, sent, error))
        if len(attempts) >= OUTCOMES_PER_COMMIT:
            results += _record(sessions, attempts, worker, now, on_outcomes)
            attempts = []
    if attempts:
        results += _record(sessions, attempts, worker, now, on_outcomes)
    return results


def _record(
    sessions: sessionmaker[Session],
    attempts: list[tuple[_Claimed, Sent | None, ProviderError | None]],
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


_SENT = (
    update(OutboxMessage.__table__)  # type: ignore[arg-type]
    .where(OutboxMessage.__table__.c.id == bindparam("message_id"))
    .values(
        status="sent",
        attempts=bindparam("attempts"),
        claimed_until=None,
        sent_at=bindparam("sent_at"),
        provider=bindparam("provider"),
        provider_id=bindparam("provider_id"),
        delivery_status=bindparam("delivery_status"),
        error=None,
    )
)


def _record_sent(session: Session, sent: list[tuple[_Claimed, Sent]], worker: str, at: datetime) -> list[Delivery]:
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
    session: Session, failed: list[tuple[_Claimed, ProviderError]], worker: str, now: Callable[[], datetime]
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
            msg.status, failed_over = "failed", True
            failover(session, msg, now())
        elif not final:
            msg.status, msg.next_attempt_at = "pending", now() + backoff(msg.attempts)
        else:
            msg.status, gave_up = "failed", True
        log.warning("outbox message %s attempt %s failed: %s", claim.id, msg.attempts, error)
        results.append(
            Delivery(
                claim.id, msg.incident_id, msg.page_id, msg.purpose, None, error, gave_up, failed_over, msg.channel
            )
        )
    return results


def failover(session: Session, msg: OutboxMessage, now: datetime) -> bool:
    """SMS keeps failing (or was reported undelivered): the same alert goes out as a voice call, at once."""
    if msg.fallback_body is None:
        return False
    return enqueue(
        session,
        dedupe_key=f"{msg.dedupe_key}:voice",
        to=msg.to,
        body=msg.fallback_body,
        purpose=msg.purpose,
        now=now,
        incident_id=msg.incident_id,
        page_id=msg.page_id,
        channel="voice",
    )

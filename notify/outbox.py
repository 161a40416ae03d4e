"""The outbox: messages queued with the state change that wants them, delivered after commit with retries.

A provider outage delays messages, never loses them. A row is claimed with a lease before sending, so several
processes can deliver side by side; a process that dies mid-send leaves a lease that expires and is retried, after
asking the provider whether the dead process's send went through (so a crash does not page twice). Sending and
recording outcomes is `notify.sender`'s part.

A transaction may claim what it queues for its own process's sender (`Handover`): an escalation step's wave then
leaves the moment the step commits, without a claim transaction of its own.

An alert SMS that keeps failing moves to a voice call (`fallback_body`, TwiML) after FAILOVER_AFTER attempts.
Replies to whoever texts us are rate limited per phone, so a stuck handset or a prankster cannot make us spam.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from notify.lifecycle import OutboxStatus, may_become
from notify.models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 8
FAILOVER_AFTER = 3
REPLY_LIMIT = 5
REPLY_WINDOW = timedelta(minutes=10)
HANDOVER = "notify.outbox.handover"  # the session.info key of a transaction's Handover

# Asked which of some messages are no longer wanted (their ids): e.g. alerts whose page was answered meanwhile.
Withdrawn = Callable[[Session, Sequence[OutboxMessage]], set[int]]


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
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        incident_id=incident_id,
        page_id=page_id,
        channel=channel,
        to=to,
        body=body,
        purpose=purpose,
        status=OutboxStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=not_before or now,
        fallback_body=fallback_body,
    )
    handover = session.info.get(HANDOVER)
    if isinstance(handover, Handover) and message.next_attempt_at <= now:
        handover.take(message)
    session.add(message)
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
        .where(OutboxMessage.to == to, OutboxMessage.purpose == purpose, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claimed:
    """What a sender needs of a message it holds the claim on."""

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
    def of(cls, m: OutboxMessage, orphaned: bool) -> Claimed:
        where = (m.incident_id, m.page_id, m.purpose)
        return cls(m.id, m.to, m.body, m.channel, m.created_at, orphaned, m.attempts, *where)


@dataclass
class Handover:
    """Messages claimed for this process's own sender by the transaction that queues them (`begin`).

    Once that transaction commits they are the sender's to send (`claims`), with no claim transaction in between.
    If the process dies before sending them, their lease runs out and any sender takes them over, asking the
    provider first whether they went out (see `Claimed.orphaned`)."""

    worker: str
    since: datetime
    lease: timedelta
    messages: list[OutboxMessage] = field(default_factory=list)

    @classmethod
    def begin(cls, session: Session, worker: str, now: datetime, lease: timedelta) -> Handover:
        handover = cls(worker, now, lease)
        session.info[HANDOVER] = handover
        return handover

    def take(self, message: OutboxMessage) -> None:
        message.status, message.claimed_by, message.claimed_until = (
            OutboxStatus.SENDING,
            self.worker,
            self.since + self.lease,
        )
        self.messages.append(message)

    def claims(self) -> list[Claimed]:
        """After the commit (ids are known, and the claims are real)."""
        return [Claimed.of(m, orphaned=False) for m in self.messages if m.id is not None]


def due_ids(now: datetime, limit: int) -> Select[int]:
    return (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until < now),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )


def claim_due(
    session: Session,
    worker: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    withdrawn: Withdrawn | None = None,
) -> list[Claimed]:
    due = due_ids(now, limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)))
    if withdrawn is not None:  # an orphaned send ("sending") may have gone out: only pending ones are withdrawn
        gone = withdraw_unwanted(session, [m for m in rows if m.status == OutboxStatus.PENDING], withdrawn)
        session.flush()
        rows = [m for m in rows if m.id not in gone]
        ids = [m.id for m in rows]
    claimed = [Claimed.of(m, orphaned=m.status == OutboxStatus.SENDING) for m in rows]
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(may_become(OutboxStatus.SENDING)))
        .values(status=OutboxStatus.SENDING, claimed_by=worker, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return claimed


def withdraw_unwanted(session: Session, messages: Sequence[OutboxMessage], withdrawn: Withdrawn) -> set[int]:
    """Mark those of `messages` no longer wanted as withdrawn (never to be sent); returns their ids."""
    gone = withdrawn(session, messages)
    for m in messages:
        if m.id in gone:
            m.status = OutboxStatus.WITHDRAWN
    return gone


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

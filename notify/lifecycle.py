"""The life of an outbox message: one table of allowed moves, one check. Nothing else changes a message's status.

A message is queued pending. pending -> sending (claimed by a sender, or handed over by the transaction that
queues it), withdrawn (no longer wanted) or cancelled (an opt-out). sending -> sent, failed (given up on, or moved
to a voice call, which is a new message), pending (a failed attempt waits for its retry; an unsent claim is handed
back), withdrawn (its page was answered while it waited in a claimed backlog) or sending again (another sender
takes over an expired claim). The rest are final.
"""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its time (next_attempt_at)
    SENDING = "sending"  # claimed by a sender (claimed_by, claimed_until)
    SENT = "sent"  # the provider took it
    FAILED = "failed"  # given up on, or failed over to a voice call
    WITHDRAWN = "withdrawn"  # no longer wanted before it left (its page was answered or stood down)
    CANCELLED = "cancelled"  # its phone opted out while it waited


QUEUED_AS = frozenset({OutboxStatus.PENDING})  # what a new message may start as

ALLOWED: dict[OutboxStatus, frozenset[OutboxStatus]] = {
    OutboxStatus.PENDING: frozenset({OutboxStatus.SENDING, OutboxStatus.WITHDRAWN, OutboxStatus.CANCELLED}),
    OutboxStatus.SENDING: frozenset(
        {OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.WITHDRAWN}
    ),
    OutboxStatus.SENT: frozenset(),
    OutboxStatus.FAILED: frozenset(),
    OutboxStatus.WITHDRAWN: frozenset(),
    OutboxStatus.CANCELLED: frozenset(),
}

FINAL = frozenset(s for s, moves in ALLOWED.items() if not moves)


class TransitionError(ValueError):
    def __init__(self, current: OutboxStatus | None, target: OutboxStatus) -> None:
        was = "a new outbox message" if current is None else f"an outbox message that is {current.value}"
        super().__init__(f"{was} cannot become {target.value}")


def check_transition(current: str | None, target: str) -> OutboxStatus:
    """The status `target` if a message that is `current` (None: not yet queued) may move there; raises otherwise."""
    was = None if current is None else OutboxStatus(current)
    becomes = OutboxStatus(target)
    if becomes not in (QUEUED_AS if was is None else ALLOWED[was]):
        raise TransitionError(was, becomes)
    return becomes


def may_become(target: OutboxStatus) -> tuple[OutboxStatus, ...]:
    """The statuses a message may be in to move to `target`: the guard of a bulk UPDATE, which no ORM check sees."""
    return tuple(s for s in OutboxStatus if target in ALLOWED[s])

"""Durable timers, fired exactly once across processes.

A due timer is fired in one transaction that takes it (FOR UPDATE SKIP LOCKED on PostgreSQL, so other processes
take the next one; SQLite's write lock on SQLite), runs its step and marks it done together with everything the step
wrote. A process that dies mid-step commits nothing: its connection's locks go with it and the timer is due again
at once, for any process. A step that fails with an error is put back with a lease (`claimed_until`), so it is
retried after that instead of in a tight loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.context import DispatchContext
from dispatch.db.engine import reader
from dispatch.escalation import dispatcher
from dispatch.escalation.lifecycle import TimerStatus
from dispatch.escalation.models import EscalationTimer
from dispatch.escalation.snapshot import Tick
from dispatch.incidents.models import Incident
from dispatch.incidents.states import CLOSED, Status
from notify.outbox import Handover

log = logging.getLogger(__name__)

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for FOR UPDATE NOWAIT on a row another transaction holds


class IncidentBusy(Exception):
    """The timer's incident is locked by a transaction under way; the timer stays due."""


@dataclass(frozen=True)
class Fired:
    timer_id: int | None
    result: Literal["fired", "none_due", "busy", "failed"]


LEASE = timedelta(seconds=30)


class TimerRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        ctx: DispatchContext,
        worker: str,
        on_fired: Callable[[], None] | None = None,
        lease: timedelta = LEASE,
        readers: sessionmaker[Session] | None = None,
    ) -> None:
        """`readers`: read-only sessions on the same database (made from `sessions` when not given).

        `hand_over` (set when this process sends too): a step's messages are claimed for this worker in the step's
        transaction and passed on once it commits, so they leave without waiting for a claim of their own."""
        self.hand_over: Callable[[Handover], None] | None = None
        self._sessions = sessions
        self._readers = readers or sessionmaker(reader(sessions.kw["bind"]))
        self._ctx = ctx
        self.worker = worker
        self._on_fired = on_fired
        self.lease = lease

    @staticmethod
    def _due(now: datetime) -> Select[EscalationTimer]:
        return select(EscalationTimer).where(
            or_(
                (EscalationTimer.status == "pending") & (EscalationTimer.due_at <= now),
                # Put back after an error (or claimed by a version that leased timers before firing them).
                (EscalationTimer.status == "claimed") & (EscalationTimer.claimed_until < now),
            ),
        )

    def _next_due(self, session: Session, now: datetime, skip: Collection[int]) -> EscalationTimer | None:
        due = self._due(now).order_by(EscalationTimer.due_at, EscalationTimer.id).limit(1)
        if skip:
            due = due.where(EscalationTimer.id.not_in(skip))
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        return session.scalars(due).first()

    def count_due(self, limit: int) -> int:
        """How many timers are due (at most `limit`), read without taking a write turn: on SQLite a write
        transaction that finds nothing due still makes every request writer wait for it."""
        now = self._ctx.clock.now()
        with self._readers() as session:
            query = self._due(now).with_only_columns(EscalationTimer.id).limit(limit)
            return len(session.scalars(query).all())

    def fire_next(self, skip: Collection[int] = ()) -> Fired:
        """Fire the earliest due timer (but those in `skip`), in one transaction with what its step writes."""
        now = self._ctx.clock.now()
        timer_id: int | None = None
        hand_over = self.hand_over  # read once: the worker may switch it off meanwhile
        handover: Handover | None = None
        try:
            with self._sessions.begin() as session:
                if hand_over is not None:
                    handover = Handover.begin(session, self.worker, now, self.lease)
                timer = self._next_due(session, now, skip)
                if timer is None:
                    return Fired(None, "none_due")
                timer_id = timer.id
                self._fire(session, timer, now)
            if hand_over is not None and handover is not None and handover.messages:
                hand_over(handover)
            return Fired(timer_id, "fired")
        except IncidentBusy:
            return Fired(timer_id, "busy")  # rolled back: still due, tried again at the next wake or tick
        except Exception:  # one bad incident must not stop the others' escalation
            log.exception("escalation timer %s failed; it will be retried after %s", timer_id, self.lease)
            if timer_id is not None:
                self._put_back(timer_id, now)
            return Fired(timer_id, "failed")

    def _fire(self, session: Session, timer: EscalationTimer, now: datetime) -> None:
        incident = self._lock_incident(session, timer.incident_id)
        timer.fired_at, timer.claimed_by, timer.claimed_until = now, self.worker, None
        timer.attempts += 1
        if incident is None or Status(incident.status) in CLOSED:
            timer.status = TimerStatus.SKIPPED.value
            return
        timer.status = TimerStatus.DONE.value
        dispatcher.decide(session, self._ctx, incident, [Tick()])

    @staticmethod
    def _lock_incident(session: Session, incident_id: str) -> Incident | None:
        """The incident, locked for the step. On PostgreSQL without waiting: a response (an acceptance, a decline)
        locks the incident first and then updates its timers, so waiting here while holding the timer's lock could
        deadlock with it. The timer stays due and is tried again at the next wake or tick."""
        if session.get_bind().dialect.name != "postgresql":
            return session.get(Incident, incident_id, populate_existing=True)  # SQLite: the write lock is ours
        try:
            return session.get(Incident, incident_id, with_for_update={"nowait": True}, populate_existing=True)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise IncidentBusy(incident_id) from exc
            raise

    def _put_back(self, timer_id: int, now: datetime) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(EscalationTimer)
                .where(EscalationTimer.id == timer_id, EscalationTimer.status.in_(["pending", "claimed"]))
                .values(
                    status="claimed",
                    claimed_by=self.worker,
                    claimed_until=now + self.lease,
                    attempts=EscalationTimer.attempts + 1,
                )
            )

    def run_due(self, limit: int = 50) -> int:
        """Fire the timers due now, up to `limit`; returns how many fired (a stale step that did nothing counts).
        Timers falling due meanwhile wait for the next round (a wake or a tick)."""
        fired = 0
        busy: set[int] = set()
        for _ in range(self.count_due(limit)):
            outcome = self.fire_next(skip=busy)
            if outcome.timer_id is None:  # another process took the rest (or the database failed first)
                break
            if outcome.result == "busy":  # left due; skipped for the rest of this round
                busy.add(outcome.timer_id)
            fired += outcome.result == "fired"
        if fired and self._on_fired:
            self._on_fired()
        return fired

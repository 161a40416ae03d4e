"""Durable timers, fired exactly once across processes.

A due timer is fired in one transaction that takes it (FOR UPDATE SKIP LOCKED on PostgreSQL, so other processes
take the next one; SQLite's write lock on SQLite), runs its step and marks it done together with everything the step
wrote. A process that dies mid-step commits nothing: its connection's locks go with it and the timer is due again
at once, for any process. A step that fails with an error is put back with a lease (`claimed_until`), so it is
retried after that instead of in a tight loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch.context import DispatchContext
from dispatch.escalation import engine, moves
from dispatch.escalation.models import EscalationTimer
from dispatch.incidents.models import Incident
from dispatch.incidents.states import OPEN_SEARCH, Status

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)


class TimerRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        ctx: DispatchContext,
        worker: str,
        on_fired: Callable[[], None] | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self._sessions = sessions
        self._ctx = ctx
        self.worker = worker
        self._on_fired = on_fired
        self.lease = lease

    def _next_due(self, session: Session, now: datetime) -> EscalationTimer | None:
        due = (
            select(EscalationTimer)
            .where(
                or_(
                    (EscalationTimer.status == "pending") & (EscalationTimer.due_at <= now),
                    # Put back after an error (or claimed by a version that leased timers before firing them).
                    (EscalationTimer.status == "claimed") & (EscalationTimer.claimed_until < now),
                )
            )
            .order_by(EscalationTimer.due_at, EscalationTimer.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        return session.scalars(due).first()

    def fire_next(self) -> bool | None:
        """Fire the earliest due timer, in one transaction with what its step writes. None when nothing is due;
        False when its step failed (put back for a retry after the lease)."""
        now = self._ctx.clock.now()
        timer_id: int | None = None
        try:
            with self._sessions.begin() as session:
                timer = self._next_due(session, now)
                if timer is None:
                    return None
                timer_id = timer.id
                self._fire(session, timer, now)
            return True
        except Exception:  # one bad incident must not stop the others' escalation
            log.exception("escalation timer %s failed; it will be retried after %s", timer_id, self.lease)
            if timer_id is not None:
                self._put_back(timer_id, now)
            return False

    def _fire(self, session: Session, timer: EscalationTimer, now: datetime) -> None:
        lock = session.get_bind().dialect.name == "postgresql"
        incident = session.get(Incident, timer.incident_id, with_for_update=lock, populate_existing=True)
        timer.fired_at, timer.claimed_by, timer.claimed_until = now, self.worker, None
        timer.attempts += 1
        if timer.kind == moves.ON_SCENE_CHECK:
            reopened = incident is not None and moves.check_on_scene(session, self._ctx, incident)
            timer.status = "done" if reopened else "skipped"
            return
        if incident is None or Status(incident.status) not in OPEN_SEARCH or incident.escalation_level >= timer.step:
            timer.status = "skipped"  # accepted, closed, or overtaken: a stale step does nothing
            return
        timer.status = "done"
        engine.fire(session, self._ctx, incident, timer.step)

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
        """Fire up to `limit` due timers; returns how many fired (a stale step that did nothing counts)."""
        fired = 0
        for _ in range(limit):
            outcome = self.fire_next()
            if outcome is None:
                break
            fired += int(outcome)
        if fired and self._on_fired:
            self._on_fired()
        return fired

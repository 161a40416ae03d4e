"""Durable timers, fired exactly once across processes.

Each due timer row is claimed with a lease (UPDATE ... claimed_by, claimed_until; FOR UPDATE SKIP LOCKED on
PostgreSQL). The step then runs in one transaction that re-checks the claim under a row lock and marks the timer
done together with everything the step wrote. A process that dies mid-step leaves a lease that expires; another
process re-claims the timer and, since nothing of the dead attempt committed, the step happens once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

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

    def claim_due(self, limit: int = 50) -> list[int]:
        now = self._ctx.clock.now()
        with self._sessions.begin() as session:
            due = (
                select(EscalationTimer.id)
                .where(
                    or_(
                        (EscalationTimer.status == "pending") & (EscalationTimer.due_at <= now),
                        (EscalationTimer.status == "claimed") & (EscalationTimer.claimed_until < now),
                    )
                )
                .order_by(EscalationTimer.due_at, EscalationTimer.id)
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            ids = list(session.scalars(due))
            if ids:
                session.execute(
                    update(EscalationTimer)
                    .where(EscalationTimer.id.in_(ids))
                    .values(
                        status="claimed",
                        claimed_by=self.worker,
                        claimed_until=now + self.lease,
                        attempts=EscalationTimer.attempts + 1,
                    )
                )
            return ids

    def fire(self, timer_id: int) -> bool:
        """Run one claimed timer's step. False when the claim was lost (another process has it)."""
        with self._sessions.begin() as session:
            lock = session.get_bind().dialect.name == "postgresql"
            timer = session.get(EscalationTimer, timer_id, with_for_update=lock, populate_existing=True)
            if timer is None or timer.status != "claimed" or timer.claimed_by != self.worker:
                return False
            incident = session.get(Incident, timer.incident_id, with_for_update=lock, populate_existing=True)
            now = self._ctx.clock.now()
            timer.fired_at = now
            if timer.kind == moves.ON_SCENE_CHECK:
                reopened = incident is not None and moves.check_on_scene(session, self._ctx, incident)
                timer.status = "done" if reopened else "skipped"
                return True
            stale = incident is None or Status(incident.status) not in OPEN_SEARCH
            if stale or incident is None or incident.escalation_level >= timer.step:
                timer.status = "skipped"  # accepted, closed, or overtaken: a stale step does nothing
                return True
            timer.status = "done"
            engine.fire(session, self._ctx, incident, timer.step)
        return True

    def run_due(self, limit: int = 50) -> int:
        fired = 0
        for timer_id in self.claim_due(limit):
            try:
                if self.fire(timer_id):
                    fired += 1
            except Exception:  # one bad incident must not stop the others' escalation
                log.exception("escalation timer %s failed; it will be retried when its lease expires", timer_id)
        if fired and self._on_fired:
            self._on_fired()
        return fired

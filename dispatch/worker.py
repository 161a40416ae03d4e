"""The in-process trigger: APScheduler (memory job store) ticks the durable timer table and the outbox.

APScheduler holds no state that matters: timers live in the database (see escalation.runner), so a restart or a
second process loses nothing and fires nothing twice.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from dispatch.context import DispatchContext
from dispatch.delivery import record_outcome, withdrawn
from dispatch.escalation.runner import TimerRunner
from notify.outbox import Delivery, deliver_due
from notify.ports import PhoneProvider

log = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        ctx: DispatchContext,
        provider: PhoneProvider,
        status_callback: str | None,
        tick_s: float = 0.25,
        wall_clock: Callable[[], datetime] | None = None,
        lease_s: float = 30.0,
    ) -> None:
        self.id = worker_id()
        self._sessions = sessions
        self._ctx = ctx
        self._provider = provider
        self._status_callback = status_callback
        self._tick_s = tick_s
        self._wall = wall_clock or ctx.clock.now
        self._lease = timedelta(seconds=lease_s)
        self.timers = TimerRunner(sessions, ctx, self.id, on_fired=self.wake_outbox, lease=self._lease)
        self._scheduler: BackgroundScheduler | None = None

    def deliver(self) -> list[Delivery]:
        def outcome(session: Session, delivery: Delivery) -> None:
            record_outcome(self._ctx, session, delivery)

        return deliver_due(
            self._sessions,
            self._provider,
            self._ctx.clock.now,
            worker=self.id,
            status_callback=self._status_callback,
            on_outcome=outcome,
            lease=self._lease,
            withdrawn=withdrawn,
        )

    def _deliver_job(self) -> None:
        try:
            while self.deliver():
                pass
        except Exception:
            log.exception("outbox delivery failed; will retry")

    def _timers_job(self) -> None:
        try:
            self.timers.run_due()
        except Exception:
            log.exception("escalation tick failed; will retry")

    def start(self) -> None:
        scheduler = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )
        scheduler.add_job(self._timers_job, "interval", seconds=self._tick_s, id="timers")
        scheduler.add_job(self._deliver_job, "interval", seconds=self._tick_s, id="outbox")
        scheduler.start()
        self._scheduler = scheduler

    def wake_outbox(self) -> None:
        """Deliver now rather than at the next tick: the first alert should leave within milliseconds."""
        if self._scheduler is not None and self._scheduler.running:
            job = self._scheduler.get_job("outbox")
            if job is not None:
                job.modify(next_run_time=self._wall())

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None

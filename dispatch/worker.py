"""The in-process trigger: APScheduler (memory job store) ticks the durable timer table and the outbox.

APScheduler holds no state that matters: timers live in the database (see escalation.runner), so a restart or a
second process loses nothing and fires nothing twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from dispatch.context import DispatchContext
from dispatch.db.wakeups import PostgresWakeups
from dispatch.delivery import record_outcomes, withdrawn
from dispatch.escalation.runner import TimerRunner
from notify.outbox import Delivery, deliver_due
from notify.ports import PhoneProvider

log = logging.getLogger(__name__)

BATCH = 50  # timers fired, or messages sent, per round


class _Job:
    """One periodic job that can also be woken. A wake or a tick while it runs only sets a flag, and the running job
    goes round again: under load it runs back to back instead of APScheduler skipping ticks (and logging each)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def wake(self) -> bool:
        """True when the job is idle and must be scheduled to run now."""
        with self._lock:
            self._again = True
            return not self._running

    def run(self, work: Callable[[], bool], failure: str) -> None:
        with self._lock:
            if self._running:  # the tick came while a run goes round: it will see the flag
                self._again = True
                return
            self._running = True
        try:
            while True:
                with self._lock:
                    self._again = False
                try:
                    busy = work()
                except Exception:
                    log.exception(failure)
                    busy = False
                with self._lock:
                    if not busy and not self._again:
                        self._running = False
                        return
        finally:
            with self._lock:
                self._running = False


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        readers: sessionmaker[Session],
        ctx: DispatchContext,
        provider: PhoneProvider,
        status_callback: str | None,
        tick_s: float = 0.25,
        wall_clock: Callable[[], datetime] | None = None,
        lease_s: float = 30.0,
        wakeups: PostgresWakeups | None = None,
    ) -> None:
        """`wakeups` (PostgreSQL): announce work for the jobs that run in other processes (see `wakes` for the
        other way round)."""
        self.id = worker_id()
        self._sessions = sessions
        self._readers = readers  # read-only: a round looks for due work without taking a write turn
        self._ctx = ctx
        self._provider = provider
        self._status_callback = status_callback
        self._tick_s = tick_s
        self._wall = wall_clock or ctx.clock.now
        self._lease = timedelta(seconds=lease_s)
        self.timers = TimerRunner(sessions, ctx, self.id, on_fired=self.wake_outbox, lease=self._lease, readers=readers)
        self._scheduler: BackgroundScheduler | None = None
        self._timers = _Job()
        self._outbox = _Job()
        self._wakeups = wakeups
        self._jobs: frozenset[str] | None = None  # None until started: nothing runs here, nothing is announced

    def deliver(self) -> list[Delivery]:
        def outcomes(session: Session, deliveries: list[Delivery]) -> None:
            record_outcomes(self._ctx, session, deliveries)

        return deliver_due(
            self._sessions,
            self._provider,
            self._ctx.clock.now,
            worker=self.id,
            status_callback=self._status_callback,
            on_outcomes=outcomes,
            lease=self._lease,
            withdrawn=withdrawn,
            limit=BATCH,
            readers=self._readers,
        )

    def _deliver_job(self) -> None:
        def work() -> bool:
            return len(self.deliver()) >= BATCH  # a full batch: more may be due

        self._outbox.run(work, "outbox delivery failed; will retry")

    def _timers_job(self) -> None:
        # A full round: more may be due. Otherwise what falls due meanwhile comes with its wake or the next tick.
        self._timers.run(lambda: self.timers.run_due(BATCH) >= BATCH, "escalation tick failed; will retry")

    def start(self, jobs: Collection[str] = ("timers", "outbox")) -> None:
        """Run `jobs` in the background: "timers" (escalation steps) and "outbox" (sending). A job left out is
        another process's (`dispatch work`); waking it here does nothing."""
        scheduler = BackgroundScheduler(
            # Two instances: a tick during a long run starts, sees the run going on and returns at once.
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 2, "misfire_grace_time": None},
        )
        if "timers" in jobs:
            scheduler.add_job(self._timers_job, "interval", seconds=self._tick_s, id="timers")
        if "outbox" in jobs:
            scheduler.add_job(self._deliver_job, "interval", seconds=self._tick_s, id="outbox")
        scheduler.start()
        self._scheduler = scheduler
        self._jobs = frozenset(jobs)

    def wakes(self) -> dict[str, Callable[[], None]]:
        """The wake of each job this process runs (another process's announcement calls it)."""
        every = {"timers": self.wake_timers, "outbox": self.wake_outbox}
        return {job: wake for job, wake in every.items() if job in (self._jobs or ())}

    def wake(self) -> None:
        """After a request committed: a press's step 0 is due at once, and messages may be queued."""
        self.wake_timers()
        self.wake_outbox()

    def wake_timers(self) -> None:
        """Run due timers now rather than at the next tick: a press's step 0 is due the moment it commits."""
        self._wake(self._timers, "timers")

    def wake_outbox(self) -> None:
        """Deliver now rather than at the next tick: the first alert should leave within milliseconds."""
        self._wake(self._outbox, "outbox")

    def _wake(self, job: _Job, job_id: str) -> None:
        if self._jobs is not None and job_id not in self._jobs:
            if self._wakeups is not None:  # another process runs it: tell it now rather than at its next tick
                self._wakeups.announce(job_id)
            return
        if job.wake() and self._scheduler is not None and self._scheduler.running:
            scheduled = self._scheduler.get_job(job_id)
            if scheduled is not None:
                scheduled.modify(next_run_time=self._wall())

    def stop(self) -> None:
        self._jobs = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None

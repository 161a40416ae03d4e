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
from collections import deque
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch.context import DispatchContext
from dispatch.db.wakeups import PostgresWakeups
from dispatch.delivery import record_outcomes, withdrawn
from dispatch.escalation.runner import TimerRunner
from notify.lifecycle import OutboxStatus
from notify.models import OutboxMessage
from notify.outbox import Claimed, Handover
from notify.ports import PhoneProvider
from notify.sender import Delivery, deliver_claimed, deliver_due, still_wanted

log = logging.getLogger(__name__)

BATCH = 50  # timers fired, or messages sent, per round
# A step's handed-over messages that waited longer than this for the sender (a backlog) are looked at again before
# they leave: meanwhile a page may have been answered or the incident stood down.
HANDOVER_RECHECK = timedelta(seconds=1)
# How often a sending process looks for claims held by processes gone from its host (a worker killed beside it).
DEAD_SENDERS_EVERY = timedelta(seconds=5)


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


# Ids of this process's workers that have not stopped: alive, though they share this process's id.
_IN_THIS_PROCESS: set[str] = set()


def dead_on_this_host(
    holders: Iterable[str], me: str, alive: Callable[[int], bool], live_here: Collection[str] = ()
) -> set[str]:
    """Claim holders (worker ids) that were processes on this host and are gone: a process id not running, or this
    process's own id under an earlier incarnation (a container restarts with the same one) unless it is one of
    `live_here`, this process's other workers. Their claims need not wait out the lease: nothing is sending them
    any more. (Replicas that share a host name as well as a process id would mistake each other for dead: give them
    their own host names.)"""
    host, pid, _ = me.rsplit(":", 2)
    dead = set()
    for holder in holders:
        parts = holder.rsplit(":", 2)
        if len(parts) != 3 or parts[0] != host or holder == me or holder in live_here or not parts[1].isdigit():
            continue
        if int(parts[1]) == int(pid) or not alive(int(parts[1])):
            dead.add(holder)
    return dead


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


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
        _IN_THIS_PROCESS.add(self.id)
        self._sessions = sessions
        self._readers = readers  # read-only: a round looks for due work without taking a write turn
        self._ctx = ctx
        self._provider = provider
        self._status_callback = status_callback
        self._tick_s = tick_s
        self._wall = wall_clock or ctx.clock.now
        self._lease = timedelta(seconds=lease_s)
        self._handovers: deque[Handover] = deque()  # steps' messages, claimed for this worker, not yet sent
        self._dead_looked_at: datetime | None = None  # wall clock
        self.timers = TimerRunner(sessions, ctx, self.id, on_fired=self.wake_outbox, lease=self._lease, readers=readers)
        self.timers.hand_over = self._handovers.append  # until started without the outbox job
        self._scheduler: BackgroundScheduler | None = None
        self._timers = _Job()
        self._outbox = _Job()
        self._wakeups = wakeups
        self._jobs: frozenset[str] | None = None  # None until started: nothing runs here, nothing is announced

    def deliver(self) -> list[Delivery]:
        """One round: all that steps handed over (a batch at a time), then what is due (claimed here)."""
        results: list[Delivery] = []
        while self._handovers:  # even when a whole batch was withdrawn, the rest goes now
            results += self._deliver_handed_over()
        return results + deliver_due(
            self._sessions,
            self._provider,
            self._ctx.clock.now,
            worker=self.id,
            status_callback=self._status_callback,
            on_outcomes=self._record_outcomes,
            lease=self._lease,
            withdrawn=withdrawn,
            limit=BATCH,
            readers=self._readers,
        )

    def _record_outcomes(self, session: Session, deliveries: list[Delivery]) -> None:
        record_outcomes(self._ctx, session, deliveries)

    def _deliver_handed_over(self) -> list[Delivery]:
        claims, since = self._take_handed_over()
        if self._ctx.clock.now() - since > HANDOVER_RECHECK:
            claims = still_wanted(self._sessions, claims, self.id, withdrawn)
        return deliver_claimed(
            self._sessions, self._provider, self._ctx.clock.now, claims, worker=self.id, held_since=since,
            lease=self._lease, status_callback=self._status_callback, on_outcomes=self._record_outcomes,
        )  # fmt: skip

    def _take_handed_over(self) -> tuple[list[Claimed], datetime]:
        claims: list[Claimed] = []
        since = self._ctx.clock.now()
        while self._handovers and len(claims) < BATCH:
            handover = self._handovers.popleft()
            claims += handover.claims()
            since = min(since, handover.since)
        return claims, since

    def _deliver_job(self) -> None:
        def work() -> bool:
            self._look_for_dead_senders()
            return len(self.deliver()) >= BATCH  # a full batch: more may be due

        self._outbox.run(work, "outbox delivery failed; will retry")

    def _timers_job(self) -> None:
        # A full round: more may be due. Otherwise what falls due meanwhile comes with its wake or the next tick.
        self._timers.run(lambda: self.timers.run_due(BATCH) >= BATCH, "escalation tick failed; will retry")

    def start(self, jobs: Collection[str] = ("timers", "outbox")) -> None:
        """Run `jobs` in the background: "timers" (escalation steps) and "outbox" (sending). A job left out is
        another process's (`dispatch work`); waking it here does nothing."""
        if "outbox" in jobs:
            self._look_for_dead_senders()
        else:
            self.timers.hand_over = None  # the steps' messages wait for the sending process to claim them
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
        _IN_THIS_PROCESS.discard(self.id)
        self._jobs = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        try:
            self._release_handed_over()
        except Exception:  # their lease still runs out: they wait for it, not lost
            log.exception("could not put unsent messages back in the queue")

    def _release_handed_over(self) -> None:
        """Messages handed over but not sent (stopping mid-backlog) go back to the queue at once, for whoever sends
        next: they never left, so nobody need ask the provider, nor wait out the lease."""
        claims, _ = self._take_handed_over()
        while claims:
            with self._sessions.begin() as session:
                session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_([c.id for c in claims]),
                        OutboxMessage.claimed_by == self.id,
                        OutboxMessage.status == OutboxStatus.SENDING,
                    )
                    .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_until=None)
                    .execution_options(synchronize_session=False)
                )
            claims, _ = self._take_handed_over()

    def _look_for_dead_senders(self) -> None:
        """At start and every DEAD_SENDERS_EVERY: claims of this host's processes that died (a crash, a kill, a
        restart) are taken over now, not when their lease runs out. Holders on other hosts wait out the lease."""
        wall = self._wall()
        if self._dead_looked_at is not None and wall - self._dead_looked_at < DEAD_SENDERS_EVERY:
            return
        self._dead_looked_at = wall
        try:
            self._release_dead_senders()
        except Exception:  # their lease still runs out: only the head start is lost
            log.exception("could not take over the messages of senders that died on this host")

    def _release_dead_senders(self) -> None:
        """The claims stay "sending", so whoever takes them asks the provider first whether they went out. Looked
        for with a read-only query: on SQLite a write transaction makes every request writer wait for it."""
        now = self._ctx.clock.now()
        with self._readers() as session:
            holders = session.scalars(
                select(OutboxMessage.claimed_by)
                .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until >= now)
                .distinct()
            )
            dead = dead_on_this_host((h for h in holders if h is not None), self.id, is_running, _IN_THIS_PROCESS)
        if not dead:
            return
        with self._sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_by.in_(sorted(dead)))
                .values(claimed_until=now - timedelta(microseconds=1))
                .execution_options(synchronize_session=False)
            )
        log.warning("taking over the messages of senders that died on this host: %s", ", ".join(sorted(dead)))

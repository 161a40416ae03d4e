"""Waking another process's background job at once on PostgreSQL (LISTEN/NOTIFY), instead of at its next tick.

Every process wakes its own jobs after its own commits. When the roles are split (`DISPATCH_JOBS=timers dispatch
serve` beside `DISPATCH_JOBS=outbox dispatch work`), the job that must act next runs elsewhere: a process that
commits work for a job it does not run announces it, and every process listens for the jobs it does run. With
the default set-up (every process runs every job) nothing is ever announced.

A lost notification costs only latency: the job still finds its work at its next tick, from the database.
SQLite has no such channel; a separate SQLite sender polls with a short `DISPATCH_TICK_S` instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

import psycopg
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

PREFIX = "vanguard_"  # channel names: vanguard_timers, vanguard_outbox
RECONNECT_S = (0.1, 0.5, 1.0, 2.0, 5.0)


def channel(job: str) -> str:
    return PREFIX + job


def announce(engine: Engine, job: str) -> None:
    """Tell whoever runs `job` that there is work for it (committed already: the caller's transaction is done)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel(job)})
        conn.commit()


def libpq_dsn(engine: Engine) -> str:
    """The engine's database as a libpq connection string (SQLAlchemy's URL names its driver too)."""
    return make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """A thread holding one connection that LISTENs for `wakes` (job -> wake function) and calls them."""

    def __init__(self, dsn: str, wakes: Mapping[str, Callable[[], None]], poll_s: float = 0.5) -> None:
        self._dsn = dsn
        self._wakes = dict(wakes)
        self._poll_s = poll_s  # how often the thread looks at its stop flag
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while connected and listening (tests wait for it)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wakeups", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except psycopg.Error as exc:
                self.listening.clear()
                delay = RECONNECT_S[min(failures, len(RECONNECT_S) - 1)]
                failures += 1
                log.warning("wake-up channel lost (%s); the jobs still tick; reconnecting in %s s", exc, delay)
                self._stop.wait(delay)

    def _listen(self) -> None:
        with psycopg.connect(self._dsn, autocommit=True) as conn:
            for job in sorted(self._wakes):
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel(job))))
            self.listening.set()
            while not self._stop.is_set():
                for notice in conn.notifies(timeout=self._poll_s):
                    wake = self._wakes.get(notice.channel.removeprefix(PREFIX))
                    if wake is not None:
                        wake()
        self.listening.clear()


class PostgresWakeups:
    """What the worker uses: announce work for a job run elsewhere, listen for the jobs run here."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._listener: Listener | None = None

    def announce(self, job: str) -> None:
        try:
            announce(self._engine, job)
        except Exception as exc:
            log.warning("could not announce work for %s (%s); it is picked up at the next tick", job, exc)

    def listen(self, wakes: Mapping[str, Callable[[], None]]) -> Listener:
        self.stop()
        self._listener = Listener(libpq_dsn(self._engine), wakes)
        self._listener.start()
        return self._listener

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

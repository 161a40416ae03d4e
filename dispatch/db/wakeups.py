"""Telling the other app processes on PostgreSQL (LISTEN/NOTIFY): work for a job they run, and vanguard changes.

- **Jobs.** Every process wakes its own jobs after its own commits. When the roles are split
  (`DISPATCH_JOBS=timers dispatch serve` beside `DISPATCH_JOBS=outbox dispatch work`), the job that must act next
  runs elsewhere: a process that commits work for a job it does not run announces it, and every process listens
  for the jobs it runs. With every job in every process (the default) nothing is announced. A lost notification
  costs only latency: the job still finds its work at its next tick, from the database.
- **The directory.** Each process matches against its own in-memory directory. A vanguard's availability,
  schedule or position change is notified inside the transaction that writes it (delivered when it commits, never
  if it rolls back); the other processes re-read that vanguard. On every (re)connection of the listener the whole
  roster is re-read, so a change made while it was away is not missed.

SQLite has no such channel: a separate SQLite sender polls with a short `DISPATCH_TICK_S`, and the directories of
several processes on one SQLite file are not kept in step (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

import psycopg
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

PREFIX = "vanguard_"  # channels: vanguard_timers, vanguard_outbox, vanguard_directory
DIRECTORY = "directory"
RECONNECT_S = (0.1, 0.5, 1.0, 2.0, 5.0)

Handler = Callable[[str], None]  # called with the notification's payload


def channel(topic: str) -> str:
    return PREFIX + topic


_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def notify_in(session: Session, topic: str, payload: str = "") -> None:
    """Within the caller's transaction: delivered when it commits, never if it rolls back. Nothing on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY, {"channel": channel(topic), "payload": payload})


def announce(engine: Engine, topic: str, payload: str = "") -> None:
    """At once, in a transaction of its own (the caller's work is committed already)."""
    with engine.begin() as conn:
        conn.execute(_NOTIFY, {"channel": channel(topic), "payload": payload})


def libpq_dsn(engine: Engine) -> str:
    """The engine's database as a libpq connection string (SQLAlchemy's URL names its driver too)."""
    return make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """A thread holding one connection that LISTENs for the `handlers`' topics and calls them with each payload.

    `on_connect` runs each time the listening starts, first and after a lost connection: what was notified while
    nobody listened is gone, so it is the place to catch up."""

    def __init__(
        self,
        dsn: str,
        handlers: Mapping[str, Handler],
        on_connect: Callable[[], None] | None = None,
        poll_s: float = 0.5,
    ) -> None:
        self._dsn = dsn
        self._handlers = dict(handlers)
        self._on_connect = on_connect
        self._poll_s = poll_s  # how often the thread looks at its stop flag
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while connected and listening (tests wait for it)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="notifications", daemon=True)
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
                log.warning("notification channel lost (%s); jobs still tick; reconnecting in %s s", exc, delay)
                self._stop.wait(delay)

    def _listen(self) -> None:
        with psycopg.connect(self._dsn, autocommit=True) as conn:
            for topic in sorted(self._handlers):
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel(topic))))
            if self._on_connect is not None:
                self._call(self._on_connect)
            self.listening.set()
            while not self._stop.is_set():
                for notice in conn.notifies(timeout=self._poll_s):
                    handler = self._handlers.get(notice.channel.removeprefix(PREFIX))
                    if handler is not None:
                        self._call(handler, notice.payload)
        self.listening.clear()

    @staticmethod
    def _call(handler: Callable[..., None], *args: str) -> None:
        try:
            handler(*args)
        except Exception:  # a failing handler must not stop the listening
            log.exception("handling a notification failed")


class PostgresWakeups:
    """One process's side: announce work for jobs run elsewhere, listen for what concerns this process."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._listener: Listener | None = None

    def announce(self, job: str) -> None:
        try:
            announce(self._engine, job)
        except Exception as exc:
            log.warning("could not announce work for %s (%s); it is picked up at the next tick", job, exc)

    def listen(self, handlers: Mapping[str, Handler], on_connect: Callable[[], None] | None = None) -> None:
        self.stop()
        self._listener = Listener(libpq_dsn(self._engine), handlers, on_connect)
        self._listener.start()

    def listening(self, timeout: float) -> bool:
        """Whether the listener is connected and listening (waiting up to `timeout` seconds for it)."""
        return self._listener is not None and self._listener.listening.wait(timeout)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

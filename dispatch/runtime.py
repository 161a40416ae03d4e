"""The composition root: database, directory, clock, phone provider and background worker, wired once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import Clock, SystemClock
from dispatch.community.loader import is_loaded, load_community
from dispatch.context import DispatchContext
from dispatch.db import migrate
from dispatch.db.engine import make_engine, reader
from dispatch.db.wakeups import DIRECTORY, PostgresWakeups
from dispatch.directory import Directory
from dispatch.escalation.policy import load_policy
from dispatch.links import LinkSigner
from dispatch.settings import Settings
from dispatch.worker import Worker
from notify.ports import PhoneProvider
from notify.signatures import public_url
from notify.simulated import SimulatedPhoneNetwork

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    ctx: DispatchContext
    provider: PhoneProvider
    worker: Worker
    wakeups: PostgresWakeups | None = None  # PostgreSQL: what other processes tell this one, and the other way
    started: bool = field(default=False)

    def start(self) -> None:
        if not self.started:
            self.worker.start(self.settings.jobs)
            if self.wakeups is not None:
                handlers = {job: _ignore_payload(wake) for job, wake in self.worker.wakes().items()}
                handlers[DIRECTORY] = self._vanguard_changed
                self.wakeups.listen(handlers, on_connect=self._reload_roster)
            self.started = True

    def stop(self) -> None:
        if self.started:
            if self.wakeups is not None:
                self.wakeups.stop()
            self.worker.stop()
            self.started = False
        self.engine.dispose()

    def _vanguard_changed(self, payload: str) -> None:
        """Another process changed a vanguard (availability, schedule, position): re-read them."""
        origin, _, vanguard_id = payload.partition(":")
        directory = self.ctx.directory
        if origin != directory.origin and vanguard_id:
            with self.readers() as session:
                directory.reload(session, [vanguard_id])

    def _reload_roster(self) -> None:
        with self.readers() as session:
            self.ctx.directory.reload(session)


def _ignore_payload(wake: Callable[[], None]) -> Callable[[str], None]:
    return lambda _payload: wake()


def make_provider(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> PhoneProvider:
    if settings.twilio is None:
        return SimulatedPhoneNetwork(sessions, clock.now)
    from notify.twilio_provider import TwilioProvider

    t = settings.twilio
    return TwilioProvider(t.account_sid, t.auth_token, t.from_number, api_base_url=t.api_base_url)


def prepare_database(engine: Engine, sessions: sessionmaker[Session], settings: Settings) -> None:
    """Migrate to the newest schema; on an empty database load the demo community."""
    migrate.upgrade(engine)
    if settings.load_demo:
        with sessions.begin() as session:
            if not is_loaded(session):
                counts = load_community(session, settings.data_dir)
                log.info("loaded the demo community: %s", counts)


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    provider: PhoneProvider | None = None,
    engine: Engine | None = None,
    tick_s: float | None = None,
) -> Runtime:
    policy = load_policy(settings.policy_path)  # before anything is touched: a bad policy changes nothing
    clock = clock or SystemClock()
    engine = engine or make_engine(settings.database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    prepare_database(engine, sessions, settings)
    with sessionmaker(reader(engine))() as session:
        directory = Directory.load(session, streets=settings.data_dir / "streets.geojson")
    ctx = DispatchContext(
        clock=clock,
        directory=directory,
        policy=policy,
        links=LinkSigner(settings.secret_key, settings.public_base_url),
        public_base_url=settings.public_base_url,
        wait_s=settings.escalation_wait_s,
        alert_budget_per_day=settings.alert_budget_per_day,
    )
    provider = provider or make_provider(settings, sessions, clock)
    status_callback = (
        public_url(settings.public_base_url, "/webhooks/twilio/status") if settings.twilio is not None else None
    )
    readers = sessionmaker(reader(engine), expire_on_commit=False)
    wakeups = PostgresWakeups(engine) if engine.dialect.name == "postgresql" else None
    worker = Worker(
        sessions, readers, ctx, provider, status_callback, tick_s=tick_s or settings.tick_s, lease_s=settings.lease_s,
        wakeups=wakeups,
    )  # fmt: skip
    return Runtime(settings, engine, sessions, readers, ctx, provider, worker, wakeups)

"""With the roles split on PostgreSQL, the process that must act next is woken at once (LISTEN/NOTIFY), not at its
next tick; with every job in every process nothing is announced."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from dispatch.app import create_app
from dispatch.clock import FakeClock
from dispatch.db.wakeups import Listener, announce, libpq_dsn
from dispatch.runtime import Runtime, build_runtime
from dispatch.settings import Settings
from notify.simulated import inbox
from tests.support.flow import FIRST_WAVE, press
from tests.support.listening import drop_listening_connections, eventually

pytestmark = pytest.mark.parametrize("backend", ["postgis"])  # SQLite has no such channel: a sender polls

SLOW_TICK_S = 10.0  # far longer than any wait below: only a wake-up can explain a quick send


@pytest.fixture
def split(settings: Settings, clock: FakeClock) -> Iterator[tuple[Runtime, Runtime]]:
    """A serving process that fires steps, and a sending process, each ticking only every 10 s."""
    server = build_runtime(replace(settings, jobs=frozenset({"timers"}), tick_s=SLOW_TICK_S), clock=clock)
    sender = build_runtime(replace(settings, jobs=frozenset({"outbox"}), tick_s=SLOW_TICK_S), clock=clock)
    server.start()
    sender.start()
    yield server, sender
    sender.stop()
    server.stop()


def received(runtime: Runtime) -> int:
    with runtime.readers() as session:
        return sum(1 for m in inbox(session) if m.direction == "in")


def test_the_sending_process_is_woken_by_the_step_another_process_fired(split: tuple[Runtime, Runtime]) -> None:
    server, sender = split
    with TestClient(create_app(server, start_background=False), base_url="https://dispatch.example.org") as client:
        press(client, kind="medical")  # the serving process fires step 0 at once (its own wake)
        took = eventually(lambda: received(sender) == FIRST_WAVE, seconds=SLOW_TICK_S / 2)
    assert took < SLOW_TICK_S / 2, "sent on the announcement, not on the sender's tick"


def test_a_listener_wakes_only_the_jobs_it_was_given_and_survives_a_lost_connection(
    runtime: Runtime,
) -> None:
    woken: list[str] = []
    listener = Listener(libpq_dsn(runtime.engine), {"outbox": lambda _payload: woken.append("outbox")}, poll_s=0.1)
    listener.start()
    try:
        assert listener.listening.wait(5)
        announce(runtime.engine, "timers")  # not this listener's job
        announce(runtime.engine, "outbox")
        eventually(lambda: woken == ["outbox"], seconds=5)
        drop_listening_connections(runtime.engine)
        eventually(lambda: not listener.listening.is_set(), seconds=5)
        assert listener.listening.wait(5), "it reconnects"
        announce(runtime.engine, "outbox")
        eventually(lambda: woken == ["outbox", "outbox"], seconds=5)
    finally:
        listener.stop()


def test_nothing_is_announced_when_every_process_runs_every_job(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    announced: list[str] = []
    monkeypatch.setattr("dispatch.db.wakeups.announce", lambda _engine, job: announced.append(job))
    runtime.start()  # both jobs here: its own wakes suffice
    press(client, kind="medical")
    eventually(lambda: received(runtime) == FIRST_WAVE, seconds=5)
    assert announced == []

"""A step's wave is claimed for this process's sender in the step's own transaction and leaves once it commits,
without a claim transaction of its own. What that must not cost: a message sent twice, a message stuck behind the
lease of a process that is gone, or an alert sent for an incident stood down while the wave waited."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from datetime import datetime

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.clock import FakeClock
from dispatch.escalation.runner import TimerRunner
from dispatch.runtime import Runtime, build_runtime
from dispatch.settings import Settings
from dispatch.worker import DEAD_SENDERS_EVERY, HANDOVER_RECHECK, dead_on_this_host, is_running
from notify import sender
from notify.models import OutboxMessage
from notify.ports import PhoneProvider, Sent
from notify.simulated import inbox
from tests.support.flow import FIRST_WAVE, auth, deliver, phones_alerted, press
from tests.support.listening import eventually


def outbox_rows(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.readers() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def alerts_received(runtime: Runtime) -> Counter[str]:
    with runtime.readers() as session:
        return Counter(m.phone for m in inbox(session) if m.direction == "in" and "回复 1" in m.body)


def test_a_steps_wave_is_claimed_for_this_sender_when_the_step_commits(client: TestClient, runtime: Runtime) -> None:
    press(client, kind="medical")  # step 0 fires: matching, the first wave

    wave = outbox_rows(runtime)
    assert len(wave) == FIRST_WAVE
    assert {(m.status, m.claimed_by) for m in wave} == {("sending", runtime.worker.id)}
    another_sender = sender.deliver_due(runtime.sessions, runtime.provider, runtime.ctx.clock.now, worker="other")
    assert another_sender == [], "another sender finds nothing to take"

    assert deliver(runtime) == FIRST_WAVE
    assert sorted(alerts_received(runtime).values()) == [1] * FIRST_WAVE
    assert {m.status for m in outbox_rows(runtime)} == {"sent"}


def test_a_wave_that_waited_is_looked_at_again_and_not_sent_for_a_stood_down_incident(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    incident = press(client, kind="medical").json()
    cancelled = client.post(f"/api/v1/incidents/{incident['id']}/cancel", headers=auth("hh_token_one"))
    assert cancelled.status_code == 200
    clock.advance(HANDOVER_RECHECK.total_seconds() + 1)  # a backlog: the sender comes to the wave late

    deliver(runtime)

    assert phones_alerted(runtime) == set(), "nobody is paged for an incident the resident called off"
    assert {m.status for m in outbox_rows(runtime) if m.purpose == "alert"} == {"withdrawn"}


class _CountingLookups:
    """The simulated network, counting how often a sender asks whether a message went out already."""

    def __init__(self, inner: PhoneProvider) -> None:
        self.inner, self.name, self.lookups = inner, inner.name, 0

    def send_sms(self, to: str, body: str, *, status_callback: str | None = None) -> Sent:
        return self.inner.send_sms(to, body, status_callback=status_callback)

    def place_call(self, to: str, twiml: str, *, status_callback: str | None = None) -> Sent:
        return self.inner.place_call(to, twiml, status_callback=status_callback)

    def find_sent(self, to: str, body: str, *, channel: str, since: datetime) -> Sent | None:
        self.lookups += 1
        return self.inner.find_sent(to, body, channel=channel, since=since)


def test_a_worker_that_stops_with_a_wave_unsent_puts_it_back_for_the_next_sender(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    press(client, kind="medical")
    runtime.worker.stop()  # handed over, never sent

    assert {(m.status, m.claimed_by) for m in outbox_rows(runtime)} == {("pending", None)}
    provider = _CountingLookups(runtime.provider)
    sent = sender.deliver_due(runtime.sessions, provider, clock.now, worker="next")
    assert len(sent) == FIRST_WAVE, "at once: no lease to wait out"
    assert provider.lookups == 0, "it never left, so nobody need ask the provider"
    assert sorted(alerts_received(runtime).values()) == [1] * FIRST_WAVE


def test_a_process_that_died_holding_a_wave_is_taken_over_when_the_service_restarts(
    client: TestClient, runtime: Runtime, settings: Settings, clock: FakeClock
) -> None:
    runtime.worker.timers.hand_over = lambda handover: None  # the process dies the moment the step commits
    press(client, kind="medical")
    assert {m.status for m in outbox_rows(runtime)} == {"sending"}
    runtime.worker.stop()  # gone (it had nothing left to put back)

    # The restarted service runs on the same host, as the same process id (as in a container), and the fake clock
    # stands still: without taking the wave over it would wait out the dead process's lease (30 s).
    provider = _CountingLookups(runtime.provider)
    restarted = build_runtime(settings, clock=clock, provider=provider)
    restarted.worker.start(("outbox",))
    try:
        eventually(lambda: len(phones_alerted(runtime)) == FIRST_WAVE, seconds=10)
    finally:
        restarted.worker.stop()
        restarted.engine.dispose()
    assert sorted(alerts_received(runtime).values()) == [1] * FIRST_WAVE
    assert provider.lookups == FIRST_WAVE, "each was asked about first: the dead process may have sent it"


def a_dead_process_id() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # exited and reaped: its id is free
    return child.pid


def test_a_running_sender_takes_over_the_wave_of_a_process_killed_beside_it(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    runtime.worker.start(("outbox",))  # this process sends; the steps ran in another process on this host
    try:
        killed = TimerRunner(runtime.sessions, runtime.ctx, f"{socket.gethostname()}:{a_dead_process_id()}:abcdef")
        killed.hand_over = lambda handover: None  # killed the moment its step committed
        r = client.post("/api/v1/incidents", json={"kind": "medical"}, headers=auth("hh_token_one"))
        assert r.status_code == 201
        assert killed.run_due() == 1
        assert {m.claimed_by for m in outbox_rows(runtime)} == {killed.worker}

        clock.advance(DEAD_SENDERS_EVERY.total_seconds() + 1)  # the claims' lease (30 s) still runs
        eventually(lambda: len(phones_alerted(runtime)) == FIRST_WAVE, seconds=10)
    finally:
        runtime.worker.stop()
    assert sorted(alerts_received(runtime).values()) == [1] * FIRST_WAVE


def test_only_the_claims_of_processes_gone_from_this_host_are_taken_over() -> None:
    me = "box:100:aaaaaa"
    running = {100, 200}
    holders = [
        "box:100:bbbbbb",  # this process id, an earlier incarnation: gone
        "box:200:cccccc",  # another process on this host, running (a second worker, `dispatch work`)
        "box:300:dddddd",  # a process on this host that is not running any more
        "other:300:eeeeee",  # another host: only its lease can tell
        me,
        "dead-process",  # not a worker id
        "box:x:ffffff",
        "a:b:box:300:gggggg",  # host names with colons do not confuse the split
    ]
    assert dead_on_this_host(holders, me, lambda pid: pid in running) == {"box:100:bbbbbb", "box:300:dddddd"}
    another_worker_in_this_process = "box:100:bbbbbb"
    assert dead_on_this_host(holders, me, lambda pid: pid in running, {another_worker_in_this_process}) == {
        "box:300:dddddd"
    }


def test_a_worker_in_this_process_that_has_not_stopped_is_not_taken_for_dead(
    client: TestClient, runtime: Runtime, settings: Settings, clock: FakeClock
) -> None:
    runtime.worker.timers.hand_over = lambda handover: None  # holds the wave (as if about to send it)
    press(client, kind="medical")
    beside = build_runtime(settings, clock=clock, provider=runtime.provider)
    beside.worker.start(("outbox",))
    try:
        beside.worker.deliver()
    finally:
        beside.worker.stop()
        beside.engine.dispose()
    assert phones_alerted(runtime) == set(), "the wave is still the first worker's to send"
    assert {m.claimed_by for m in outbox_rows(runtime)} == {runtime.worker.id}


def test_a_process_is_running_until_it_has_exited() -> None:
    assert is_running(os.getpid())
    assert not is_running(a_dead_process_id())

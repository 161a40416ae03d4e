"""A process that dies between handing a message to the provider and recording it must not page twice."""

from __future__ import annotations

from collections import Counter

from starlette.testclient import TestClient

from dispatch.clock import FakeClock
from dispatch.runtime import Runtime
from notify import outbox
from notify.simulated import inbox
from tests.support.flow import deliver, press


def test_a_send_whose_sender_died_before_recording_it_is_found_not_repeated(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    press(client, kind="medical")
    with runtime.sessions.begin() as session:
        claimed = outbox._claim(session, "dead-process", clock.now(), 10, outbox.LEASE)
    assert len(claimed) == 3
    runtime.provider.send_sms(claimed[0].to, claimed[0].body)  # sent, then the process died: nothing recorded
    clock.advance(outbox.LEASE.total_seconds() + 1)
    assert deliver(runtime) == 3
    with runtime.readers() as session:
        received = Counter(m.phone for m in inbox(session) if m.direction == "in")
    assert sorted(received.values()) == [1, 1, 1], "each alert reached its phone exactly once"


def test_nothing_is_sent_before_the_dead_senders_lease_expires(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    press(client, kind="medical")
    with runtime.sessions.begin() as session:
        outbox._claim(session, "dead-process", clock.now(), 10, outbox.LEASE)
    assert deliver(runtime) == 0
    clock.advance(outbox.LEASE.total_seconds() + 1)
    assert deliver(runtime) == 3

"""A process that dies between handing a message to the provider and recording it must not page twice."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.clock import FakeClock
from dispatch.runtime import Runtime
from notify import outbox, sender
from notify.models import OutboxMessage
from notify.ports import Sent
from notify.simulated import inbox
from tests.support.flow import FIRST_WAVE, deliver, press


def queue_for_a_separate_sender(runtime: Runtime) -> None:
    """Steps leave their messages in the queue (as when another process sends) instead of claiming them here."""
    runtime.worker.timers.hand_over = None


def test_a_send_whose_sender_died_before_recording_it_is_found_not_repeated(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    queue_for_a_separate_sender(runtime)
    press(client, kind="medical")
    with runtime.sessions.begin() as session:
        claimed = outbox.claim_due(session, "dead-process", clock.now(), 10, outbox.LEASE)
    assert len(claimed) == FIRST_WAVE
    runtime.provider.send_sms(claimed[0].to, claimed[0].body)  # sent, then the process died: nothing recorded
    clock.advance(outbox.LEASE.total_seconds() + 1)
    assert deliver(runtime) == FIRST_WAVE
    with runtime.readers() as session:
        received = Counter(m.phone for m in inbox(session) if m.direction == "in")
    assert sorted(received.values()) == [1] * FIRST_WAVE, "each alert reached its phone exactly once"


def test_nothing_is_sent_before_the_dead_senders_lease_expires(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    queue_for_a_separate_sender(runtime)
    press(client, kind="medical")
    with runtime.sessions.begin() as session:
        outbox.claim_due(session, "dead-process", clock.now(), 10, outbox.LEASE)
    assert deliver(runtime) == 0
    clock.advance(outbox.LEASE.total_seconds() + 1)
    assert deliver(runtime) == FIRST_WAVE


class _OvertakenMidSend:
    """A provider so slow that, during the first send, the sender's lease runs out and another process takes the
    batch over (re-claims it, asks whether the first went out, sends the rest and records them)."""

    def __init__(self, runtime: Runtime, clock: FakeClock) -> None:
        self.inner, self.runtime, self.clock = runtime.provider, runtime, clock
        self.name = self.inner.name
        self.overtaken: list[sender.Delivery] = []

    def send_sms(self, to: str, body: str, *, status_callback: str | None = None) -> Sent:
        sent = self.inner.send_sms(to, body, status_callback=status_callback)
        if not self.overtaken:
            self.clock.advance(outbox.LEASE.total_seconds() + 1)
            self.overtaken = sender.deliver_due(self.runtime.sessions, self.inner, self.clock.now, worker="other")
        return sent

    def place_call(self, to: str, twiml: str, *, status_callback: str | None = None) -> Sent:
        return self.inner.place_call(to, twiml, status_callback=status_callback)

    def find_sent(self, to: str, body: str, *, channel: str, since: datetime) -> Sent | None:
        return self.inner.find_sent(to, body, channel=channel, since=since)


def test_a_sender_overtaken_mid_batch_records_nothing_over_the_new_owners_record(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    queue_for_a_separate_sender(runtime)
    press(client, kind="medical")
    slow = _OvertakenMidSend(runtime, clock)

    recorded = sender.deliver_due(runtime.sessions, slow, clock.now, worker="slow")

    assert recorded == [], "its one send went through, but the message is no longer its own to record"
    assert len(slow.overtaken) == FIRST_WAVE
    with runtime.readers() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        received = Counter(m.phone for m in inbox(session) if m.direction == "in")
    assert [(m.status, m.claimed_by, m.attempts) for m in rows] == [("sent", "other", 1)] * FIRST_WAVE
    assert sorted(received.values()) == [1] * FIRST_WAVE, "the first alert was found sent, not sent again"

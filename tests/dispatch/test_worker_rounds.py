"""What the worker's rounds cost the database and the locks they take: an idle round takes no write turn (on SQLite
every request writer would queue behind it), a wave's send outcomes read their pages in one query, and recording
them locks their incident first."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

import dispatch.delivery as delivery_module
from dispatch.clock import FakeClock
from dispatch.delivery import record_outcomes
from dispatch.incidents.models import Incident, IncidentEvent, Page
from dispatch.runtime import Runtime
from notify.ports import ProviderError
from notify.sender import Delivery
from tests.support.flow import FIRST_WAVE, deliver, phones_alerted, press


@contextmanager
def watching(engine: Engine) -> Iterator[dict[str, list[str]]]:
    seen: dict[str, list[str]] = {"write_transactions": [], "statements": []}

    def on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get("read_only"):
            seen["write_transactions"].append("begin")

    def on_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen["statements"].append(" ".join(statement.split()))

    event.listen(engine, "begin", on_begin)
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        event.remove(engine, "begin", on_begin)
        event.remove(engine, "before_cursor_execute", on_statement)


def test_an_idle_round_takes_no_write_transaction(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    press(client, kind="medical")
    deliver(runtime)
    clock.advance(5)  # the next step is due in 30 s: nothing to do now
    with watching(runtime.engine) as seen:
        assert runtime.worker.timers.run_due() == 0
        assert runtime.worker.deliver() == []
    assert seen["write_transactions"] == []
    assert seen["statements"], "it did look"


def test_a_round_fires_what_is_due_and_then_stops(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    press(client, kind="medical")
    press(client, token="hh_token_two", kind="medical")
    deliver(runtime)
    clock.advance(90)  # both incidents' "call 120 now" is due (H2's building alone has enough medics for wave 2)
    with watching(runtime.engine) as seen:
        assert runtime.worker.timers.run_due() == 2
    assert len(seen["write_transactions"]) == 2, "one transaction per step, none to find that nothing is left"


def first_wave_statements(client: TestClient, runtime: Runtime) -> tuple[list[str], list[str]]:
    """A press's first wave delivered: the statements that read pages, and those that claim messages."""
    press(client, kind="medical")
    with watching(runtime.engine) as seen:
        sent = deliver(runtime)
    assert sent == len(phones_alerted(runtime)) == FIRST_WAVE
    statements = seen["statements"]
    page_reads = [s for s in statements if s.startswith("SELECT pages.id")]
    claims = [s for s in statements if s.startswith("UPDATE outbox SET status") and "claimed_by" in s]
    return page_reads, claims


def test_a_waves_send_outcomes_read_their_pages_once(client: TestClient, runtime: Runtime) -> None:
    page_reads, claims = first_wave_statements(client, runtime)
    assert len(page_reads) == 1, "to record the outcomes (the step that paged them handed the wave over)"
    assert claims == [], "the wave was claimed in the step's transaction"


def test_a_wave_left_for_a_separate_sender_is_claimed_and_checked_before_it_leaves(
    client: TestClient, runtime: Runtime
) -> None:
    runtime.worker.timers.hand_over = None  # as when another process sends
    page_reads, claims = first_wave_statements(client, runtime)
    assert len(page_reads) == 2, "once to check none was withdrawn, once to record the outcomes"
    assert len(claims) == 1


@pytest.mark.parametrize("backend", ["postgis"])  # row locks: SQLite has one write lock
def test_recording_send_outcomes_waits_for_anyone_writing_to_the_incident(client: TestClient, runtime: Runtime) -> None:
    # An outcome may move on from a failed alert: update a page, page someone new. Another process's batch that
    # has written this incident's timeline (which takes only a key-share lock on the incident) may be about to
    # change the same pages in the other order; a batch that went ahead could deadlock with it. So the batch
    # takes the incident's lock first, as answers, steps and confirmations do, and waits its turn.
    incident_id = press(client, kind="medical").json()["id"]
    with runtime.engine.connect() as other_batch:
        held = other_batch.begin()
        other_batch.execute(select(Incident.id).where(Incident.id == incident_id).with_for_update(key_share=True))
        sent: list[int] = []
        worker = threading.Thread(target=lambda: sent.append(deliver(runtime)))
        worker.start()
        worker.join(1.0)
        assert worker.is_alive(), "the outcomes wait for the other writer"
        held.commit()
    worker.join(10)
    assert sent == [FIRST_WAVE]
    with runtime.readers() as session:
        recorded = session.scalars(
            select(IncidentEvent.type).where(
                IncidentEvent.incident_id == incident_id, IncidentEvent.type == "alert_sent"
            )
        ).all()
    assert len(recorded) == FIRST_WAVE, "each sent once and recorded once"


@pytest.mark.parametrize("backend", ["postgis"])  # row locks: SQLite has one write lock
def test_two_batches_giving_up_on_the_same_alerts_in_opposite_order_do_not_deadlock(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two sending processes each record a batch of calls that failed for good, for the same two pages (the call
    # and its SMS failover), in opposite order. Each batch moves on from both pages. Were each to update its first
    # page before waiting for the other's, they would wait on each other for ever (PostgreSQL kills one of them).
    press(client, kind="medical")
    press(client, token="hh_token_two", kind="medical")
    deliver(runtime)
    with runtime.readers() as session:
        first, second = (
            session.scalars(
                select(Page).where(Page.incident_id == i.id, Page.status == "paged").order_by(Page.id)
            ).first()
            for i in session.scalars(select(Incident).order_by(Incident.reported_at))
        )
    assert first is not None and second is not None

    def gave_up(page: Page) -> Delivery:
        error = ProviderError("no answer", retryable=False)
        return Delivery(0, page.incident_id, page.id, "alert", None, error, gave_up=True, channel="voice")

    both_moved_on_once = threading.Barrier(2, timeout=3)
    met = threading.local()
    real_move_on = delivery_module.unreachable

    def move_on_then_meet(session: Session, *args: Any, **kwargs: Any) -> str:
        outcome = real_move_on(session, *args, **kwargs)
        session.flush()  # the page's row is now locked by this batch
        if not getattr(met, "done", False):
            met.done = True
            # Each batch holds its first page when both go on to their second. A batch that instead waits for the
            # other at the incident's lock never arrives: this one goes on when the wait times out.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_moved_on_once.wait()
        return outcome

    monkeypatch.setattr(delivery_module, "unreachable", move_on_then_meet)
    errors: list[BaseException] = []

    def batch(order: list[Page]) -> None:
        try:
            with runtime.sessions.begin() as session:
                record_outcomes(runtime.ctx, session, [gave_up(p) for p in order])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=batch, args=(o,)) for o in ([first, second], [second, first])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [], "neither batch was killed as a deadlock victim"
    with runtime.readers() as session:
        statuses = {p.id: p.status for p in session.scalars(select(Page).where(Page.id.in_([first.id, second.id])))}
    assert statuses == {first.id: "failed", second.id: "failed"}

"""Escalation timer precision: make 10,000 timers pending in the server's database and measure how late they fire.

The timers belong to the benchmark's incidents, closed first (by the harness, straight in the database) so that
each firing takes the runner's real path (claim, re-check under lock, mark done) without paging anyone: what is
measured is the durable timer machinery, not the cost of a wave.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from dispatch.clock import SystemClock
from dispatch.db.engine import make_engine
from dispatch.escalation.models import EscalationTimer
from dispatch.incidents.models import Incident
from dispatch.kpi.times import percentile

FIRST_STEP = 1000  # far above any real escalation level, so these rows never collide with the service's own


def stored_incidents(database_url: str, ids: set[str]) -> int:
    """How many of the acknowledged incidents the database really holds (an acknowledged press must never vanish)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return sum(1 for i in conn.scalars(select(Incident.id)) if i in ids)
    finally:
        engine.dispose()


def deadlocks(database_url: str) -> int | None:
    """Deadlocks PostgreSQL detected in this database so far (each one aborted a transaction); None on SQLite,
    which has one write lock and cannot deadlock."""
    if not database_url.startswith("postgresql"):
        return None
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.scalar(text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"))
            return int(found or 0)
    finally:
        engine.dispose()


def _close_everything(engine: Engine, now: datetime) -> None:
    """Close the load's incidents and skip their timers. The server's own timer runner is busy with the same rows,
    so PostgreSQL may pick this transaction as a deadlock victim: then it is simply tried again."""
    for attempt in range(10):
        try:
            with engine.begin() as conn:
                conn.execute(
                    update(Incident)
                    .where(Incident.status.in_(["reported", "dispatching", "accepted", "on_scene"]))
                    .values(status="cancelled", closed_at=now)
                )
            with engine.begin() as conn:
                conn.execute(
                    update(EscalationTimer)
                    .where(EscalationTimer.status.in_(["pending", "claimed"]))
                    .values(status="skipped")
                )
            return
        except OperationalError:
            if attempt == 9:
                raise
            time.sleep(0.2 * (attempt + 1))


def measure(
    database_url: str, count: int, spread_s: float, on_fired: Callable[[int], None] | None = None
) -> dict[str, Any]:
    engine = make_engine(database_url)
    clock = SystemClock()
    try:
        _close_everything(engine, clock.now())
        with engine.connect() as conn:
            ids = list(conn.scalars(select(Incident.id).order_by(Incident.id).limit(count)))
        if not ids:
            return {"pending": 0, "note": "no incidents to hang timers on (the load phase created none)"}
        start = clock.now() + timedelta(seconds=3)
        rows = [
            {
                "incident_id": ids[k % len(ids)],
                "step": FIRST_STEP + k // len(ids),
                "due_at": start + timedelta(seconds=spread_s * k / count),
                "status": "pending",
                "attempts": 0,
            }
            for k in range(count)
        ]
        with engine.begin() as conn:
            conn.execute(insert(EscalationTimer), rows)
        ours = EscalationTimer.step >= FIRST_STEP
        deadline = time.monotonic() + spread_s + 180
        remaining = count
        while remaining and time.monotonic() < deadline:
            time.sleep(0.5)
            with engine.connect() as conn:
                remaining = int(
                    conn.scalar(
                        select(func.count())
                        .select_from(EscalationTimer)
                        .where(ours, EscalationTimer.status.in_(["pending", "claimed"]))
                    )
                    or 0
                )
            if on_fired is not None:
                on_fired(count - remaining)
        with engine.connect() as conn:
            fired = conn.execute(
                select(EscalationTimer.due_at, EscalationTimer.fired_at).where(
                    ours, EscalationTimer.fired_at.is_not(None)
                )
            ).all()
        late_ms = [(f - d).total_seconds() * 1000 for d, f in fired if f is not None]
        return {
            "pending": count,
            "due_over_s": spread_s,
            "fired": len(late_ms),
            "unfired": count - len(late_ms),
            "lateness_p50_ms": percentile(late_ms, 50),
            "lateness_p99_ms": percentile(late_ms, 99),
            "lateness_max_ms": max(late_ms) if late_ms else None,
        }
    finally:
        engine.dispose()

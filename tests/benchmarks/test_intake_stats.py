"""The intake benchmark's arithmetic: latency to the first message, losses, when a step counts as saturated."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from benchmarks import _floor, _intake_report, _timers
from benchmarks._procs import community_with_households
from benchmarks.intake import Press, not_acknowledging, saturated, step_stats
from dispatch.db.engine import make_engine


def test_latency_runs_from_the_request_to_the_first_message_at_the_provider() -> None:
    presses = [
        Press(sent=10.0, done=10.05, status=201, code="AAA", incident_id="a"),
        Press(sent=10.1, done=10.2, status=201, code="BBB", incident_id="b"),
        Press(sent=10.2, done=None, status=None, error="ReadTimeout"),
    ]
    stats = step_stats(10.0, presses, {"AAA": 10.08, "ZZZ": 11.0})
    assert stats["acknowledged"] == 2 and stats["errors"] == 1
    assert stats["error_kinds"] == {"ReadTimeout": 1}
    assert round(stats["first_message_p50_ms"]) == 80
    assert stats["no_message"] == 1  # BBB acknowledged but never reached the provider
    assert saturated(stats)


def test_a_step_that_keeps_up_with_no_errors_and_a_fast_tail_is_not_saturated() -> None:
    presses = [Press(sent=i / 10, done=i / 10 + 0.05, status=201, code=f"C{i:02d}") for i in range(10)]
    stats = step_stats(10.0, presses, {f"C{i:02d}": i / 10 + 0.06 for i in range(10)})
    assert not saturated(stats)
    slow = step_stats(10.0, presses, {f"C{i:02d}": i / 10 + 3.0 for i in range(10)})
    assert saturated(slow)  # p99 over 2 s
    assert not not_acknowledging(slow), "paging fell behind, but every press was acknowledged at once"
    late = [Press(sent=i / 10, done=i / 10 + 1.5, status=201, code=f"C{i:02d}") for i in range(10)]
    assert not_acknowledging(step_stats(10.0, late, {}))  # answered, but after more than a second


def test_refused_presses_are_counted_as_not_acknowledged_and_named_in_the_report() -> None:
    presses = [Press(sent=i / 10, done=i / 10 + 0.01, status=503) for i in range(3)]
    presses += [Press(sent=0.5, done=0.6, status=201, code="AAA")]
    stats = step_stats(10.0, presses, {"AAA": 0.7})
    assert stats["errors"] == 3 and not_acknowledging(stats)
    assert _intake_report._errors(stats) == "3 (503: 3)"


def test_the_load_community_has_one_household_per_press(tmp_path: Path) -> None:
    tokens = community_with_households(tmp_path / "c", 12_000)
    assert len(tokens) == len(set(tokens)) == 12_000
    lines = (tmp_path / "c" / "households.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12_001


def test_the_twilio_client_floor_is_measured_through_the_real_client_and_reported() -> None:
    floor = _floor.twilio_client_cost(sends=10)
    assert floor["client_cpu_ms_per_message"] > 0
    assert floor["wall_ms_per_message"] >= floor["client_cpu_ms_per_message"] * 0.5
    per_incident = floor["client_cpu_ms_per_message"] * 3
    assert floor["client_cpu_ms_per_incident"] == round(per_incident, 2)
    assert abs(floor["incidents_per_s_if_only_the_client_ran"] - 2 * 1000 / per_incident) <= 1
    report = "\n".join(_intake_report.floor_section(floor))
    assert str(floor["incidents_per_s_if_only_the_client_ran"]) in report
    assert f"{floor['client_cpu_ms_per_incident']:.2f} cores busy" in report


def test_the_deadlock_count_is_read_from_postgresql_and_rises_with_a_deadlock(postgis_url: str) -> None:
    assert _timers.deadlocks("sqlite:///unused.sqlite") is None, "SQLite has one write lock: nothing to count"
    before = _timers.deadlocks(postgis_url)
    assert before is not None
    engine = make_engine(postgis_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS deadlock_probe (id int PRIMARY KEY)"))
        conn.execute(text("TRUNCATE deadlock_probe"))
        conn.execute(text("INSERT INTO deadlock_probe VALUES (1), (2)"))
    first, second = engine.connect(), engine.connect()
    victims: list[BaseException] = []
    try:
        t1, t2 = first.begin(), second.begin()
        first.execute(text("UPDATE deadlock_probe SET id = id WHERE id = 1"))
        second.execute(text("UPDATE deadlock_probe SET id = id WHERE id = 2"))

        def cross() -> None:
            try:
                second.execute(text("UPDATE deadlock_probe SET id = id WHERE id = 1"))
            except OperationalError as exc:
                victims.append(exc)

        crossing = threading.Thread(target=cross)
        crossing.start()
        time.sleep(0.2)
        try:
            first.execute(text("UPDATE deadlock_probe SET id = id WHERE id = 2"))
        except OperationalError as exc:
            victims.append(exc)
        crossing.join(10)
        for t in (t1, t2):
            with contextlib.suppress(Exception):
                t.rollback()
    finally:
        first.close()
        second.close()
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE deadlock_probe"))
        engine.dispose()
    assert len(victims) == 1, "PostgreSQL aborted one of the two"
    deadline = time.monotonic() + 10  # backends report their statistics within about a second
    while (_timers.deadlocks(postgis_url) or 0) < before + 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (_timers.deadlocks(postgis_url) or 0) >= before + 1

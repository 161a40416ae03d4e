"""Several app processes on one PostgreSQL: a vanguard's change made through one process reaches the matching of
the others (LISTEN/NOTIFY), only once committed, and a change missed while a process was not listening is caught
up when it listens again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import update

from dispatch.clock import FakeClock
from dispatch.runtime import Runtime, build_runtime
from dispatch.settings import Settings
from dispatch.vanguards import service
from dispatch.vanguards.models import Vanguard
from dispatch.web.vanguard import _set_vanguard
from geo.crs import Crs
from tests.support.listening import drop_listening_connections, eventually

pytestmark = pytest.mark.parametrize("backend", ["postgis"])  # one SQLite file is served by one process

SLOW_TICK_S = 10.0  # the jobs stay out of the way


@pytest.fixture
def two(settings: Settings, clock: FakeClock) -> Iterator[tuple[Runtime, Runtime]]:
    a = build_runtime(replace(settings, tick_s=SLOW_TICK_S), clock=clock)
    b = build_runtime(replace(settings, tick_s=SLOW_TICK_S), clock=clock)
    for runtime in (a, b):
        runtime.start()
    for runtime in (a, b):
        assert runtime.wakeups is not None and runtime.wakeups.listening(5)
    yield a, b
    b.stop()
    a.stop()


def test_switching_off_in_one_process_stops_the_others_paging_them(two: tuple[Runtime, Runtime]) -> None:
    a, b = two
    assert b.ctx.directory.vanguard("V1").available  # type: ignore[union-attr]
    with a.sessions.begin() as session:
        service.set_available(session, a.ctx.directory, "V1", False)
    eventually(lambda: not b.ctx.directory.vanguard("V1").available)  # type: ignore[union-attr]
    assert "V1" not in b.ctx.directory.index, "out of the other process's search at once"


def test_a_new_schedule_and_a_live_position_reach_the_other_process(two: tuple[Runtime, Runtime]) -> None:
    a, b = two
    _set_vanguard(a, "V1", on_call="Mon 08:00-09:00")
    eventually(lambda: b.ctx.directory.vanguard("V1").on_call == "Mon 08:00-09:00")  # type: ignore[union-attr]

    seen = a.ctx.clock.now()
    with a.sessions.begin() as session:
        here = service.report_position(session, a.ctx.directory, "V1", 25.85, 114.93, Crs.WGS84, seen)
    assert here is not None
    eventually(lambda: b.ctx.directory.vanguard("V1").position == "live")  # type: ignore[union-attr]
    there = b.ctx.directory.vanguard("V1")
    assert there is not None and (there.x, there.y) == pytest.approx((here.x, here.y))

    with a.sessions.begin() as session:
        service.clear_position(session, a.ctx.directory, "V1")
    eventually(lambda: b.ctx.directory.vanguard("V1").position == "home")  # type: ignore[union-attr]


def test_a_change_that_rolled_back_is_never_told(two: tuple[Runtime, Runtime]) -> None:
    a, b = two
    with pytest.raises(RuntimeError), a.sessions.begin() as session:
        service.set_available(session, a.ctx.directory, "V1", False)
        raise RuntimeError("the request failed after the change")
    with a.sessions.begin() as session:  # a later change is told: the channel works, and it comes after
        service.set_available(session, a.ctx.directory, "V2", False)
    eventually(lambda: not b.ctx.directory.vanguard("V2").available)  # type: ignore[union-attr]
    assert b.ctx.directory.vanguard("V1").available  # type: ignore[union-attr]


def test_a_change_missed_while_not_listening_is_caught_up_on_reconnecting(two: tuple[Runtime, Runtime]) -> None:
    a, b = two
    with a.engine.begin() as conn:  # written without telling anyone, as if the notification were lost
        conn.execute(update(Vanguard).where(Vanguard.id == "V1").values(available=False))
    drop_listening_connections(a.engine)
    eventually(lambda: not b.ctx.directory.vanguard("V1").available, seconds=10)  # type: ignore[union-attr]

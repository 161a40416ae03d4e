"""Page, timer and incident lifecycles: one table each, an illegal move raises, and the database refuses a status
none of them knows, whoever writes it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from starlette.testclient import TestClient

from dispatch.escalation.lifecycle import (
    PAGE_MOVES,
    TIMER_MOVES,
    IllegalTransition,
    PageStatus,
    Role,
    TimerStatus,
    check_page,
    check_timer,
)
from dispatch.runtime import Runtime
from tests.support.flow import deliver, press


@pytest.mark.parametrize("current", list(PageStatus))
def test_a_page_moves_only_as_its_table_says(current: PageStatus) -> None:
    for target in PageStatus:
        if target in PAGE_MOVES[current]:
            assert check_page(current, target) is target
        else:
            with pytest.raises(IllegalTransition):
                check_page(current, target)


def test_on_scene_and_late_are_final_and_a_stood_down_person_can_only_answer_late() -> None:
    assert PAGE_MOVES[PageStatus.ON_SCENE] == PAGE_MOVES[PageStatus.LATE] == frozenset()
    assert PAGE_MOVES[PageStatus.STOOD_DOWN] == {PageStatus.LATE}


@pytest.mark.parametrize("current", list(TimerStatus))
def test_a_timer_moves_only_as_its_table_says(current: TimerStatus) -> None:
    for target in TimerStatus:
        if target in TIMER_MOVES[current]:
            assert check_timer(current, target) is target
        else:
            with pytest.raises(IllegalTransition):
                check_timer(current, target)


def test_roles_are_typed_and_a_staff_page_is_never_a_responder() -> None:
    assert Role.of("building_leader", "staff") is Role.STAFF
    assert Role.of("responder", "staff") is Role.STAFF
    assert Role.of("aed_fetcher", "vanguard").is_support and not Role.RESPONDER.is_support
    with pytest.raises(ValueError):
        Role.of("doctor", "vanguard")


@pytest.mark.parametrize(
    ("table", "constraint"),
    [
        ("incidents", "ck_incidents_status"),
        ("pages", "ck_pages_status"),
        ("escalation_timers", "ck_escalation_timers_status"),
    ],
)
def test_the_database_refuses_a_status_its_lifecycle_does_not_know(
    client: TestClient, runtime: Runtime, table: str, constraint: str
) -> None:
    press(client, kind="medical")
    deliver(runtime)
    with runtime.sessions.begin() as session, pytest.raises(IntegrityError, match=constraint):
        session.execute(text(f"UPDATE {table} SET status = 'lost'"))
    with runtime.sessions.begin() as session:
        session.execute(text(f"UPDATE {table} SET status = status"))  # a known status is taken as before

"""Settings read from the environment: a bad value is refused with the fix, never a stack trace later."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.app import create_app
from dispatch.clock import FakeClock
from dispatch.db.engine import REQUEST_THREADS
from dispatch.incidents.models import Page
from dispatch.runtime import build_runtime
from dispatch.settings import SettingsError, load_settings
from tests.support.flow import auth, press

DOCTOR = "+8617000000001"


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"DISPATCH_VAR_DIR": str(tmp_path), "DISPATCH_SECRET_KEY": "k", **values}


def test_the_alert_budget_defaults_to_the_policy_and_can_be_set(tmp_path: Path) -> None:
    assert load_settings(env(tmp_path)).alert_budget_per_day is None
    assert load_settings(env(tmp_path, ALERT_BUDGET_PER_DAY="40")).alert_budget_per_day == 40


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "many", "1001"])
def test_an_unusable_alert_budget_is_refused_with_the_fix(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match=r"ALERT_BUDGET_PER_DAY must be a whole number of alerts from 1 to 1000"):
        load_settings(env(tmp_path, ALERT_BUDGET_PER_DAY=value))


def test_the_presses_in_flight_limit_defaults_to_the_request_threads_and_can_be_set(tmp_path: Path) -> None:
    assert load_settings(env(tmp_path)).presses_in_flight_max == REQUEST_THREADS == 40
    assert load_settings(env(tmp_path, PRESSES_IN_FLIGHT_MAX="500")).presses_in_flight_max == 500


def test_the_request_body_limit_defaults_to_64_kb_and_can_be_set(tmp_path: Path) -> None:
    assert load_settings(env(tmp_path)).max_body_bytes == 65536
    assert load_settings(env(tmp_path, DISPATCH_MAX_BODY_BYTES="2048")).max_body_bytes == 2048
    with pytest.raises(SettingsError, match=r"DISPATCH_MAX_BODY_BYTES must be a whole number of bytes from 1024"):
        load_settings(env(tmp_path, DISPATCH_MAX_BODY_BYTES="12"))


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "lots", "10001"])
def test_an_unusable_presses_in_flight_limit_is_refused_with_the_fix(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match=r"PRESSES_IN_FLIGHT_MAX must be a whole number of presses from 1"):
        load_settings(env(tmp_path, PRESSES_IN_FLIGHT_MAX=value))


def test_a_process_runs_both_background_jobs_unless_told_which(tmp_path: Path) -> None:
    assert load_settings(env(tmp_path)).jobs == {"timers", "outbox"}
    assert load_settings(env(tmp_path, DISPATCH_JOBS="timers")).jobs == {"timers"}
    assert load_settings(env(tmp_path, DISPATCH_JOBS=" outbox , timers ")).jobs == {"timers", "outbox"}
    assert load_settings(env(tmp_path, DISPATCH_JOBS="")).jobs == set()


def test_an_unknown_job_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        SettingsError, match=r"unknown jobs \['sending'\]: use a comma-separated subset of timers,outbox"
    ):
        load_settings(env(tmp_path, DISPATCH_JOBS="timers,sending"))


@pytest.mark.parametrize("value", ["fast", "0", "0.001", "11"])
def test_an_unusable_tick_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="DISPATCH_TICK_S must be"):
        load_settings(env(tmp_path, DISPATCH_TICK_S=value))


@pytest.mark.parametrize(("name", "value"), [("ESCALATION_WAIT_S", "soon"), ("ESCALATION_WAIT_S", "0.5")])
def test_an_unusable_escalation_wait_is_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match="ESCALATION_WAIT_S must be"):
        load_settings(env(tmp_path, **{name: value}))


def test_a_configured_alert_budget_is_what_the_search_keeps_to(make_settings, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    runtime = build_runtime(make_settings(alert_budget_per_day=1), clock=clock)
    try:
        with TestClient(create_app(runtime, start_background=False), base_url="https://dispatch.example.org") as c:
            first = press(c, token="hh_token_one", kind="medical").json()
            assert c.post(f"/api/v1/incidents/{first['id']}/cancel", headers=auth("hh_token_one")).status_code == 200
            clock.advance(400)
            press(c, token="hh_token_one", kind="medical")
        with runtime.readers() as session:
            doctor_pages = session.scalars(select(Page.incident_id).where(Page.phone == DOCTOR)).all()
        assert doctor_pages == [first["id"]], "one alert a day was the configured budget"
    finally:
        runtime.stop()

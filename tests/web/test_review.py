"""The coordinator's screens: KPIs from recorded events, plots, CSV export, coverage, audit log."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.clock import FakeClock
from dispatch.incidents.models import Page
from dispatch.runtime import Runtime
from dispatch.web.coverage import Responder, Site, coverage, hours_on_call
from tests.support.community import ALWAYS
from tests.support.flow import deliver, press, reply
from tests.web.screens import login

DOCTOR = "+8617000000001"


def _accepted_after(client: TestClient, runtime: Runtime, clock: FakeClock, seconds: float, token: str) -> None:
    incident = press(client, token=token).json()
    deliver(runtime)
    clock.advance(seconds)
    with runtime.readers() as session:
        responder = session.scalars(
            select(Page).where(Page.incident_id == incident["id"], Page.role == "responder").order_by(Page.id)
        ).first()
    assert responder is not None
    assert reply(runtime, responder.phone, f"1 {incident['code']}") == "accepted"
    deliver(runtime)


def test_kpis_are_percentiles_of_recorded_event_times(client: TestClient, runtime: Runtime, clock: FakeClock) -> None:
    _accepted_after(client, runtime, clock, 40, "hh_token_one")
    _accepted_after(client, runtime, clock, 20, "hh_token_two")
    login(client, "S6")
    page = client.get("/staff/kpi?lang=en").text
    assert 'id="n-incidents">2<' in page
    assert '<th scope="row">G1</th>' in page and '<th scope="row">G2</th>' in page
    assert '<td class="num">40</td>' in page and '<td class="num">20</td>' in page
    assert 'class="plot"' in page and "Medical" in page
    assert client.get("/staff/kpi?start=2026-12-01&end=2026-11-01").status_code == 422


def test_the_csv_export_has_one_row_per_incident_no_personal_data_and_is_audited(
    client: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    _accepted_after(client, runtime, clock, 40, "hh_token_one")
    login(client, "S6")
    r = client.get("/staff/kpi.csv")
    assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1 and rows[0]["first_accept_s"] == "40.0" and rows[0]["grid"] == "G1"
    # No phone number, no flat ("501"). The incident id is random hex and may hold "501" by chance: not personal.
    cells = [value for row in rows for column, value in row.items() if column != "incident_id"]
    assert not any("+86" in cell or "501" in cell for cell in [*rows[0].keys(), *cells])
    assert "export_csv" in client.get("/staff/audit").text


def test_coverage_counts_buildings_with_an_on_call_doctor_within_400_m() -> None:
    sites = [Site("G1", 0, 0), Site("G1", 1000, 0), Site("G2", 0, 300)]
    doctors = [Responder(0, 100, "Mon 08:00-10:00", True), Responder(1000, 0, ALWAYS, False)]
    shares = coverage(sites, doctors)
    assert shares["G1"][8] == 0.5 and shares["G1"][10] == 0.0, "the unavailable doctor covers nothing"
    assert shares["G2"][9] == 1.0 and shares["G2"][24 + 8] == 0.0
    assert hours_on_call("Sun 23:30-00:30")[167] is False, "half an hour does not cover the hour"


def test_the_coverage_page_maps_each_grid(client: TestClient) -> None:
    login(client, "S6")
    page = client.get("/staff/coverage?hour=10").text
    assert 'class="heat"' in page and "<h2>G1</h2>" in page and "cov" in page


def test_the_kpi_page_shows_the_latest_simulated_benchmark_next_to_the_live_figures(client: TestClient) -> None:
    from dispatch.kpi.latest import latest_response_times

    bench = latest_response_times()
    assert bench is not None, "benchmarks/results/response_times.json is committed"
    login(client, "S6")
    page = client.get("/staff/kpi?lang=en").text
    assert 'id="benchmark"' in page and "on_scene_p90_s" in page and "≤ 240 s" in page
    shown = f"{bench.figures['on_scene_p90_s']:.0f} s"
    assert shown in page

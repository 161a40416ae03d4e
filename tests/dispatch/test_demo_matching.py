"""The whole demo community (801 vanguards, its streets and 17 AEDs): first waves ranked on foot, explained.

SQLite only: loading 9,760 households twice would double the suite's time for no new database behaviour.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from dispatch.app import create_app
from dispatch.clock import FakeClock
from dispatch.runtime import Runtime, build_runtime
from dispatch.settings import Settings
from tests.support.flow import auth, press

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, TestClient]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('demo') / 'dispatch.sqlite'}",
        public_base_url="https://dispatch.example.org",
        secret_key="test-secret",
        data_dir=DEMO,
        twilio=None,
        escalation_wait_s=30,
    )
    rt = build_runtime(settings, clock=FakeClock())
    with TestClient(create_app(rt, start_background=False), base_url="https://dispatch.example.org") as client:
        yield rt, client
    rt.stop()


def households(n: int) -> list[dict[str, str]]:
    with (DEMO / "households.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows[:: len(rows) // n][:n]


def duty_token() -> str:
    with (DEMO / "staff.csv").open(encoding="utf-8", newline="") as f:
        return next(r["api_token"] for r in csv.DictReader(f) if r["role"] == "duty_officer")


def paged(client: TestClient, incident_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/incidents/{incident_id}", headers=auth(duty_token()))
    assert r.status_code == 200, r.text
    return [p for e in r.json()["timeline"] if e["type"] == "paged" for p in e["detail"]["recipients"]]


def test_the_demo_loads_its_street_network_and_aeds(demo: tuple[Runtime, TestClient]) -> None:
    directory = demo[0].ctx.directory
    assert directory.walking is not None and directory.walking.node_count > 200
    assert len(directory.aeds) == 17
    assert len(directory.gazetteer.entries) == 397


@pytest.mark.parametrize("household", households(4), ids=lambda h: h["household_id"])
def test_a_medical_press_pages_medics_on_foot_and_one_brings_the_nearest_aed(
    demo: tuple[Runtime, TestClient], household: dict[str, str]
) -> None:
    _, client = demo
    r = press(client, token=household["device_token"], key=f"demo-{household['household_id']}", kind="medical")
    assert r.status_code == 201, r.text
    recipients = [p for p in paged(client, r.json()["id"]) if p["role"] != "staff"]  # the building leader
    assert 4 <= len(recipients) <= 7, "three medics, an AED fetcher, and the building's own on-call medics"
    assert [p["role"] for p in recipients].count("aed_fetcher") == 1
    assert recipients[0]["role"] == "aed_fetcher" and recipients[0]["why"].startswith("fetches AED")
    for p in recipients:
        assert "m walk" in p["why"] and "accepts ~" in p["why"]
    assert len({p["person"] for p in recipients}) == len(recipients)


def test_a_typed_demo_address_is_located_to_the_unit(demo: tuple[Runtime, TestClient]) -> None:
    runtime, client = demo
    building = runtime.ctx.directory.buildings["B0001"]
    token = households(7)[5]["device_token"]  # a household that has not pressed in this module
    typed = building.address.replace("江西省赣州市章贡区", "") + "2单元1203"
    r = press(client, token=token, key="demo-typed", kind="fall", address=typed)
    assert r.status_code == 201, r.text
    located = next(e for e in r.json()["timeline"] if e["type"] == "located")["detail"]
    assert located["building"] == "B0001" and located["floor"] == 12

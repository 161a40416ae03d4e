"""Fixtures shared by the whole suite. Every database test runs on SpatiaLite and on a real PostGIS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from dispatch.app import create_app
from dispatch.clock import FakeClock
from dispatch.db import migrate
from dispatch.db.engine import make_engine
from dispatch.runtime import Runtime, build_runtime
from dispatch.schema import metadata
from dispatch.settings import Settings
from tests.support.community import write_tiny_community
from tests.support.postgis import Cluster, start_cluster

BACKENDS = ["sqlite", "postgis"]


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
        return
    cluster: Cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgis_engine(postgis_url: str) -> Iterator[Engine]:
    engine = make_engine(postgis_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _wipe_postgis(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'dispatch.sqlite'}"
    engine: Engine = request.getfixturevalue("postgis_engine")
    _wipe_postgis(engine)
    return str(request.getfixturevalue("postgis_url"))


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return write_tiny_community(tmp_path / "community")


@pytest.fixture
def settings(database_url: str, tiny_dir: Path, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        public_base_url="https://dispatch.example.org",
        secret_key="test-secret",
        data_dir=tiny_dir,
        twilio=None,
        escalation_wait_s=30,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(settings: Settings, clock: FakeClock) -> Iterator[Runtime]:
    rt = build_runtime(settings, clock=clock)
    yield rt
    rt.stop()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, start_background=False), base_url="https://dispatch.example.org") as c:
        yield c


@pytest.fixture
def make_settings(settings: Settings):  # type: ignore[no-untyped-def]
    def make(**changes: object) -> Settings:
        return replace(settings, **changes)  # type: ignore[arg-type]

    return make

"""Every package declares its tables on one base: the migrations, `create_all` and cross-package keys agree."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from dispatch import schema
from dispatch.db import migrate
from dispatch.db.engine import make_engine
from dispatch.schema import metadata


def test_the_migrated_database_is_exactly_the_schema_the_models_declare(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        assert schema.drift(engine) == []
    finally:
        engine.dispose()


def test_notify_tables_share_the_metadata_and_keep_their_key_to_incidents() -> None:
    wellbeing = metadata.tables["wellbeing_checks"]
    (key,) = wellbeing.foreign_keys
    assert key.column.table is metadata.tables["incidents"]
    assert {"outbox", "simulated_messages", "inbound_seen", "incidents", "vanguards"} <= set(metadata.tables)


def test_create_all_builds_every_table_on_a_blank_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'blank.sqlite'}")
    try:
        metadata.create_all(engine)
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

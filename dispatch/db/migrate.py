"""Schema migrations with Alembic, run in-process on an engine (both SpatiaLite and PostGIS)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import Engine, inspect

from dispatch.db.registry import metadata

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # SpatiaLite and PostGIS keep their own bookkeeping tables in our schema: never touch them.
    if type_ == "table" and reflected and name not in metadata.tables:
        return False
    # GeoAlchemy2 also skips the spatial extensions' own tables (idx_*, geometry_columns, ...) when we declare one.
    spatial_aware: Callable[..., bool] = alembic_helpers.include_object
    return bool(spatial_aware(obj, name, type_, reflected, compare_to))


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision against the given (migrated) database."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


def is_empty(engine: Engine) -> bool:
    return "incidents" not in inspect(engine).get_table_names()


def schema_drift(engine: Engine) -> list[Any]:
    """What autogenerate would write against this database: empty while the migrations match the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        return list(compare_metadata(context, metadata))

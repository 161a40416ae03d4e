"""The whole schema: every ORM module imported, so that `metadata` knows all tables (migrations and tests).

Every module is named here, not reached through another's imports: the Alembic environment may be the first
thing a process loads (`dispatch migrate`), and a table missing from the metadata breaks foreign keys to it.
It sits above the domain packages, not in `dispatch.db`, which stays plumbing that the domain itself uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import Engine

import dispatch.audit.models
import dispatch.auth.models
import dispatch.community.models
import dispatch.escalation.models
import dispatch.incidents.models
import dispatch.vanguards.models  # noqa: F401
import notify.models  # noqa: F401
from dbschema.base import Base

metadata = Base.metadata


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # SpatiaLite and PostGIS keep their own bookkeeping tables in our schema: never touch them.
    if type_ == "table" and reflected and name not in metadata.tables:
        return False
    # GeoAlchemy2 also skips the spatial extensions' own tables (idx_*, geometry_columns, ...) when we declare one.
    spatial_aware: Callable[..., bool] = alembic_helpers.include_object
    return bool(spatial_aware(obj, name, type_, reflected, compare_to))


def drift(engine: Engine) -> list[Any]:
    """What autogenerate would write against this database: empty while the migrations match the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        return list(compare_metadata(context, metadata))

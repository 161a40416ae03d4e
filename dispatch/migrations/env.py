"""Alembic environment: run against the connection handed in by `dispatch.db.migrate`."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from dispatch.schema import include_object, metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through dispatch.db.migrate (e.g. `dispatch migrate`), not bare alembic.")


context.configure(
    connection=connection,
    target_metadata=metadata,
    include_object=include_object,
    process_revision_directives=alembic_helpers.writer,
    render_item=alembic_helpers.render_item,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

"""vanguard live positions: the last position a vanguard's phone shared, and when

Revision ID: 0002
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dbschema.base

revision: str = "0002"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain floats (WGS-84), not a geometry: the position is only read into the in-memory index.
    with op.batch_alter_table("vanguards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("live_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("live_at", dbschema.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vanguards", schema=None) as batch_op:
        batch_op.drop_column("live_at")
        batch_op.drop_column("live_lat")
        batch_op.drop_column("live_lon")

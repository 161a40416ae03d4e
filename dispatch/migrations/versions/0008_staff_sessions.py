"""sign-in state on the server: spent login-form tokens (single use) and staff sessions (revocable, idle expiry)

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dbschema.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spent_form_tokens",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("spent_at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_spent_form_tokens_spent_at", "spent_form_tokens", ["spent_at"])
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_sessions_staff_id", "staff_sessions", ["staff_id"])
    op.create_index("ix_staff_sessions_last_seen_at", "staff_sessions", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_staff_sessions_last_seen_at", table_name="staff_sessions")
    op.drop_index("ix_staff_sessions_staff_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_index("ix_spent_form_tokens_spent_at", table_name="spent_form_tokens")
    op.drop_table("spent_form_tokens")

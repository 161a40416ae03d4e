"""escalation channels: timer kinds, voice failover, wellbeing follow-ups, phone opt-outs

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dbschema.base

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "uq_incidents_open_code",
        "incidents",
        ["code"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="step"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fallback_body", sa.Text(), nullable=True))
    op.create_table(
        "wellbeing_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("due_at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("needs_support", sa.Boolean(), nullable=True),
        sa.Column("answered_at", dbschema.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "person_id", name="uq_wellbeing_person"),
    )
    with op.batch_alter_table("wellbeing_checks", schema=None) as batch_op:
        batch_op.create_index("ix_wellbeing_checks_phone", ["phone"], unique=False)
    op.create_table(
        "phone_preferences",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("wellbeing_opt_out_at", dbschema.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("phone"),
    )
    op.create_table(
        "inbound_seen",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_id"),
    )


def downgrade() -> None:
    op.drop_index("uq_incidents_open_code", table_name="incidents")
    op.drop_table("inbound_seen")
    op.drop_table("phone_preferences")
    with op.batch_alter_table("wellbeing_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_wellbeing_checks_phone")
    op.drop_table("wellbeing_checks")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("fallback_body")
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.drop_column("kind")

"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

import dbschema.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_geospatial_table(
        "grids",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_grids_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("to", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", dbschema.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", dbschema.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("delivery_status", sa.String(length=16), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "simulated_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("simulated_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_simulated_messages_phone"), ["phone"], unique=False)

    op.create_geospatial_table(
        "zones",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("zones", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_zones_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )

    op.create_geospatial_table(
        "buildings",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("address_en", sa.Text(), nullable=False),
        sa.Column("zone_id", sa.String(length=16), nullable=True),
        sa.Column("grid_id", sa.String(length=16), nullable=True),
        sa.Column("floors", sa.Integer(), nullable=False),
        sa.Column("entrances", sa.Integer(), nullable=False),
        sa.Column("has_lift", sa.Boolean(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grids.id"],
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["zones.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("buildings", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_buildings_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )
        batch_op.create_index(batch_op.f("ix_buildings_grid_id"), ["grid_id"], unique=False)

    op.create_geospatial_table(
        "aeds",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("building_id", sa.String(length=16), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("aeds", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_aeds_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )

    op.create_table(
        "households",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("building_id", sa.String(length=16), nullable=False),
        sa.Column("entrance", sa.Integer(), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("elderly_living_alone", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("device_token_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_token_hash"),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_households_building_id"), ["building_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_households_phone"), ["phone"], unique=False)

    op.create_table(
        "staff",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("grid_id", sa.String(length=16), nullable=True),
        sa.Column("building_id", sa.String(length=16), nullable=True),
        sa.Column("on_call", sa.Text(), nullable=False),
        sa.Column("api_token_hash", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grids.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api_token_hash"),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_building_id"), ["building_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_role"), ["role"], unique=False)

    op.create_geospatial_table(
        "vanguards",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("building_id", sa.String(length=16), nullable=False),
        sa.Column("occupation", sa.String(length=64), nullable=False),
        sa.Column("on_call", sa.Text(), nullable=False),
        sa.Column("accept_rate", sa.Float(), nullable=False),
        sa.Column("languages", sa.String(length=32), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone"),
    )
    with op.batch_alter_table("vanguards", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_vanguards_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )
        batch_op.create_index(batch_op.f("ix_vanguards_building_id"), ["building_id"], unique=False)

    op.create_geospatial_table(
        "incidents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("household_id", sa.String(length=16), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("location_source", sa.String(length=16), nullable=False),
        sa.Column("building_id", sa.String(length=16), nullable=True),
        sa.Column("zone_id", sa.String(length=16), nullable=True),
        sa.Column("grid_id", sa.String(length=16), nullable=True),
        sa.Column("out_of_area", sa.Boolean(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reported_at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_by", sa.String(length=16), nullable=True),
        sa.Column("accepted_at", dbschema.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", dbschema.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("plan", dbschema.base.JSONText(), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("household_id", "idempotency_key", name="uq_incident_idempotency"),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_incidents_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )
        batch_op.create_index(batch_op.f("ix_incidents_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_household_id"), ["household_id"], unique=False)
        batch_op.create_index("ix_incidents_status_reported", ["status", "reported_at"], unique=False)

    op.create_table(
        "escalation_timers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("due_at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", dbschema.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fired_at", dbschema.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "step", name="uq_timer_step"),
    )
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_timers_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index("ix_timers_due", ["status", "due_at"], unique=False)

    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("detail", dbschema.base.JSONText(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_events_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=16), nullable=False),
        sa.Column("person_kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paged_at", dbschema.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("responded_at", dbschema.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("eta_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "person_id", name="uq_page_person"),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pages_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pages_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pages_phone"), ["phone"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pages_phone"))
        batch_op.drop_index(batch_op.f("ix_pages_person_id"))
        batch_op.drop_index(batch_op.f("ix_pages_incident_id"))

    op.drop_table("pages")
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_events_incident_id"))

    op.drop_table("incident_events")
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.drop_index("ix_timers_due")
        batch_op.drop_index(batch_op.f("ix_escalation_timers_incident_id"))

    op.drop_table("escalation_timers")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_status_reported")
        batch_op.drop_index(batch_op.f("ix_incidents_household_id"))
        batch_op.drop_index(batch_op.f("ix_incidents_grid_id"))
        batch_op.drop_index(batch_op.f("ix_incidents_code"))
        batch_op.drop_geospatial_index("idx_incidents_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("incidents")
    with op.batch_alter_table("vanguards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vanguards_building_id"))
        batch_op.drop_geospatial_index("idx_vanguards_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("vanguards")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_role"))
        batch_op.drop_index(batch_op.f("ix_staff_phone"))
        batch_op.drop_index(batch_op.f("ix_staff_grid_id"))
        batch_op.drop_index(batch_op.f("ix_staff_building_id"))

    op.drop_table("staff")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_phone"))
        batch_op.drop_index(batch_op.f("ix_households_building_id"))

    op.drop_table("households")
    with op.batch_alter_table("aeds", schema=None) as batch_op:
        batch_op.drop_geospatial_index("idx_aeds_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("aeds")
    with op.batch_alter_table("buildings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buildings_grid_id"))
        batch_op.drop_geospatial_index("idx_buildings_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("buildings")
    with op.batch_alter_table("zones", schema=None) as batch_op:
        batch_op.drop_geospatial_index("idx_zones_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("zones")
    with op.batch_alter_table("simulated_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulated_messages_phone"))

    op.drop_table("simulated_messages")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_provider_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_incident_id"))
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.drop_geospatial_index("idx_grids_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("grids")

"""ORM models of an incident, its timeline events and the pages sent to people about it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.base import SRID, Base, JSONText, UTCDateTime
from dispatch.escalation.lifecycle import PageStatus
from dispatch.incidents.states import Status


def status_check(values: Iterable[str]) -> str:
    return "status IN ({})".format(", ".join(f"'{v}'" for v in values))


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(status_check(Status), name="ck_incidents_status"),
        UniqueConstraint("household_id", "idempotency_key", name="uq_incident_idempotency"),
        Index("ix_incidents_status_reported", "status", "reported_at"),
        # A code names one open incident: replies say "1 K7Q". Concurrent intakes that drew the same code collide
        # here, and the intake's retry draws another (migration 0003).
        Index(
            "uq_incidents_open_code",
            "code",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), index=True)  # short, spoken and texted: "#K7Q"
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    household_id: Mapped[str | None] = mapped_column(ForeignKey("households.id"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    location_source: Mapped[str] = mapped_column(String(16))  # household | gps
    building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id"))
    zone_id: Mapped[str | None] = mapped_column(String(16))
    grid_id: Mapped[str | None] = mapped_column(String(16), index=True)
    out_of_area: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", SRID, spatial_index=True))
    note: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(String(16))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # The escalation plan as it stood when the incident opened; later policy edits never change it.
    plan: Mapped[Any] = mapped_column(JSONText)


class IncidentEvent(Base):
    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    type: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[Any] = mapped_column(JSONText, default=dict)


class Page(Base):
    """One person alerted about one incident, and what they answered."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("incident_id", "person_id", name="uq_page_person"),
        CheckConstraint(status_check(PageStatus), name="ck_pages_status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(16), index=True)
    person_kind: Mapped[str] = mapped_column(String(16))  # vanguard | staff
    role: Mapped[str] = mapped_column(String(24))  # responder, building_leader, grid_secretary, ...
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    step: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # paged, accepted, declined, stood_down, late, failed
    paged_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    distance_m: Mapped[float | None] = mapped_column(Float)
    eta_s: Mapped[float | None] = mapped_column(Float)

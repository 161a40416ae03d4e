"""ORM model of a vanguard."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.base import SRID, Base, UTCDateTime


class Vanguard(Base):
    __tablename__ = "vanguards"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    skills: Mapped[str] = mapped_column(Text)  # ";"-separated, as in vanguards.csv
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"), index=True)
    occupation: Mapped[str] = mapped_column(String(64))
    on_call: Mapped[str] = mapped_column(Text)
    accept_rate: Mapped[float] = mapped_column(Float)
    languages: Mapped[str] = mapped_column(String(32))
    available: Mapped[bool] = mapped_column(Boolean, default=True)  # the person's own on/off toggle
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", SRID, spatial_index=True))  # home building
    # The last position their phone shared (WGS-84) and when; trusted only while fresh (policy), else home.
    live_lon: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    live_lat: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    live_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=None)

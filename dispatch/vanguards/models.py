"""ORM model of a vanguard."""

from __future__ import annotations

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db.base import SRID, Base


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
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", SRID, spatial_index=True))

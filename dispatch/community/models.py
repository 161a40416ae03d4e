"""ORM models of the community: areas, buildings, households, the organisation and its AEDs."""

from __future__ import annotations

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.base import SRID, Base


class Grid(Base):
    __tablename__ = "grids"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POLYGON", SRID, spatial_index=True))


class Zone(Base):
    __tablename__ = "zones"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POLYGON", SRID, spatial_index=True))


class Building(Base):
    __tablename__ = "buildings"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    address: Mapped[str] = mapped_column(Text)
    address_en: Mapped[str] = mapped_column(Text)
    zone_id: Mapped[str | None] = mapped_column(ForeignKey("zones.id"))
    grid_id: Mapped[str | None] = mapped_column(ForeignKey("grids.id"), index=True)
    floors: Mapped[int] = mapped_column(Integer)
    entrances: Mapped[int] = mapped_column(Integer)
    has_lift: Mapped[bool] = mapped_column(Boolean)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", SRID, spatial_index=True))


class Household(Base):
    __tablename__ = "households"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"), index=True)
    entrance: Mapped[int] = mapped_column(Integer)
    floor: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    residents: Mapped[int] = mapped_column(Integer)
    elderly_living_alone: Mapped[bool] = mapped_column(Boolean)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    # Only a hash: a leaked database must not let anyone press other households' buttons.
    device_token_hash: Mapped[str] = mapped_column(String(64), unique=True)


class Staff(Base):
    """Someone in the organisation: duty officer, grid secretary or worker, building group leader, coordinator."""

    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    role: Mapped[str] = mapped_column(String(24), index=True)
    grid_id: Mapped[str | None] = mapped_column(ForeignKey("grids.id"), index=True)
    building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    on_call: Mapped[str] = mapped_column(Text, default="Mon-Sun 00:00-24:00")
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)


class Aed(Base):
    __tablename__ = "aeds"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    building_id: Mapped[str | None] = mapped_column(ForeignKey("buildings.id"))
    description: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", SRID, spatial_index=True))

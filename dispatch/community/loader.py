"""Import a community from its plain files (data/demo/ is one): GeoJSON areas and buildings, CSV people.

The same files are the import format for a real community; see data/README.md for every column.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dbschema.base import SRID
from dispatch.community.models import Aed, Building, Grid, Household, Staff, Zone
from dispatch.vanguards.models import Vanguard
from dispatch.vanguards.schedule import ScheduleError, parse_schedule

# The import format's CSV columns (see data/README.md): the generator writes them, the loader reads them.
CSV_COLUMNS: dict[str, list[str]] = {
    "households.csv": [
        "household_id",
        "building_id",
        "entrance",
        "floor",
        "unit",
        "residents",
        "elderly_living_alone",
        "phone",
        "device_token",
    ],
    "vanguards.csv": [
        "vanguard_id",
        "name",
        "phone",
        "skills",
        "building_id",
        "occupation",
        "on_call",
        "accept_rate",
        "languages",
    ],
    "staff.csv": ["staff_id", "name", "phone", "role", "grid_id", "building_id", "on_call", "api_token", "password"],
    "aeds.csv": ["aed_id", "lon", "lat", "building_id", "description"],
}
REQUIRED = ("grids.geojson", "zones.geojson", "buildings.geojson", "households.csv", "vanguards.csv", "staff.csv")


class CommunityDataError(ValueError):
    pass


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ewkt(geometry: dict[str, Any]) -> str:
    geom = shape(geometry)
    if geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    return f"SRID={SRID};{geom.wkt}"


def _features(path: Path) -> Iterator[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    yield from data["features"]


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        for line_no, row in enumerate(csv.DictReader(f), start=2):
            row["_line"] = str(line_no)
            yield row


def _schedule(spec: str, where: str) -> str:
    try:
        parse_schedule(spec)
    except ScheduleError as exc:
        raise CommunityDataError(f"{where}: {exc}") from exc
    return spec


def _bool(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "y")


def is_loaded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Building)))


def load_community(session: Session, data_dir: Path) -> dict[str, int]:
    """Insert every file's rows in one transaction (the caller's). Returns counts per table."""
    missing = [name for name in REQUIRED if not (data_dir / name).exists()]
    if missing:
        raise CommunityDataError(f"{data_dir} lacks {', '.join(missing)}; regenerate with `dispatch demo-data`")
    counts: dict[str, int] = {}

    grids = [
        {
            "id": f["properties"]["grid_id"],
            "name": f["properties"]["name"],
            "name_en": f["properties"].get("name_en", f["properties"]["name"]),
            "geom": _ewkt(f["geometry"]),
        }
        for f in _features(data_dir / "grids.geojson")
    ]
    zones = [
        {
            "id": f["properties"]["zone_id"],
            "name": f["properties"]["name"],
            "name_en": f["properties"].get("name_en", f["properties"]["name"]),
            "geom": _ewkt(f["geometry"]),
        }
        for f in _features(data_dir / "zones.geojson")
    ]
    buildings = []
    for f in _features(data_dir / "buildings.geojson"):
        p = f["properties"]
        buildings.append(
            {
                "id": p["building_id"],
                "address": p["address"],
                "address_en": p.get("address_en", ""),
                "zone_id": p.get("zone_id") or None,
                "grid_id": p.get("grid_id") or None,
                "floors": int(p["floors"]),
                "entrances": int(p.get("entrances", 1)),
                "has_lift": bool(p.get("has_lift", False)),
                "geom": _ewkt(f["geometry"]),
            }
        )
    households = [
        {
            "id": r["household_id"],
            "building_id": r["building_id"],
            "entrance": int(r["entrance"]),
            "floor": int(r["floor"]),
            "unit": r["unit"],
            "residents": int(r.get("residents") or 1),
            "elderly_living_alone": _bool(r.get("elderly_living_alone", "0")),
            "phone": r["phone"],
            "device_token_hash": token_hash(r["device_token"]),
        }
        for r in _rows(data_dir / "households.csv")
    ]
    building_points = {b["id"]: b["geom"] for b in buildings}
    vanguards = []
    for r in _rows(data_dir / "vanguards.csv"):
        where = f"vanguards.csv line {r['_line']}"
        if r["building_id"] not in building_points:
            raise CommunityDataError(f"{where}: unknown building {r['building_id']!r}")
        vanguards.append(
            {
                "id": r["vanguard_id"],
                "name": r["name"],
                "phone": r["phone"],
                "skills": r["skills"],
                "building_id": r["building_id"],
                "occupation": r.get("occupation", ""),
                "on_call": _schedule(r["on_call"], where),
                "accept_rate": float(r.get("accept_rate") or 0.3),
                "languages": r.get("languages", "zh"),
                "available": True,
                "geom": building_points[r["building_id"]],
            }
        )
    staff = [
        {
            "id": r["staff_id"],
            "name": r["name"],
            "phone": r["phone"],
            "role": r["role"],
            "grid_id": r.get("grid_id") or None,
            "building_id": r.get("building_id") or None,
            "on_call": _schedule(r.get("on_call") or "Mon-Sun 00:00-24:00", f"staff.csv line {r['_line']}"),
            "api_token_hash": token_hash(r["api_token"]) if r.get("api_token") else None,
            "password_hash": None,
        }
        for r in _rows(data_dir / "staff.csv")
    ]
    aeds = []
    if (data_dir / "aeds.csv").exists():
        aeds = [
            {
                "id": r["aed_id"],
                "building_id": r.get("building_id") or None,
                "description": r["description"],
                "geom": f"SRID={SRID};POINT({float(r['lon'])} {float(r['lat'])})",
            }
            for r in _rows(data_dir / "aeds.csv")
        ]

    for model, rows in (
        (Grid, grids),
        (Zone, zones),
        (Building, buildings),
        (Household, households),
        (Vanguard, vanguards),
        (Staff, staff),
        (Aed, aeds),
    ):
        for start in range(0, len(rows), 2000):
            session.execute(insert(model), rows[start : start + 2000])
        counts[model.__tablename__] = len(rows)
    return counts

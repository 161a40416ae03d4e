"""Generate the demo community (data/demo) reproducibly from a seed.

    python -m dispatch.community.generate --out data/demo --seed 2026 --shared ../shared

The same seed gives byte-identical files: fixed ordering, sorted keys, lon/lat rounded to 7 decimals, "\\n" line
endings, UTF-8 without BOM. Shared inputs (outside the repository): the Zhanggong district boundary (GCJ-02, used
to check the community lies inside the real district) and the official division table (the street office name).
See data/README.md for every file and column.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from dispatch.community import names
from dispatch.community.buildings import (
    Aed,
    Building,
    address_buildings,
    candidate_sites,
    place_aeds,
    select_sites,
    shape_buildings,
)
from dispatch.community.layout import (
    CENTER_LAT,
    CENTER_LON,
    METRIC_CRS,
    Area,
    Street,
    build_streets,
    load_district_wgs84,
    make_areas,
    make_outline,
    place_inside,
    project,
    to_lonlat,
    to_metric,
)
from dispatch.community.loader import CSV_COLUMNS
from dispatch.community.oncall import text
from dispatch.community.people import (
    Household,
    Identities,
    StaffMember,
    Vanguard,
    make_households,
    make_staff,
    make_vanguards,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = REPO.parent / "shared"
BOUNDARY = Path("data/zhanggong/zhanggong_district_gcj02.geojson")
DIVISIONS = Path("data/zhanggong/ganzhou_divisions_2025.csv")
DISTRICT_CODE = "360702"
STREET_OFFICE = "解放街道"  # the old-town core; the code table has no coordinates, so this is a plausible choice
STREET_OFFICE_EN = "Jiefang Subdistrict"
HOUSEHOLDS = 9_760
RESIDENTS = 59_800  # "nearly 60,000"
VANGUARDS = 801
DEFAULT_SEED = 2026


class SharedDataMissing(FileNotFoundError):
    """A shared input file is not where it is expected."""


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise SharedDataMissing(
            f"{what} not found at {path}. The generator expects the shared data directory next to the repository "
            f"(<repo>/../shared/{BOUNDARY.parent}/); pass --shared DIR (or boundary_path/divisions_path)."
        )
    return path


def street_office(divisions: Path, name: str = STREET_OFFICE) -> tuple[str, str]:
    """(name, code) of a street office of Zhanggong District in the official division table."""
    with divisions.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["level"] == "4" and row["parent_code"] == DISTRICT_CODE and row["name"] == name:
                return row["name"], row["code"]
    raise ValueError(f"{name} is not a street office of district {DISTRICT_CODE} in {divisions}")


def generate(
    out_dir: Path, seed: int = DEFAULT_SEED, boundary_path: Path | None = None, divisions_path: Path | None = None
) -> dict[str, int]:
    """Write the demo community into `out_dir`; returns the number of records per file."""
    boundary = _require(boundary_path or DEFAULT_SHARED / BOUNDARY, "District boundary")
    divisions = _require(divisions_path or DEFAULT_SHARED / DIVISIONS, "Division table")
    office, office_code = street_office(divisions)
    fwd, inv = to_metric(), to_lonlat()
    district = project(load_district_wgs84(boundary), fwd)
    cx, cy = fwd.transform(CENTER_LON, CENTER_LAT)

    rng = random.Random(f"vanguard-dispatch/{seed}/layout")
    outline = place_inside(make_outline(rng, cx, cy), district)
    outline, grid, grids, zones = make_areas(rng, outline)
    streets = build_streets(rng, outline, grid, zones)

    rng = random.Random(f"vanguard-dispatch/{seed}/buildings")
    sites = candidate_sites(rng, outline, streets, grids, zones)
    blds = shape_buildings(rng, select_sites(rng, sites, zones, rng.randint(385, 405)), zones, HOUSEHOLDS)
    address_buildings(blds, streets, office, STREET_OFFICE_EN)
    aeds = place_aeds(outline, blds, grids, streets)

    rng = random.Random(f"vanguard-dispatch/{seed}/people")
    ids = Identities(rng)
    households = make_households(rng, ids, blds, RESIDENTS)
    vanguards = make_vanguards(rng, ids, blds, VANGUARDS)
    staff = make_staff(rng, ids, blds, [g.area_id for g in grids])

    out_dir.mkdir(parents=True, exist_ok=True)
    w = _Writer(out_dir, inv)
    counts = {
        "grids.geojson": w.areas("grids.geojson", grids, "grid_id"),
        "zones.geojson": w.areas("zones.geojson", zones, "zone_id"),
        "streets.geojson": w.streets(streets),
        "buildings.geojson": w.buildings(blds),
        "households.csv": w.households(households),
        "vanguards.csv": w.vanguards(vanguards),
        "staff.csv": w.staff(staff),
        "aeds.csv": w.aeds(aeds),
    }
    area_km2 = project(Polygon(w.ring(outline.exterior.coords)), fwd).area / 1e6
    community = {
        "name": names.COMMUNITY_NAME,
        "name_en": names.COMMUNITY_NAME_EN,
        "district_code": DISTRICT_CODE,
        "district": "章贡区",
        "street_office": office,
        "street_office_code": office_code,
        "street_office_en": STREET_OFFICE_EN,
        "center": w.lonlat(outline.centroid.x, outline.centroid.y),
        "area_km2": round(area_km2, 4),
        "seed": seed,
        "crs": "EPSG:4326",
        "timezone": "Asia/Shanghai",
        "metric_crs": METRIC_CRS,
        "fictitious": True,
        "counts": {
            "grids": len(grids),
            "zones": len(zones),
            "streets": len(streets),
            "buildings": len(blds),
            "households": len(households),
            "residents": sum(h.residents for h in households),
            "vanguards": len(vanguards),
            "staff": len(staff),
            "aeds": len(aeds),
        },
        "outline": {"type": "Polygon", "coordinates": [w.ring(orient(outline, 1.0).exterior.coords)]},
    }
    w.write("community.json", json.dumps(community, ensure_ascii=False, sort_keys=True, indent=2) + "\n")
    return {"community.json": 1, **counts}


class _Writer:
    """Writes the files: WGS-84 lon/lat rounded to 7 decimals, one GeoJSON feature per line, CSV with a header."""

    def __init__(self, out_dir: Path, inv: Transformer) -> None:
        self.out_dir, self.inv = out_dir, inv

    def write(self, name: str, content: str) -> None:
        (self.out_dir / name).write_text(content, encoding="utf-8", newline="\n")

    def lonlat(self, x: float, y: float) -> list[float]:
        lon, lat = self.inv.transform(x, y)
        return [round(float(lon), 7), round(float(lat), 7)]

    def ring(self, coords: Sequence[Sequence[float]]) -> list[list[float]]:
        out: list[list[float]] = []
        for x, y in coords:
            p = self.lonlat(x, y)
            if not out or p != out[-1]:
                out.append(p)
        return out

    def _features(self, name: str, features: list[dict[str, Any]]) -> int:
        lines = [json.dumps(f, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for f in features]
        self.write(name, '{"features":[\n' + ",\n".join(lines) + '\n],"type":"FeatureCollection"}\n')
        return len(features)

    @staticmethod
    def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
        return {"type": "Feature", "geometry": geometry, "properties": properties}

    def areas(self, name: str, areas: Sequence[Area], key: str) -> int:
        features = []
        for a in areas:
            poly = orient(shapely.normalize(a.polygon), 1.0)  # canonical start vertex, counter-clockwise
            rings = [self.ring(poly.exterior.coords), *(self.ring(r.coords) for r in poly.interiors)]
            features.append(
                self._feature(
                    {"type": "Polygon", "coordinates": rings}, {key: a.area_id, "name": a.name, "name_en": a.name_en}
                )
            )
        return self._features(name, features)

    def streets(self, streets: Sequence[Street]) -> int:
        return self._features(
            "streets.geojson",
            [
                self._feature(
                    {"type": "LineString", "coordinates": self.ring(s.coords)},
                    {"street_id": s.street_id, "name": s.name, "name_en": s.name_en, "kind": s.kind},
                )
                for s in streets
            ],
        )

    def buildings(self, blds: Sequence[Building]) -> int:
        return self._features(
            "buildings.geojson",
            [
                self._feature(
                    {"type": "Point", "coordinates": self.lonlat(b.site.x, b.site.y)},
                    {
                        "building_id": b.building_id,
                        "address": b.address,
                        "address_en": b.address_en,
                        "zone_id": b.site.zone_id,
                        "grid_id": b.site.grid_id,
                        "street_id": b.site.street_id,
                        "floors": b.floors,
                        "entrances": b.entrances,
                        "households": b.households,
                        "has_lift": b.has_lift,
                        "kind": b.kind,
                    },
                )
                for b in blds
            ],
        )

    def _csv(self, name: str, header: Sequence[str], rows: list[list[Any]]) -> int:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        self.write(name, buf.getvalue())
        return len(rows)

    def households(self, rows: Sequence[Household]) -> int:
        return self._csv(
            "households.csv",
            CSV_COLUMNS["households.csv"],
            [
                [
                    h.household_id,
                    h.building_id,
                    h.entrance,
                    h.floor,
                    h.unit,
                    h.residents,
                    int(h.elderly_living_alone),
                    h.phone,
                    h.device_token,
                ]
                for h in rows
            ],
        )

    def vanguards(self, rows: Sequence[Vanguard]) -> int:
        return self._csv(
            "vanguards.csv",
            CSV_COLUMNS["vanguards.csv"],
            [
                [
                    v.vanguard_id,
                    v.name,
                    v.phone,
                    ";".join(v.skills),
                    v.building_id,
                    v.occupation,
                    text(v.windows),
                    f"{v.accept_rate:.3f}",
                    v.languages,
                ]
                for v in rows
            ],
        )

    def staff(self, rows: Sequence[StaffMember]) -> int:
        return self._csv(
            "staff.csv",
            CSV_COLUMNS["staff.csv"],
            [
                [
                    s.staff_id,
                    s.name,
                    s.phone,
                    s.role,
                    s.grid_id,
                    s.building_id,
                    text(s.windows),
                    s.api_token,
                    s.password,
                ]
                for s in rows
            ],
        )

    def aeds(self, rows: Sequence[Aed]) -> int:
        return self._csv(
            "aeds.csv",
            CSV_COLUMNS["aeds.csv"],
            [[a.aed_id, *(f"{v:.7f}" for v in self.lonlat(a.x, a.y)), a.building_id, a.description] for a in rows],
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dispatch.community.generate",
        description="Generate the demo community reproducibly from a seed.",
    )
    parser.add_argument("--out", type=Path, default=REPO / "data" / "demo", help="output directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help="shared data directory holding data/zhanggong/ (default: <repo>/../shared)",
    )
    args = parser.parse_args(argv)
    try:
        counts = generate(args.out, args.seed, args.shared / BOUNDARY, args.shared / DIVISIONS)
    except SharedDataMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, n in counts.items():
        print(f"{args.out / name}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

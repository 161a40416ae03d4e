"""A tiny community in the import format of data/demo/, small enough to reason about in a test.

Two grids side by side (G1 west, G2 east), one zone each, a handful of buildings, and people whose skills and
rosters make each test's expectation obvious. Tokens are fixed so tests can act as any household or staff member.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from dispatch.community.loader import CSV_COLUMNS

ALWAYS = "Mon-Sun 00:00-24:00"
NEVER = "Mon 03:00-03:01"  # a window the tests' clock never stands in
WEST, MID, EAST = 114.925, 114.930, 114.935
SOUTH, NORTH = 25.845, 25.855

BUILDINGS = {
    # id: (lon, lat, grid, zone, floors, lift)
    "B1": (114.9270, 25.8500, "G1", "Z1", 6, False),
    "B2": (114.9330, 25.8500, "G2", "Z2", 24, True),
    "B3": (114.9275, 25.8505, "G1", "Z1", 6, False),
    "B4": (114.9290, 25.8490, "G1", "Z1", 7, False),
}

HOUSEHOLDS = [
    # id, building, entrance, floor, unit, token
    ("H1", "B1", 2, 5, "501", "hh_token_one"),
    ("H2", "B2", 1, 18, "1802", "hh_token_two"),
    ("H3", "B3", 1, 2, "201", "hh_token_three"),
]

VANGUARDS = [
    # id, name, phone, skills, building, on_call
    ("V1", "李医生", "+8617000000001", "doctor;first_aid", "B3", ALWAYS),
    ("V2", "王护士", "+8617000000002", "nurse;first_aid", "B4", ALWAYS),
    ("V3", "张电工", "+8617000000003", "electrician", "B1", ALWAYS),
    ("V4", "赵医生", "+8617000000004", "doctor;first_aid", "B1", NEVER),
    ("V5", "陈急救", "+8617000000005", "first_aid;carrying", "B2", ALWAYS),
    ("V6", "刘急救", "+8617000000006", "first_aid", "B2", ALWAYS),
    ("V7", "周医生", "+8617000000007", "doctor", "B2", ALWAYS),
    ("V8", "吴护士", "+8617000000008", "nurse", "B2", ALWAYS),
    ("V9", "郑急救", "+8617000000009", "first_aid", "B2", ALWAYS),
]

STAFF = [
    # id, name, phone, role, grid, building, on_call, token
    ("S1", "孙组长", "+8617000000101", "building_leader", "G1", "B1", ALWAYS, "st_leader_b1"),
    ("S2", "钱书记", "+8617000000102", "grid_secretary", "G1", "", ALWAYS, "st_secretary_g1"),
    ("S3", "冯网格员", "+8617000000103", "grid_worker", "G1", "", ALWAYS, "st_worker_g1"),
    ("S4", "褚网格员", "+8617000000104", "grid_worker", "G2", "", ALWAYS, "st_worker_g2"),
    ("S5", "卫值班", "+8617000000105", "duty_officer", "", "", ALWAYS, "st_duty"),
    ("S6", "蒋协调", "+8617000000106", "coordinator", "", "", ALWAYS, "st_coordinator"),
]


def _polygon(w: float, s: float, e: float, n: float) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _collection(features: list[dict[str, object]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def _csv(path: Path, header: list[str], rows: list[tuple[object, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_tiny_community(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "grids.geojson").write_text(
        _collection(
            [
                {
                    "type": "Feature",
                    "geometry": _polygon(WEST, SOUTH, MID, NORTH),
                    "properties": {"grid_id": "G1", "name": "第一网格", "name_en": "Grid 1"},
                },
                {
                    "type": "Feature",
                    "geometry": _polygon(MID, SOUTH, EAST, NORTH),
                    "properties": {"grid_id": "G2", "name": "第二网格", "name_en": "Grid 2"},
                },
            ]
        )
    )
    (out / "zones.geojson").write_text(
        _collection(
            [
                {
                    "type": "Feature",
                    "geometry": _polygon(WEST, SOUTH, MID, NORTH),
                    "properties": {"zone_id": "Z1", "name": "文清小区", "name_en": "Wenqing"},
                },
                {
                    "type": "Feature",
                    "geometry": _polygon(MID, SOUTH, EAST, NORTH),
                    "properties": {"zone_id": "Z2", "name": "章江花园", "name_en": "Zhangjiang Garden"},
                },
            ]
        )
    )
    (out / "buildings.geojson").write_text(
        _collection(
            [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {
                        "building_id": b,
                        "address": f"解放街道文清路{i + 1}号{b}栋",
                        "address_en": f"{i + 1} Wenqing Rd",
                        "zone_id": zone,
                        "grid_id": grid,
                        "floors": floors,
                        "entrances": 2,
                        "has_lift": lift,
                    },
                }
                for i, (b, (lon, lat, grid, zone, floors, lift)) in enumerate(BUILDINGS.items())
            ]
        )
    )
    _csv(
        out / "households.csv",
        CSV_COLUMNS["households.csv"],
        [(h, b, e, f, u, 2, 1, f"+86170000009{i:02d}", t) for i, (h, b, e, f, u, t) in enumerate(HOUSEHOLDS)],
    )
    _csv(
        out / "vanguards.csv",
        CSV_COLUMNS["vanguards.csv"],
        [(v, n, p, s, b, "医生", oc, 0.3, "zh") for v, n, p, s, b, oc in VANGUARDS],
    )
    _csv(
        out / "staff.csv",
        CSV_COLUMNS["staff.csv"],
        [(*row, "demo") for row in STAFF],
    )
    _csv(
        out / "aeds.csv",
        CSV_COLUMNS["aeds.csv"],
        [("A1", 114.9271, 25.8501, "B1", "B1 一楼大堂")],
    )
    return out

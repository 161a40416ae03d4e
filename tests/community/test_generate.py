"""The demo community in data/demo/, and the generator that makes it (dispatch/community/generate.py).

The committed files are checked as they are; one test regenerates them from the seed to prove they have not
drifted from the generator. Geometry is measured in metres in EPSG:4547 (CGCS2000 3-degree GK, CM 114E).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import prcoords
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from dispatch.community.generate import BOUNDARY as SHARED_BOUNDARY
from dispatch.community.generate import DEFAULT_SHARED, DIVISIONS, generate, main
from dispatch.vanguards.schedule import MINUTES_PER_WEEK, parse_schedule

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"
BOUNDARY = DEFAULT_SHARED / SHARED_BOUNDARY
FILES = (
    "aeds.csv",
    "buildings.geojson",
    "community.json",
    "grids.geojson",
    "households.csv",
    "staff.csv",
    "streets.geojson",
    "vanguards.csv",
    "zones.geojson",
)
SKILLS = {
    "doctor",
    "nurse",
    "first_aid",
    "fire_safety",
    "electrician",
    "plumber",
    "gas",
    "counseling",
    "carrying",
    "lawyer",
    "teacher",
}


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture
def shared_inputs() -> None:
    """The generator's inputs from ../shared. CI always has them beside the clone, so there their absence is a
    failure; a developer without them gets a skip that says what is missing."""
    missing = [str(p) for p in (DEFAULT_SHARED / SHARED_BOUNDARY, DEFAULT_SHARED / DIVISIONS) if not p.is_file()]
    if not missing:
        return
    message = f"shared inputs missing: {', '.join(missing)} (../shared beside the clone)"
    if under_ci():
        pytest.fail(f"{message}; CI must have them", pytrace=False)
    pytest.skip(f"{message}; the generator cannot be checked without them")


needs_shared = pytest.mark.usefixtures("shared_inputs")


@cache
def features(name: str) -> list[dict[str, Any]]:
    doc = json.loads((DEMO / name).read_text(encoding="utf-8"))
    return list(doc["features"])


@cache
def rows(name: str) -> list[dict[str, str]]:
    with (DEMO / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def community() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DEMO / "community.json").read_text(encoding="utf-8"))
    return doc


@cache
def _to_metric() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)


def metric(geom: BaseGeometry) -> BaseGeometry:
    out: BaseGeometry = shapely.transform(geom, lambda x, y: _to_metric().transform(x, y), interleaved=False)
    return out


@cache
def outline_m() -> Polygon:
    poly = metric(shape(community()["outline"]))
    assert isinstance(poly, Polygon)
    return poly


@cache
def areas_m(name: str) -> dict[str, Polygon]:
    key = "grid_id" if name == "grids.geojson" else "zone_id"
    return {f["properties"][key]: metric(shape(f["geometry"])) for f in features(name)}


@cache
def buildings() -> dict[str, dict[str, Any]]:
    return {
        f["properties"]["building_id"]: {**f["properties"], "lonlat": f["geometry"]["coordinates"]}
        for f in features("buildings.geojson")
    }


def slots(spec: str) -> set[int]:
    """Half hours of the week (0 = Monday 00:00-00:30) during which a schedule is on call, per the service's parser."""
    return {s for s in range(MINUTES_PER_WEEK // 30) if any(a <= s * 30 < b for a, b in parse_schedule(spec).intervals)}


# --- reproducibility -------------------------------------------------------------------------------------------


@needs_shared
def test_regenerating_with_the_committed_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    counts = generate(tmp_path, seed=community()["seed"])
    assert sorted(counts) == sorted(FILES) == sorted(p.name for p in DEMO.iterdir())
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), f"{name} drifted from the generator"


@needs_shared
def test_another_seed_gives_another_community_with_the_same_counts(tmp_path: Path) -> None:
    counts = generate(tmp_path, seed=7)
    assert (tmp_path / "buildings.geojson").read_bytes() != (DEMO / "buildings.geojson").read_bytes()
    assert counts["households.csv"] == 9760 and counts["vanguards.csv"] == 801
    assert counts["grids.geojson"] == 9 and counts["zones.geojson"] == 16


def test_missing_shared_inputs_fail_with_a_message_saying_where_they_are_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(tmp_path / "out"), "--shared", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "nowhere" / "data" / "zhanggong") in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_files_are_utf8_without_bom_with_newline_line_endings() -> None:
    for name in FILES:
        data = (DEMO / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and data.endswith(b"\n"), name
        data.decode("utf-8")


# --- the community as a whole ----------------------------------------------------------------------------------


def test_counts_are_those_of_the_community_account() -> None:
    assert len(features("zones.geojson")) == 16
    assert len(features("grids.geojson")) == 9
    assert len(rows("households.csv")) == 9760
    assert len(rows("vanguards.csv")) == 801
    assert 380 <= len(features("buildings.geojson")) <= 450
    residents = sum(int(h["residents"]) for h in rows("households.csv"))
    assert 57_000 <= residents < 60_000  # "nearly 60,000 residents"
    counts = community()["counts"]
    assert counts["households"] == 9760 and counts["vanguards"] == 801 and counts["residents"] == residents


def test_community_covers_2_3_km2_in_an_irregular_outline() -> None:
    area_km2 = outline_m().area / 1e6
    assert 2.2 <= area_km2 <= 2.4
    assert community()["area_km2"] == pytest.approx(area_km2, abs=1e-4)
    assert outline_m().convex_hull.area > outline_m().area * 1.01  # not a rectangle: the river bend cuts in
    lon, lat = community()["center"]
    assert abs(lon - 114.930) < 0.005 and abs(lat - 25.850) < 0.005


@needs_shared
def test_community_lies_inside_the_real_zhanggong_district_converted_from_gcj02() -> None:
    doc = json.loads(BOUNDARY.read_text(encoding="utf-8"))
    polys = doc["coordinates"] if doc["type"] == "MultiPolygon" else [doc["coordinates"]]

    def wgs(ring: list[list[float]]) -> list[tuple[float, float]]:
        return [(c.lon, c.lat) for c in (prcoords.gcj_wgs_bored((lat, lon)) for lon, lat in ring)]

    district = MultiPolygon([Polygon(wgs(p[0]), [wgs(h) for h in p[1:]]) for p in polys])
    assert district.contains(shape(community()["outline"]))


@pytest.mark.parametrize("name", ["grids.geojson", "zones.geojson"])
def test_grids_and_zones_each_partition_the_community(name: str) -> None:
    cells = areas_m(name)
    assert all(isinstance(c, Polygon) and c.is_valid for c in cells.values())
    for a, b in itertools.combinations(cells.values(), 2):
        assert a.intersection(b).area < 0.01  # m2: they only share edges
    union = shapely.union_all(list(cells.values()))
    assert union.symmetric_difference(outline_m()).area < 0.01


def test_grids_and_zones_are_named() -> None:
    grids = [f["properties"] for f in features("grids.geojson")]
    assert [g["grid_id"] for g in grids] == [f"G{i}" for i in range(1, 10)]
    assert grids[0]["name"] == "第一网格" and grids[8]["name"] == "第九网格" and grids[8]["name_en"] == "Grid 9"
    zones = [f["properties"] for f in features("zones.geojson")]
    assert [z["zone_id"] for z in zones] == [f"Z{i:02d}" for i in range(1, 17)]
    assert len({z["name"] for z in zones}) == 16 and all(z["name_en"] for z in zones)


# --- streets and buildings -------------------------------------------------------------------------------------


def test_streets_form_one_walking_network_joined_at_shared_vertices() -> None:
    parent: dict[tuple[float, float], tuple[float, float]] = {}

    def root(p: tuple[float, float]) -> tuple[float, float]:
        while parent.setdefault(p, p) != p:
            p = parent[p]
        return p

    kinds: Counter[str] = Counter()
    for f in features("streets.geojson"):
        kinds[f["properties"]["kind"]] += 1
        pts = [(x, y) for x, y in f["geometry"]["coordinates"]]
        for a, b in itertools.pairwise(pts):
            parent[root(a)] = root(b)
    assert len({root(p) for p in list(parent)}) == 1
    assert set(kinds) == {"main", "lane", "path"} and kinds["main"] >= 4
    ids = [f["properties"]["street_id"] for f in features("streets.geojson")]
    assert len(set(ids)) == len(ids)


def test_every_building_is_in_the_community_in_exactly_one_grid_and_one_zone() -> None:
    grids = {f["properties"]["grid_id"]: shape(f["geometry"]) for f in features("grids.geojson")}
    zones = {f["properties"]["zone_id"]: shape(f["geometry"]) for f in features("zones.geojson")}
    outline = shape(community()["outline"])
    streets = {f["properties"]["street_id"] for f in features("streets.geojson")}
    for b in buildings().values():
        p = Point(b["lonlat"])
        assert outline.contains(p)
        assert [g for g, poly in grids.items() if poly.contains(p)] == [b["grid_id"]]
        assert [z for z, poly in zones.items() if poly.contains(p)] == [b["zone_id"]]
        assert b["street_id"] in streets


def test_buildings_are_old_walkups_or_new_towers() -> None:
    kinds = Counter(b["kind"] for b in buildings().values())
    assert kinds["lowrise"] > kinds["tower"] > 10
    for b in buildings().values():
        if b["kind"] == "lowrise":
            assert 5 <= b["floors"] <= 7 and 1 <= b["entrances"] <= 3 and b["has_lift"] is False
            assert b["households"] <= b["floors"] * b["entrances"] * 2
        else:
            assert b["kind"] == "tower"
            assert 18 <= b["floors"] <= 33 and 1 <= b["entrances"] <= 2 and b["has_lift"] is True
            assert b["households"] <= b["floors"] * b["entrances"] * 4


def test_buildings_have_unique_chinese_and_english_addresses_in_the_street_office() -> None:
    addresses = [b["address"] for b in buildings().values()]
    assert len(set(addresses)) == len(addresses)
    pattern = re.compile(r"^江西省赣州市章贡区" + community()["street_office"] + r"\S+?\d+号\d+栋$")
    assert all(pattern.match(a) for a in addresses)
    assert community()["street_office"] in ("解放街道", "章江街道") and community()["district_code"] == "360702"
    assert all(b["address_en"].endswith("Zhanggong District, Ganzhou, Jiangxi") for b in buildings().values())
    assert [b for b in buildings()][:2] == ["B0001", "B0002"]


def test_households_fill_the_flats_of_their_buildings() -> None:
    per_building = Counter(h["building_id"] for h in rows("households.csv"))
    assert per_building == {k: b["households"] for k, b in buildings().items()}
    seen = set()
    for h in rows("households.csv"):
        b = buildings()[h["building_id"]]
        floor, entrance = int(h["floor"]), int(h["entrance"])
        assert 1 <= floor <= b["floors"] and 1 <= entrance <= b["entrances"]
        assert h["unit"][:-2] == h["floor"] and 1 <= int(h["unit"][-2:]) <= 4
        assert (h["building_id"], entrance, h["unit"]) not in seen
        seen.add((h["building_id"], entrance, h["unit"]))
        assert int(h["residents"]) >= 1 and h["elderly_living_alone"] in ("0", "1")
        if h["elderly_living_alone"] == "1":
            assert h["residents"] == "1"
    elderly = sum(h["elderly_living_alone"] == "1" for h in rows("households.csv")) / 9760
    assert 0.04 <= elderly <= 0.06
    assert [h["household_id"] for h in rows("households.csv")][:2] == ["H00001", "H00002"]


def test_aeds_are_inside_the_community_and_in_existing_buildings_when_indoors() -> None:
    aeds = rows("aeds.csv")
    assert 12 <= len(aeds) <= 20
    for a in aeds:
        assert outline_m().contains(metric(Point(float(a["lon"]), float(a["lat"]))))
        assert a["building_id"] == "" or a["building_id"] in buildings()
        assert a["description"]


# --- people ----------------------------------------------------------------------------------------------------


def test_phones_are_unique_fictitious_chinese_mobiles_and_tokens_are_unique() -> None:
    phones = [r["phone"] for name in ("households.csv", "vanguards.csv", "staff.csv") for r in rows(name)]
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"\+86170000\d{5}", p) for p in phones)
    devices = [h["device_token"] for h in rows("households.csv")]
    assert len(set(devices)) == len(devices) and all(re.fullmatch(r"hh_[A-Za-z0-9_-]{32}", t) for t in devices)
    api = [s["api_token"] for s in rows("staff.csv")]
    assert len(set(api)) == len(api) and all(re.fullmatch(r"st_[A-Za-z0-9_-]{32}", t) for t in api)


def test_every_vanguard_lives_in_an_existing_building_with_known_skills() -> None:
    vanguards = rows("vanguards.csv")
    assert [v["vanguard_id"] for v in vanguards] == [f"V{i:04d}" for i in range(1, 802)]
    for v in vanguards:
        assert v["building_id"] in buildings()
        skills = v["skills"].split(";")
        assert skills and set(skills) <= SKILLS and len(set(skills)) == len(skills)
        if {"doctor", "nurse"} & set(skills):
            assert "first_aid" in skills
        assert 0.15 <= float(v["accept_rate"]) <= 0.6 and v["languages"] in ("zh", "zh;en")
        assert v["name"] and v["occupation"]
    share = Counter(s for v in vanguards for s in v["skills"].split(";"))
    assert 0.06 <= share["doctor"] / 801 <= 0.08 and 0.07 <= share["nurse"] / 801 <= 0.09
    assert 0.38 <= share["first_aid"] / 801 <= 0.42
    rates = sorted(float(v["accept_rate"]) for v in vanguards)
    assert 0.26 <= rates[400] <= 0.32  # median near the published 28.7 %


def test_between_30_and_60_percent_of_vanguards_are_on_call_at_every_half_hour() -> None:
    counts = Counter(s for v in rows("vanguards.csv") for s in slots(v["on_call"]))
    shares = [counts[s] / 801 for s in range(336)]
    assert min(shares) >= 0.30 and max(shares) <= 0.60
    always = sum(v["on_call"] == "Mon-Sun 00:00-24:00" for v in rows("vanguards.csv")) / 801
    assert 0.12 <= always <= 0.20


def test_every_grid_has_medical_help_on_call_at_every_half_hour() -> None:
    medical: dict[str, Counter[int]] = defaultdict(Counter)
    clinical: dict[str, Counter[int]] = defaultdict(Counter)
    for v in rows("vanguards.csv"):
        grid, skills, on = buildings()[v["building_id"]]["grid_id"], set(v["skills"].split(";")), slots(v["on_call"])
        if skills & {"doctor", "nurse", "first_aid"}:
            medical[grid].update(on)
        if skills & {"doctor", "nurse"}:
            clinical[grid].update(on)
    for grid in (f"G{i}" for i in range(1, 10)):
        assert min(medical[grid][s] for s in range(336)) >= 3, grid
        assert min(clinical[grid][s] for s in range(336)) >= 2, grid


def test_each_grid_has_one_secretary_and_grid_workers_and_each_building_one_group_leader() -> None:
    staff = rows("staff.csv")
    roles = Counter((s["role"], s["grid_id"]) for s in staff)
    for grid in (f"G{i}" for i in range(1, 10)):
        assert roles[("grid_secretary", grid)] == 1
        assert 1 <= roles[("grid_worker", grid)] <= 4
    leaders = [s for s in staff if s["role"] == "building_leader"]
    assert sorted(s["building_id"] for s in leaders) == sorted(buildings())
    assert all(s["grid_id"] == buildings()[s["building_id"]]["grid_id"] for s in leaders)
    assert 3 <= roles[("duty_officer", "")] <= 4 and 1 <= roles[("coordinator", "")] <= 2
    assert set(Counter(s["role"] for s in staff)) == {
        "duty_officer",
        "coordinator",
        "grid_secretary",
        "grid_worker",
        "building_leader",
    }
    assert all(s["password"].startswith("demo-") for s in staff)


def test_duty_officers_together_cover_every_minute_of_the_week() -> None:
    covered = [False] * MINUTES_PER_WEEK
    for s in rows("staff.csv"):
        if s["role"] == "duty_officer":
            for a, b in parse_schedule(s["on_call"]).intervals:
                covered[a:b] = [True] * (b - a)
    assert all(covered)

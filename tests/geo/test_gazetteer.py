"""Typed addresses find their building with a confidence; ambiguous input returns candidates, never a guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.gazetteer import Gazetteer, GazetteerEntry, normalise

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture(scope="module")
def demo() -> Gazetteer:
    zones = {
        f["properties"]["zone_id"]: f["properties"]["name"]
        for f in json.loads((DEMO / "zones.geojson").read_text(encoding="utf-8"))["features"]
    }
    return Gazetteer(
        GazetteerEntry(p["building_id"], p["address"], zones[p["zone_id"]], p["entrances"], p["floors"])
        for p in (f["properties"] for f in json.loads((DEMO / "buildings.geojson").read_text("utf-8"))["features"])
    )


def test_every_full_address_of_the_demo_finds_its_own_building(demo: Gazetteer) -> None:
    for entry in demo.entries:
        found = demo.match(entry.address)
        assert (found.building_id, found.confidence) == (entry.building_id, 1.0), entry.address


@pytest.mark.parametrize(
    "typed",
    [
        "解放街道 章江路216号1栋2单元501",  # the street office, spaces, entrance and room
        "章江路216号1幢501室",  # 幢 for 栋, 室 after the room
        "章江路２１６号１栋",  # full-width digits
        "章江路二百一十六号一栋",  # Chinese numerals
        "章江路216-1-2-501",  # the dashed shorthand
        "赣州章江路216号1号楼",  # a piece of the prefix, 号楼 for 栋
    ],
)
def test_the_many_ways_people_write_one_address(demo: Gazetteer, typed: str) -> None:
    found = demo.match(typed)
    assert found.building_id == "B0001" and found.confidence >= 0.95


def test_the_door_is_read_from_the_address(demo: Gazetteer) -> None:
    parsed = demo.match("解放街道章江路216号1栋2单元1203").parsed
    assert (parsed.number, parsed.building, parsed.entrance, parsed.room, parsed.floor) == (216, 1, 2, "1203", 12)


def test_a_typo_in_the_street_still_finds_the_building_with_less_confidence(demo: Gazetteer) -> None:
    found = demo.match("张江路216号1栋")  # 张 for 章
    assert found.building_id == "B0001" and 0.8 <= found.confidence < 1.0


def test_a_partial_address_is_ambiguous_and_lists_the_candidates(demo: Gazetteer) -> None:
    found = demo.match("章江路216号")  # which 栋?
    assert found.ambiguous
    assert {c.building_id for c in found.candidates} >= {"B0001", "B0002"}
    assert all("章江路216号" in c.address for c in found.candidates[:2])


def test_lane_two_is_not_lane_twelve(demo: Gazetteer) -> None:
    assert demo.match("阳明路二巷21号1栋").building_id == "B0021"
    assert demo.match("阳明路2巷21号1栋").building_id == "B0021"
    assert demo.match("阳明路十二巷21号1栋").building_id == "B0387"


def test_nonsense_matches_nothing_and_offers_nothing(demo: Gazetteer) -> None:
    found = demo.match("完全不存在的地方")
    assert found.ambiguous and found.candidates == ()


def test_normalise_reads_floors_and_numerals() -> None:
    assert normalise("三栋 五楼02") == "3栋502"
    assert normalise("十二号") == "12号"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_typo_never_turns_into_a_silent_wrong_building(demo: Gazetteer, data: st.DataObject) -> None:
    entry = data.draw(st.sampled_from(demo.entries))
    street, number, building = _street_of(demo, entry)
    pos = data.draw(st.integers(0, len(street) - 1))
    typo = data.draw(st.sampled_from("张江阳明路巷文清大道中山红旗"))
    mangled = street[:pos] + typo + street[pos + 1 :]
    if any(mangled in s for _, s, _, _ in demo.parts):
        return  # the typo spells (part of) another real street, e.g. 阳明路 -> 阳山路 in 东阳山路: a fair reading
    found = demo.match(f"{mangled}{number}号{building}栋")
    assert found.building_id in (None, entry.building_id), (mangled, found)  # never a confident wrong answer
    assert found.building_id == entry.building_id or entry.building_id in {c.building_id for c in found.candidates}


def _street_of(g: Gazetteer, entry: GazetteerEntry) -> tuple[str, int | None, int | None]:
    return next((s, n, b) for e, s, n, b in g.parts if e is entry)

"""Replaying a CSV call stream: the documented columns, the default kind, where a press comes from."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta

import pytest

from benchmarks.sim.arrivals import DEFAULT_KIND
from benchmarks.sim.calls import Call, Doors, Household, kind_of, parse_calls
from dispatch.clock import LOCAL_TZ

START = datetime(2026, 1, 5, tzinfo=LOCAL_TZ)  # a Monday
HOUSEHOLDS = [
    Household("H1", "t1", 3, "B1", 5),
    Household("H2", "t2", 2, "B2", 18),
    Household("H3", "t3", 4, "B2", 2),
]
BUILDINGS = {"B1": (114.9270, 25.8500), "B2": (114.9330, 25.8500), "B9": (114.9400, 25.8400)}  # B9: nobody lives


def replay(text: str, seed: int = 1) -> list[Call]:
    return parse_calls(csv.DictReader(io.StringIO(text)), Doors(HOUSEHOLDS, BUILDINGS), random.Random(seed), START)


def test_the_documented_columns_give_time_kind_and_door() -> None:
    calls = replay(
        "received_at,kind,household_id,building_id,lon,lat,floor,first_unit_on_scene_s,ambulance_on_scene_s\n"
        "2026-01-05T08:30:00,fall,H2,,,,,400,650\n"
        "2026-01-05T09:00:00+08:00,medical,,B1,,,,,\n"
        "2026-01-05T10:00:00,fire,,,114.9329,25.8501,7,,\n"
    )
    assert [c.kind for c in calls] == ["fall", "medical", "fire"]
    assert [c.index for c in calls] == [0, 1, 2]
    assert calls[0].at == datetime(2026, 1, 5, 8, 30, tzinfo=LOCAL_TZ)
    assert calls[0].household.id == "H2" and calls[0].floor == 18
    assert (calls[0].ems_s, calls[0].ambulance_s) == (400.0, 650.0)
    assert calls[1].household.id == "H1" and calls[1].ems_s is None
    assert calls[2].household.building_id == "B2" and calls[2].floor == 7  # the nearest building; floor given


def test_unknown_kinds_map_to_the_documented_default_and_sf_call_types_are_understood() -> None:
    assert kind_of("Structure Fire") == "fire"
    assert kind_of("MEDICAL") == "medical"
    assert kind_of("alien landing") == DEFAULT_KIND == "security"
    calls = replay("Received DtTm,Call Type\n01/05/2026 10:00:00 AM,Citizen Assist / Service Call\n")
    assert calls[0].kind == DEFAULT_KIND


def test_rows_are_replayed_in_time_order_shifted_by_whole_weeks_to_keep_the_hour_of_the_week() -> None:
    calls = replay("received_at,kind\n2017-01-03T07:15:00,medical\n2017-01-02T23:50:00,fall\n")
    assert [c.kind for c in calls] == ["fall", "medical"]
    first = calls[0].at
    assert START <= first < START + timedelta(days=7)
    assert (first.weekday(), first.hour, first.minute) == (0, 23, 50)  # 2 Jan 2017 was a Monday
    assert calls[1].at - first == timedelta(hours=7, minutes=25)


def test_a_row_without_a_place_comes_from_a_household_drawn_by_residents() -> None:
    text = "received_at,kind\n" + "".join(f"2026-01-05T0{i}:00:00,medical\n" for i in range(9))
    assert {c.household.id for c in replay(text)} <= {"H1", "H2", "H3"}
    assert [c.household.id for c in replay(text, seed=4)] == [c.household.id for c in replay(text, seed=4)]


def test_a_call_without_a_received_time_is_refused() -> None:
    with pytest.raises(ValueError, match="received time"):
        replay("received_at,kind\n,medical\n")


def test_an_sf_file_with_a_row_per_unit_replays_one_press_per_incident() -> None:
    calls = replay(
        "Incident Number,Received DtTm,Call Type\n"
        "7,01/02/2017 10:00:05 AM,Medical Incident\n"
        "7,01/02/2017 10:00:00 AM,Medical Incident\n"
        "8,01/02/2017 11:00:00 AM,Outside Fire\n"
    )
    assert [(c.kind, c.at.minute, c.at.second) for c in calls] == [("medical", 0, 0), ("fire", 0, 0)]

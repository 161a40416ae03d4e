"""Coordinate systems: conversions are exact where it matters and only applied in mainland China."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.crs import CoordinateError, Crs, MetricProjector, from_wgs84, in_mainland_china, to_wgs84

GANZHOU = st.tuples(st.floats(25.6, 26.1), st.floats(114.6, 115.2))
PROJECTOR = MetricProjector()  # building a Transformer costs milliseconds: once per module


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[0] + b[0]) / 2)
    return math.hypot((a[0] - b[0]) * 111_320, (a[1] - b[1]) * 111_320 * math.cos(lat))


@given(GANZHOU, st.sampled_from([Crs.GCJ02, Crs.BD09]))
def test_a_round_trip_through_any_chinese_system_stays_within_a_centimetre(
    point: tuple[float, float], crs: Crs
) -> None:
    there = from_wgs84(*point, crs)
    back = to_wgs84(*there, crs)
    assert metres_between(point, back) < 0.01


def test_gcj02_at_ganzhou_is_hundreds_of_metres_off_wgs84() -> None:
    shifted = from_wgs84(25.85, 114.93, Crs.GCJ02)
    assert 400 < metres_between((25.85, 114.93), shifted) < 800


@pytest.mark.parametrize(
    ("place", "lat", "lon", "mainland"),
    [
        ("Ganzhou", 25.85, 114.93, True),
        ("Beijing", 39.90, 116.40, True),
        ("Shenzhen", 22.54, 114.06, True),
        ("Hong Kong", 22.30, 114.17, False),
        ("Lok Ma Chau, HK", 22.51, 114.07, False),
        ("Taipei", 25.03, 121.56, False),
        ("Seoul", 37.57, 126.98, False),
        ("Macau", 22.19, 113.54, False),
        ("Tokyo", 35.68, 139.69, False),
        ("San Francisco", 37.77, -122.42, False),
    ],
)
def test_only_mainland_china_gets_the_gcj02_shift(place: str, lat: float, lon: float, mainland: bool) -> None:
    assert in_mainland_china(lat, lon) is mainland, place
    if not mainland:
        assert to_wgs84(lat, lon, Crs.GCJ02) == (lat, lon)


@pytest.mark.parametrize(("lat", "lon", "field"), [(91, 114, "lat"), (25, 181, "lon"), (math.nan, 114, "lat")])
def test_impossible_coordinates_name_the_field(lat: float, lon: float, field: str) -> None:
    with pytest.raises(CoordinateError) as err:
        to_wgs84(lat, lon, Crs.WGS84)
    assert err.value.field == f"location.{field}"


@given(GANZHOU)
def test_metric_projection_round_trips_and_measures_metres(point: tuple[float, float]) -> None:
    projector = PROJECTOR
    lat, lon = point
    x, y = projector.to_metric(lon, lat)
    back_lon, back_lat = projector.to_lon_lat(x, y)
    assert metres_between((lat, lon), (back_lat, back_lon)) < 0.001
    x2, y2 = projector.to_metric(lon, lat + 0.001)
    assert math.hypot(x2 - x, y2 - y) == pytest.approx(110.8, abs=0.5)  # 0.001 degree of latitude

"""Coordinate systems: phones in China report GCJ-02 (or Baidu's BD-09); we store WGS-84 and measure in metres.

At Ganzhou GCJ-02 is about 590 m off WGS-84, wider than the whole community, so every input states its system.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

import prcoords
from pyproj import Transformer
from shapely.geometry import Point, Polygon

# CGCS2000 / 3-degree Gauss-Kruger CM 114E: metre-accurate over the community (114.9 E).
METRIC_CRS = "EPSG:4547"


class Crs(StrEnum):
    WGS84 = "WGS84"
    GCJ02 = "GCJ02"
    BD09 = "BD09"


class CoordinateError(ValueError):
    """Coordinates that cannot be a place on Earth; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


# GCJ-02 is applied only in mainland China. Bounding boxes alone (what most packages use) also shift Hong Kong,
# Macau, Taiwan and Korea; those are cut out here. Coarse on purpose: the community is far from every edge.
_CHINA_BOX = (73.5, 18.1, 135.1, 53.6)
_NOT_MAINLAND = (
    (113.52, 22.10, 113.61, 22.22),  # Macau
    (119.3, 21.8, 122.1, 25.4),  # Taiwan and Penghu
    (124.2, 33.0, 131.0, 43.0),  # Korean peninsula
    (129.0, 30.0, 146.0, 46.0),  # Japan
    (73.5, 36.0, 80.0, 53.6),  # Central Asia west of Xinjiang's main body
    (87.5, 45.5, 120.0, 53.6),  # Mongolia
)


# Hong Kong needs a shape of its own: its border with Shenzhen runs a few kilometres from Futian.
_HONG_KONG = Polygon(
    [
        (113.83, 22.20),
        (114.50, 22.14),
        (114.50, 22.45),
        (114.32, 22.55),
        (114.22, 22.555),
        (114.15, 22.53),
        (114.08, 22.515),
        (114.02, 22.51),
        (113.90, 22.45),
        (113.83, 22.35),
    ]
)


def in_mainland_china(lat: float, lon: float) -> bool:
    west, south, east, north = _CHINA_BOX
    if not (west <= lon <= east and south <= lat <= north):
        return False
    if _HONG_KONG.contains(Point(lon, lat)):
        return False
    return not any(w <= lon <= e and s <= lat <= n for w, s, e, n in _NOT_MAINLAND)


def validate_lat_lon(lat: float, lon: float) -> None:
    if not isinstance(lat, int | float) or not math.isfinite(lat) or not -90 <= lat <= 90:
        raise CoordinateError("location.lat", "must be a number between -90 and 90")
    if not isinstance(lon, int | float) or not math.isfinite(lon) or not -180 <= lon <= 180:
        raise CoordinateError("location.lon", "must be a number between -180 and 180")


def to_wgs84(lat: float, lon: float, crs: Crs) -> tuple[float, float]:
    """(lat, lon) in `crs` -> (lat, lon) in WGS-84, inverting GCJ-02/BD-09 iteratively (mm accuracy)."""
    validate_lat_lon(lat, lon)
    if crs is Crs.WGS84 or not in_mainland_china(lat, lon):
        return lat, lon
    invert = prcoords.gcj_wgs_bored if crs is Crs.GCJ02 else prcoords.bd_wgs_bored
    out = invert((lat, lon), False)
    guess_lat, guess_lon = float(out.lat), float(out.lon)
    # Polish with a few fixed-point steps: the published inverse leaves up to ~2 cm on BD-09.
    for _ in range(8):
        f_lat, f_lon = from_wgs84(guess_lat, guess_lon, crs)
        d_lat, d_lon = lat - f_lat, lon - f_lon
        guess_lat, guess_lon = guess_lat + d_lat, guess_lon + d_lon
        if abs(d_lat) < 1e-11 and abs(d_lon) < 1e-11:
            break
    return guess_lat, guess_lon


def from_wgs84(lat: float, lon: float, crs: Crs) -> tuple[float, float]:
    validate_lat_lon(lat, lon)
    if crs is Crs.WGS84 or not in_mainland_china(lat, lon):
        return lat, lon
    out = prcoords.wgs_gcj((lat, lon), False) if crs is Crs.GCJ02 else prcoords.wgs_bd((lat, lon), False)
    return float(out.lat), float(out.lon)


class MetricProjector:
    """WGS-84 lon/lat <-> metres in METRIC_CRS. Build one and reuse it: making a Transformer costs ~ms."""

    def __init__(self, metric_crs: str = METRIC_CRS) -> None:
        self._fwd = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
        self._inv = Transformer.from_crs(metric_crs, "EPSG:4326", always_xy=True)

    def to_metric(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self._fwd.transform(lon, lat)
        return float(x), float(y)

    def to_metric_many(self, lons: Sequence[float], lats: Sequence[float]) -> tuple[list[float], list[float]]:
        xs, ys = self._fwd.transform(list(lons), list(lats))
        return [float(v) for v in xs], [float(v) for v in ys]

    def to_lon_lat(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self._inv.transform(x, y)
        return float(lon), float(lat)

"""The simulation walks the street graph: its tests' tiny community gets streets (a small grid round the blocks)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.support.community import write_tiny_community

STREET_LATS = (25.8495, 25.8510)
STREET_LONS = (114.9260, 114.9300, 114.9340)


def write_street_grid(out: Path) -> None:
    """Two east-west streets and three north-south ones, cut at every crossing so that they share vertices."""
    lines = []
    for lat in STREET_LATS:
        lines += [[[a, lat], [b, lat]] for a, b in itertools.pairwise(STREET_LONS)]
    for lon in STREET_LONS:
        lines += [[[lon, a], [lon, b]] for a, b in itertools.pairwise(STREET_LATS)]
    features = [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": c}, "properties": {"street_id": f"R{i}"}}
        for i, c in enumerate(lines)
    ]
    (out / "streets.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    out = write_tiny_community(tmp_path / "community")
    write_street_grid(out)
    return out

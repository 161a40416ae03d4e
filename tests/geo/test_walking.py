"""Walking distances follow the streets: on the demo community's network and on a real OpenStreetMap extract."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import MetricProjector
from geo.walking import WalkFieldStack, WalkingGraph, utm_crs_for

REPO = Path(__file__).resolve().parents[2]
DEMO_STREETS = REPO / "data" / "demo" / "streets.geojson"
OSM_EXTRACT = REPO.parent / "shared" / "data" / "streets" / "aguascalientes.osm.pbf"
PROJECTOR = MetricProjector()


@pytest.fixture(scope="module")
def demo() -> WalkingGraph:
    return WalkingGraph.from_geojson(DEMO_STREETS, PROJECTOR)


@pytest.fixture(scope="module")
def osm() -> WalkingGraph:
    graph, _ = WalkingGraph.from_osm_pbf(OSM_EXTRACT)
    return graph


def grid_streets() -> WalkingGraph:
    """Two parallel streets 100 m apart, joined only at x = 0: a wall between them everywhere else."""
    return WalkingGraph([[(0, 0), (500, 0)], [(0, 100), (500, 100)], [(0, 0), (0, 100)]])


def test_the_way_round_the_block_is_longer_than_the_straight_line() -> None:
    g = grid_streets()
    # From (400, 10) near the south street to (400, 90) near the north one: back to x=0 and out again.
    walk = g.field_from(400, 10).to(400, 90)
    assert walk == pytest.approx(10 + 400 + 100 + 400 + 10)


def test_two_points_on_one_street_walk_straight_along_it() -> None:
    g = grid_streets()
    assert g.field_from(100, 5).to(300, 5) == pytest.approx(5 + 200 + 5)


def test_neighbours_in_one_courtyard_walk_across_it() -> None:
    g = grid_streets()
    assert g.field_from(250, 40).to(252, 40) == pytest.approx(2)


@settings(max_examples=40, deadline=None)
@given(st.tuples(st.floats(-50, 550), st.floats(-50, 150)), st.tuples(st.floats(-50, 550), st.floats(-50, 150)))
def test_a_walk_is_never_shorter_than_the_straight_line_and_is_symmetric(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    g = grid_streets()
    there, back = g.field_from(*a).to(*b), g.field_from(*b).to(*a)
    assert there >= math.dist(a, b) - 1e-6
    assert there == pytest.approx(back, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-50, 550), st.floats(-50, 150)), min_size=1, max_size=5),
    st.lists(st.tuples(st.floats(-50, 550), st.floats(-50, 150)), min_size=1, max_size=8),
)
def test_a_stack_of_fields_answers_exactly_as_each_field_alone(
    origins: list[tuple[float, float]], points: list[tuple[float, float]]
) -> None:
    g = grid_streets()
    fields = [g.field_from(*o) for o in origins]
    xs, ys = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    together = WalkFieldStack(fields).to_many(xs, ys)
    assert together.shape == (len(origins), len(points))
    for row, field in zip(together, fields, strict=True):
        assert row == pytest.approx(field.to_many(xs, ys), abs=1e-9)


def test_snaps_come_from_the_cache_the_second_time_and_agree_with_a_fresh_graph(demo: WalkingGraph) -> None:
    xs, ys = np.array([10.0, 250.0, -300.0]), np.array([5.0, -120.0, 40.0])
    first = demo.snap_many(xs, ys)
    again = demo.snap_many(xs[::-1].copy(), ys[::-1].copy())  # other order: not the last-call memo
    fresh = WalkingGraph.from_geojson(DEMO_STREETS, PROJECTOR).snap_many(xs, ys)
    for a, b, c in zip(first, again, fresh, strict=True):
        assert np.asarray(a) == pytest.approx(np.asarray(b)[::-1])
        assert np.asarray(a) == pytest.approx(np.asarray(c))


def test_the_demo_network_is_one_piece_and_walks_about_1_36x_the_straight_line(demo: WalkingGraph) -> None:
    # data/README.md: median 1.36x, p90 1.6x between random buildings.
    assert demo.node_count == len(demo.xy)  # every vertex reachable: one connected network
    rng = np.random.default_rng(7)
    lo, hi = demo.xy.min(axis=0), demo.xy.max(axis=0)
    pts = rng.uniform(lo + 200, hi - 200, size=(60, 2))
    ratios = []
    for a, b in zip(pts[:30], pts[30:], strict=True):
        straight = float(np.hypot(*(a - b)))
        if straight > 200:
            ratios.append(demo.field_from(*a).to(*b) / straight)
    assert 1.15 < float(np.median(ratios)) < 1.6
    assert all(r >= 1.0 for r in ratios)


def test_the_real_osm_extract_builds_a_walking_graph_of_the_published_size(osm: WalkingGraph) -> None:
    # shared/data/PROVENANCE.md: "walking graph about 1,870 nodes / 2,241 edges" (osmnx's count).
    assert 1700 < osm.node_count < 2000
    assert 2050 < osm.edge_count < 2400


def test_the_real_extract_walks_about_1_3x_the_straight_line(osm: WalkingGraph) -> None:
    rng = np.random.default_rng(11)
    nodes = osm.xy[rng.choice(len(osm.xy), size=80, replace=False)]
    ratios = []
    for a, b in zip(nodes[:40], nodes[40:], strict=True):
        straight = float(np.hypot(*(a - b)))
        if straight > 200:
            walk = osm.field_from(*a).to(*b)
            if math.isfinite(walk):
                ratios.append(walk / straight)
    assert len(ratios) > 25
    assert 1.1 < float(np.median(ratios)) < 1.6  # PROVENANCE: about 1.3x median


def test_the_extract_is_projected_to_its_own_utm_zone() -> None:
    assert utm_crs_for(-102.29, 21.87) == "EPSG:32613"  # Aguascalientes
    assert utm_crs_for(114.93, 25.85) == "EPSG:32650"  # Ganzhou
    assert utm_crs_for(151.2, -33.9) == "EPSG:32756"  # Sydney, southern hemisphere

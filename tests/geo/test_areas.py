"""The community map answers grid, zone and building for a point, deterministically."""

from __future__ import annotations

from shapely.geometry import box

from geo.areas import CommunityMap

GRIDS = {"G2": box(114.930, 25.845, 114.935, 25.855), "G1": box(114.925, 25.845, 114.930, 25.855)}
ZONES = {"Z1": box(114.925, 25.845, 114.935, 25.850), "Z2": box(114.925, 25.850, 114.935, 25.855)}
BUILDINGS = {"B1": (114.9270, 25.8480), "B2": (114.9330, 25.8520)}


def test_a_point_is_resolved_to_its_grid_zone_and_nearest_building() -> None:
    where = CommunityMap(GRIDS, ZONES, BUILDINGS).locate(114.92702, 25.84802)
    assert (where.grid_id, where.zone_id, where.building_id) == ("G1", "Z1", "B1")
    assert where.building_distance_m is not None and where.building_distance_m < 5
    assert not where.out_of_area


def test_a_point_far_from_any_building_has_no_building() -> None:
    where = CommunityMap(GRIDS, ZONES, BUILDINGS).locate(114.9300 + 0.0001, 25.8500 + 0.0001)
    assert where.building_id is None and where.grid_id == "G2"


def test_a_point_on_a_shared_boundary_always_belongs_to_the_smaller_id() -> None:
    for grids in (GRIDS, dict(reversed(list(GRIDS.items())))):
        assert CommunityMap(grids, ZONES, BUILDINGS).locate(114.930, 25.850).grid_id == "G1"
    assert CommunityMap(GRIDS, ZONES, BUILDINGS).locate(114.928, 25.850).zone_id == "Z1"


def test_a_point_outside_every_grid_is_out_of_area() -> None:
    where = CommunityMap(GRIDS, ZONES, BUILDINGS).locate(114.90, 25.80)
    assert where.out_of_area and where.grid_id is None and where.building_id is None

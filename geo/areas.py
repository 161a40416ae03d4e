"""The community map: which grid, zone and building a point belongs to.

Points on a shared boundary belong to the polygon with the smallest id, so the answer never depends on load order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform
from shapely.strtree import STRtree

from geo.crs import MetricProjector


@dataclass(frozen=True)
class Location:
    lon: float
    lat: float
    grid_id: str | None
    zone_id: str | None
    building_id: str | None
    building_distance_m: float | None

    @property
    def out_of_area(self) -> bool:
        return self.grid_id is None


class _PolygonLayer:
    def __init__(self, polygons: Mapping[str, BaseGeometry]) -> None:
        self._ids = sorted(polygons)
        self._geoms = [polygons[i] for i in self._ids]
        for g in self._geoms:
            shapely.prepare(g)
        self._tree = STRtree(self._geoms)

    def which(self, point: BaseGeometry) -> str | None:
        hits = sorted(int(i) for i in self._tree.query(point, predicate="intersects"))
        return self._ids[hits[0]] if hits else None


class CommunityMap:
    """Grids and zones (polygons, WGS-84) and buildings (points), resolved in metres for nearest-building."""

    def __init__(
        self,
        grids: Mapping[str, BaseGeometry],
        zones: Mapping[str, BaseGeometry],
        buildings: Mapping[str, tuple[float, float]],
        projector: MetricProjector | None = None,
        building_tolerance_m: float = 40.0,
    ) -> None:
        self.projector = projector or MetricProjector()
        self._grids = _PolygonLayer(grids)
        self._zones = _PolygonLayer(zones)
        self._building_ids = sorted(buildings)
        lons = [buildings[b][0] for b in self._building_ids]
        lats = [buildings[b][1] for b in self._building_ids]
        xs, ys = self.projector.to_metric_many(lons, lats)
        self.building_xy = dict(zip(self._building_ids, zip(xs, ys, strict=True), strict=True))
        self._building_tree = STRtree(shapely.points(xs, ys))
        self._tolerance = building_tolerance_m
        self.outline = shapely.union_all(list(grids.values())) if grids else None

    def locate(self, lon: float, lat: float) -> Location:
        point = shapely.Point(lon, lat)
        x, y = self.projector.to_metric(lon, lat)
        building_id: str | None = None
        distance: float | None = None
        idx, dist = self._building_tree.query_nearest(
            shapely.Point(x, y), max_distance=self._tolerance, return_distance=True, all_matches=True
        )
        if len(idx):
            best = min(zip(dist, idx, strict=True), key=lambda p: (round(float(p[0]), 3), int(p[1])))
            building_id = self._building_ids[int(best[1])]
            distance = float(best[0])
        return Location(lon, lat, self._grids.which(point), self._zones.which(point), building_id, distance)

    def metric_outline(self) -> BaseGeometry | None:
        if self.outline is None:
            return None
        return transform(lambda xs, ys: self.projector.to_metric_many(xs, ys), self.outline)

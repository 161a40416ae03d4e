"""Geometry of the demo community: outline, grids, zones and streets, built in metres in EPSG:4547.

Everything here works in the metric CRS (CGCS2000 / 3-degree Gauss-Kruger CM 114E, x east, y north); the writer
converts to WGS-84 lon/lat at the edge. The real district boundary (GCJ-02) is converted to WGS-84 with prcoords and
only used to check (and if needed shift) where the invented community lies.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import prcoords
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from dispatch.community import names

METRIC_CRS = "EPSG:4547"
CENTER_LON, CENTER_LAT = 114.930, 25.850
AREA_M2 = 2_300_000.0
BIG = 4000.0  # metres: cut lines run this far past the community so strips cover it
RING_INSET = 10.0  # metres: the edge roads run this far inside the outline

XY = tuple[float, float]


@dataclass(frozen=True)
class Area:
    """A grid or a residential zone: an id, names and a polygon in metres."""

    area_id: str
    name: str
    name_en: str
    polygon: Polygon
    era: str = ""  # zones only: "old", "mixed" or "new"


@dataclass
class Street:
    """A street as a polyline in metres; junctions are shared vertices (so a walking graph can be built)."""

    street_id: str
    name: str
    name_en: str
    kind: str  # "main" | "lane" | "path"
    coords: list[XY] = field(default_factory=list)

    @property
    def line(self) -> LineString:
        return LineString(self.coords)


def to_metric() -> Transformer:
    return Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


def to_lonlat() -> Transformer:
    return Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


def load_district_wgs84(path: Path) -> MultiPolygon:
    """The district boundary (GeoJSON (Multi)Polygon in GCJ-02) with every vertex converted to WGS-84 lon/lat."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    geometry = doc.get("geometry", doc) if doc.get("type") == "Feature" else doc
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]

    def ring(points: Sequence[Sequence[float]]) -> list[XY]:
        out = []
        for lon, lat in points:
            wgs = prcoords.gcj_wgs_bored((lat, lon))  # prcoords takes and returns (lat, lon)
            out.append((float(wgs.lon), float(wgs.lat)))
        return out

    return MultiPolygon([Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in polygons])


def project(geom: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    """Apply a pyproj transformer (always_xy) to every coordinate of a shapely geometry."""

    def fn(x: object, y: object) -> tuple[object, object]:
        out: tuple[object, object] = transformer.transform(x, y)
        return out

    result: BaseGeometry = shapely.transform(geom, fn, interleaved=False)
    return result


def make_outline(rng: random.Random, cx: float, cy: float) -> Polygon:
    """An irregular outline of exactly AREA_M2, centred on (cx, cy): roads on three sides, a river bend on the west."""
    north = [(-800, 620), (-420, 690), (20, 720), (430, 680), (800, 600)]
    east = [(930, 330), (960, -60), (900, -420), (760, -640)]
    south = [(380, -700), (-60, -690), (-480, -650), (-760, -560)]
    pts = [(x + rng.uniform(-35, 35), y + rng.uniform(-35, 35)) for x, y in north + east + south]
    (x0, y0), (x1, y1) = pts[-1], pts[0]
    bend, phase = rng.uniform(150, 210), rng.uniform(0, math.pi)
    for k in range(1, 18):  # the river bank, bulging into the community
        t = k / 18
        x = x0 + (x1 - x0) * t + bend * math.sin(math.pi * t) + 10 * math.sin(3 * math.pi * t + phase)
        pts.append((x, y0 + (y1 - y0) * t))
    poly = Polygon(pts)
    scale = math.sqrt(AREA_M2 / poly.area)
    c = poly.centroid
    return Polygon([(cx + (x - c.x) * scale, cy + (y - c.y) * scale) for x, y in pts])


def place_inside(outline: Polygon, district: BaseGeometry, margin: float = 50.0) -> Polygon:
    """The outline itself if it lies inside the district (with a margin), else the nearest shifted copy that does."""
    if district.contains(outline.buffer(margin)):
        return outline
    for step in range(1, 41):
        for k in range(8):
            dx = 100.0 * step * math.cos(k * math.pi / 4)
            dy = 100.0 * step * math.sin(k * math.pi / 4)
            moved = Polygon([(x + dx, y + dy) for x, y in outline.exterior.coords])
            if district.contains(moved.buffer(margin)):
                return moved
    raise ValueError("no place for the community inside the district boundary")


def _cut_line(
    rng: random.Random, pos: float, lo: float, hi: float, kinks: int, jitter: float, vertical: bool
) -> list[XY]:
    """A gently kinked line across the community at `pos`, straight beyond [lo, hi] out to +-BIG."""
    ts = [lo + (hi - lo) * k / (kinks + 1) for k in range(kinks + 2)]
    offs = [pos + rng.uniform(-jitter, jitter) for _ in ts]
    pts = [(offs[0], lo - BIG), *zip(offs, ts, strict=True), (offs[-1], hi + BIG)]
    return [(a, b) if vertical else (b, a) for a, b in pts]


@dataclass(frozen=True)
class Partition:
    cells: list[Polygon]  # row-major from the north-west
    inner_cols: list[list[XY]]  # the interior north-south cut lines, west first, each south to north
    inner_rows: list[list[XY]]  # the interior east-west cut lines, north first, each west to east


def partition(
    rng: random.Random, outline: Polygon, cols: int, rows: int, shift: float, kinks: int, jitter: float
) -> Partition:
    """Split the outline into cols x rows irregular cells along jittered, kinked lines (retrying until all the
    cells are single polygons of reasonable size)."""
    minx, miny, maxx, maxy = outline.bounds
    lo_y, hi_y, lo_x, hi_x = miny - 50, maxy + 50, minx - 50, maxx + 50
    for _ in range(50):
        v = [
            _cut_line(
                rng, minx + (maxx - minx) * (k / cols + rng.uniform(-shift, shift)), lo_y, hi_y, kinks, jitter, True
            )
            for k in range(1, cols)
        ]
        h = [
            _cut_line(
                rng, miny + (maxy - miny) * (k / rows + rng.uniform(-shift, shift)), lo_x, hi_x, kinks, jitter, False
            )
            for k in range(1, rows)
        ]
        west = [(minx - BIG, y) for _, y in v[0]]
        east = [(maxx + BIG, y) for _, y in v[0]]
        south = [(x, miny - BIG) for x, _ in h[0]]
        north = [(x, maxy + BIG) for x, _ in h[0]]
        vs, hs = [west, *v, east], [south, *h, north]
        col_strips = [Polygon(vs[i] + vs[i + 1][::-1]) for i in range(cols)]
        row_strips = [Polygon(hs[j] + hs[j + 1][::-1]) for j in range(rows)][::-1]  # north first
        cells = [outline.intersection(r).intersection(c) for r in row_strips for c in col_strips]
        mean = outline.area / len(cells)
        if all(isinstance(c, Polygon) and c.area > 0.4 * mean for c in cells):
            return Partition(cells=[c for c in cells if isinstance(c, Polygon)], inner_cols=v, inner_rows=h[::-1])
    raise ValueError("could not partition the community")


def _seg_dist(a: XY, b: XY, p: XY) -> float:
    (ax, ay), (bx, by), (px, py) = a, b, p
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(ax + t * dx - px, ay + t * dy - py)


def insert_vertex(coords: list[XY], p: XY, tol: float = 1e-6) -> None:
    """Make `p` a vertex of the polyline (it must lie on it): replace a vertex within `tol`, else insert."""
    best = min(range(len(coords) - 1), key=lambda i: _seg_dist(coords[i], coords[i + 1], p))
    for i in (best, best + 1):
        if math.dist(coords[i], p) < tol:
            coords[i] = p
            return
    coords.insert(best + 1, p)


def _side(p: XY, outline: Polygon) -> str:
    minx, miny, maxx, maxy = outline.bounds
    c = outline.centroid
    dx, dy = (p[0] - c.x) / (maxx - minx), (p[1] - c.y) / (maxy - miny)
    if abs(dx) > abs(dy):
        return "E" if dx > 0 else "W"
    return "N" if dy > 0 else "S"


def _edge_roads(inner: Polygon, cuts: list[XY], outline: Polygon) -> list[tuple[str, list[XY]]]:
    """The ring road split where the cross roads meet it, arcs named by the side of the community they run on."""
    ring = list(inner.exterior.coords)[:-1]
    closed = [*ring, ring[0]]
    for p in cuts:
        insert_vertex(closed, p)
    ring = closed[:-1]
    idx = sorted(ring.index(p) for p in cuts)
    ring = ring[idx[0] :] + ring[: idx[0]]
    idx = [i - idx[0] for i in idx] + [len(ring)]
    loop = [*ring, ring[0]]
    arcs = [loop[idx[k] : idx[k + 1] + 1] for k in range(len(cuts))]
    sides = [_side(LineString(a).interpolate(0.5, normalized=True).coords[0], outline) for a in arcs]
    start = next(k for k in range(len(arcs)) if sides[k] != sides[k - 1])
    arcs, sides = arcs[start:] + arcs[:start], sides[start:] + sides[:start]
    merged: list[tuple[str, list[XY]]] = []
    for side, arc in zip(sides, arcs, strict=True):
        if merged and merged[-1][0] == side:
            merged[-1][1].extend(arc[1:])
        else:
            merged.append((side, list(arc)))
    return merged


def _zone_at(zones: Sequence[Area], p: XY) -> Area:
    pt = Point(p)
    return min(zones, key=lambda z: z.polygon.distance(pt))


def _attach(hosts: Sequence[Street], p: XY) -> Street:
    """Join `p` (which lies on one of `hosts`) to the nearest host as a shared vertex."""
    host = min(hosts, key=lambda s: s.line.distance(Point(p)))
    assert host.line.distance(Point(p)) < 0.01, "a street must end on another street"
    insert_vertex(host.coords, p)
    return host


def _main_roads(outline: Polygon, inner: Polygon, grid: Partition) -> list[Street]:
    """The four cross roads along the grid boundaries, and the ring road along the edge (split by side)."""
    mains: list[Street] = []
    for (name, name_en), cut in zip(names.CROSS_ROADS, grid.inner_cols + grid.inner_rows, strict=True):
        piece = LineString(cut).intersection(inner)
        assert isinstance(piece, LineString), "a cross road must run once across the community"
        mains.append(Street("", name, name_en, "main", [(float(x), float(y)) for x, y in piece.coords]))
    for ns in mains[:2]:
        for ew in mains[2:]:
            x = ns.line.intersection(ew.line)
            assert isinstance(x, Point)
            p = (float(x.x), float(x.y))
            insert_vertex(ns.coords, p)
            insert_vertex(ew.coords, p)
    cuts = [p for s in mains for p in (s.coords[0], s.coords[-1])]
    for side, arc in _edge_roads(inner, cuts, outline):
        name, name_en = names.EDGE_ROADS[side]
        mains.append(Street("", name, name_en, "main", arc))
    return mains


class _LaneNamer:
    """Lanes are named after the road they leave ("文清路三巷"), a few in old compounds after old alleys."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.count = rng, dict[str, int]()
        self.old = list(names.OLD_LANES)
        rng.shuffle(self.old)

    def name(self, lane: Street, parent: Street, zone: Area) -> None:
        if zone.era == "old" and self.old and self.rng.random() < 0.3:
            lane.name, lane.name_en = self.old.pop()
            return
        n = self.count[parent.name] = self.count.get(parent.name, 0) + 1
        lane.name, lane.name_en = f"{parent.name}{names.NUMERALS[n - 1]}巷", f"{parent.name_en} Lane {n}"


def _across(area: Polygon, base: XY, direction: XY) -> list[LineString]:
    """The pieces of the straight line through `base` along `direction` that lie in `area`."""
    (bx, by), (ux, uy) = base, direction
    piece = LineString([(bx - ux * BIG, by - uy * BIG), (bx + ux * BIG, by + uy * BIG)]).intersection(area)
    parts = [piece] if isinstance(piece, LineString) else list(getattr(piece, "geoms", []))
    return [p for p in parts if isinstance(p, LineString) and not p.is_empty]


def _cell_streets(
    rng: random.Random, area: Polygon, mains: Sequence[Street], zones: Sequence[Area], namer: _LaneNamer
) -> tuple[list[Street], list[Street]]:
    """Parallel lanes 80-110 m apart across one grid cell (some dead ends), short footpaths between neighbouring
    lanes, and sometimes a footpath right across the lanes."""
    angle = math.radians((90.0 if rng.random() < 0.5 else 0.0) + rng.uniform(-10, 10))
    ux, uy, nx, ny = math.cos(angle), math.sin(angle), -math.sin(angle), math.cos(angle)
    c = area.centroid
    offs = [(x - c.x) * nx + (y - c.y) * ny for x, y in area.exterior.coords]
    lo, hi = min(offs) + 40, max(offs) - 40
    spacing = rng.uniform(80, 110)
    n = max(1, int((hi - lo) // spacing) + 1)
    first = lo + (hi - lo - (n - 1) * spacing) / 2
    lanes: list[Street] = []
    through: list[Street | None] = []
    for k in range(n):
        o = first + k * spacing + rng.uniform(-10, 10)
        for part in _across(area, (c.x + nx * o, c.y + ny * o), (ux, uy)):
            if part.length < 80:
                continue
            ends = [(float(x), float(y)) for x, y in (part.coords[0], part.coords[-1])]
            if rng.random() < 0.5:
                ends.reverse()
            lane = Street("", "", "", "lane", ends)
            dead_end = rng.random() < 0.3
            if dead_end:
                end = lane.line.interpolate(rng.uniform(0.45, 0.75), normalized=True)
                lane.coords[1] = (float(end.x), float(end.y))
            parent = _attach(mains, lane.coords[0])
            if not dead_end:
                _attach(mains, lane.coords[1])
            namer.name(lane, parent, _zone_at(zones, lane.line.interpolate(0.5, normalized=True).coords[0]))
            lanes.append(lane)
            through.append(None if dead_end else lane)
    paths: list[Street] = []

    def path(coords: list[XY]) -> Street:
        mid = LineString(coords).interpolate(0.5, normalized=True)
        zone = _zone_at(zones, (mid.x, mid.y))
        return Street("", f"{zone.name}步道", f"{zone.name_en} Footpath", "path", coords)

    for one, two in itertools.pairwise(through):
        if one is None or two is None or rng.random() > 0.6:
            continue
        pp = one.line.interpolate(rng.uniform(0.3, 0.7), normalized=True)
        qq = two.line.interpolate(two.line.project(pp))
        p, q = (float(pp.x), float(pp.y)), (float(qq.x), float(qq.y))
        if 40 <= math.dist(p, q) <= 160:
            insert_vertex(one.coords, p)
            insert_vertex(two.coords, q)
            paths.append(path([p, q]))
    if rng.random() < 0.7:  # an alley right across the lanes, from road to road
        alongs = [(x - c.x) * ux + (y - c.y) * uy for x, y in area.exterior.coords]
        s = rng.uniform(min(alongs) + 80, max(alongs) - 80)
        for part in _across(area, (c.x + ux * s, c.y + uy * s), (nx, ny))[:1]:
            coords = [(float(x), float(y)) for x, y in (part.coords[0], part.coords[-1])]
            for p in coords:
                _attach(mains, p)
            for lane in lanes:
                x = lane.line.intersection(part)
                if isinstance(x, Point):
                    p = (float(x.x), float(x.y))
                    insert_vertex(lane.coords, p)
                    insert_vertex(coords, p)
            paths.append(path(coords))
    return lanes, paths


def build_streets(rng: random.Random, outline: Polygon, grid: Partition, zones: Sequence[Area]) -> list[Street]:
    """Main roads along the grid boundaries and the edge, lanes and footpaths inside each grid cell. Streets
    meet at shared vertices, so a walking graph can be built from the vertices alone."""
    inner = outline.buffer(-RING_INSET, join_style="mitre")
    assert isinstance(inner, Polygon)
    mains = _main_roads(outline, inner, grid)
    namer = _LaneNamer(rng)
    lanes: list[Street] = []
    paths: list[Street] = []
    for cell in grid.cells:
        area = cell.intersection(inner)
        assert isinstance(area, Polygon)
        more_lanes, more_paths = _cell_streets(rng, area, mains, zones, namer)
        lanes += more_lanes
        paths += more_paths
    streets = mains + lanes + paths
    for i, s in enumerate(streets, start=1):
        s.street_id = f"R{i:03d}"
    return streets


def conform(outline: Polygon, cells: Sequence[Polygon]) -> tuple[Polygon, list[Polygon]]:
    """Give the outline and every cell the same vertices where they share a boundary.

    A cut line meets the outline part-way along an edge; that point becomes a vertex of the cells but not of the
    outline (nor of the other partition's cells). Rounded to 7 decimals it would move up to half a centimetre off
    the straight edge and open slivers. Shared vertices round identically, so the written polygons tile exactly.
    """
    on_edge: list[XY] = []
    for cell in cells:
        for x, y in cell.exterior.coords:
            p = (float(x), float(y))
            if outline.exterior.distance(Point(p)) < 1e-6 and all(math.dist(p, q) > 1e-6 for q in on_edge):
                on_edge.append(p)

    def densify(poly: Polygon) -> Polygon:
        ring = [(float(x), float(y)) for x, y in poly.exterior.coords]
        for p in on_edge:
            if poly.exterior.distance(Point(p)) < 1e-6:
                insert_vertex(ring, p)
        ring[-1] = ring[0]
        return Polygon(ring)

    return densify(outline), [densify(c) for c in cells]


def make_areas(rng: random.Random, outline: Polygon) -> tuple[Polygon, Partition, list[Area], list[Area]]:
    """Nine grids (3 x 3) and sixteen residential zones (4 x 4): two independent partitions of the outline
    (returned with the outline, which gains the vertices where the partitions' lines meet it).

    Zones near the river (west) are the newer tower compounds, the core is old walk-ups, a few are mixed.
    """
    grid = partition(rng, outline, 3, 3, shift=0.04, kinks=3, jitter=25.0)
    zone_cells = partition(rng, outline, 4, 4, shift=0.05, kinks=4, jitter=45.0).cells
    outline, cells = conform(outline, grid.cells + zone_cells)
    grid = Partition(cells[:9], grid.inner_cols, grid.inner_rows)
    zone_cells = cells[9:]
    grids = [Area(f"G{i}", names.GRID_NAMES[i - 1], f"Grid {i}", cell) for i, cell in enumerate(grid.cells, 1)]
    west = sorted(range(16), key=lambda i: zone_cells[i].centroid.x)[:5]
    new = sorted(rng.sample(west, 3))
    mixed = sorted(rng.sample([i for i in range(16) if i not in new], 4))
    pools = {"new": list(names.ZONES_NEW), "mixed": list(names.ZONES_MIXED), "old": list(names.ZONES_OLD)}
    for pool in pools.values():
        rng.shuffle(pool)
    zones = []
    for i, cell in enumerate(zone_cells):
        era = "new" if i in new else "mixed" if i in mixed else "old"
        name, name_en = pools[era].pop()
        zones.append(Area(f"Z{i + 1:02d}", name, name_en, cell, era))
    return outline, grid, grids, zones

"""Walking distances on the street network, in metres.

A responder does not fly: distance along streets is ~1.3x the straight line (median), 1.9x at p90, and a
straight-line ranking mistakes the person across a wall for the nearest one. The graph is built from street
polylines (the demo community's `streets.geojson`, whose streets share their crossing vertices) or from an
OpenStreetMap extract (read with pyosmium); shortest paths run in scipy's compiled Dijkstra.

Points are snapped onto the nearest street segment (not the nearest vertex: vertices can be 100 m apart), so a
walk is: gap to the street + along the street + gap from the street. Only the largest connected piece of the
network is kept, so every snapped point can reach every other.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.crs import MetricProjector

Line = Sequence[tuple[float, float]]
SNAP_NEAR_M = 150.0
SNAP_CACHE_MAX = 500_000
SnapArrays = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]

# OSM ways a person may walk on (https://wiki.openstreetmap.org/wiki/Key:highway); motorways and trunks are not.
WALKABLE_HIGHWAYS = frozenset(
    {
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "pedestrian",
        "footway",
        "path",
        "steps",
        "track",
        "corridor",
        "cycleway",
        "road",
    }
)


@dataclass(frozen=True)
class Snap:
    """A point placed on the network: on segment (u, v), `along` metres from u, `gap` metres off the street."""

    u: int
    v: int
    along: float
    length: float
    gap: float


class WalkingGraph:
    """An undirected street graph in projected metres. Build once per process; queries do not mutate it."""

    def __init__(self, lines: Iterable[Line], *, precision_m: float = 0.01) -> None:
        index: dict[tuple[int, int], int] = {}
        coords: list[tuple[float, float]] = []

        def node(p: tuple[float, float]) -> int:
            # Streets join where they share a vertex; rounding to a centimetre makes "shared" robust to float noise.
            key = (round(p[0] / precision_m), round(p[1] / precision_m))
            found = index.get(key)
            if found is None:
                found = index[key] = len(coords)
                coords.append((float(p[0]), float(p[1])))
            return found

        pairs: set[tuple[int, int]] = set()
        for line in lines:
            ids = [node(p) for p in line]
            for a, b in itertools.pairwise(ids):
                if a != b:
                    pairs.add((min(a, b), max(a, b)))
        if not pairs:
            raise ValueError("a walking graph needs at least one street segment")
        xy = np.asarray(coords, dtype=float)
        edges = np.asarray(sorted(pairs), dtype=np.int64)
        lengths = np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T)
        n = len(coords)
        sym = coo_matrix(
            (np.concatenate([lengths, lengths]), (np.concatenate(edges.T[::-1]), np.concatenate(edges.T))),
            shape=(n, n),
        ).tocsr()
        # Keep the largest connected piece: a snapped point on an island could reach nobody.
        _, labels = connected_components(sym, directed=False)
        main = int(np.bincount(labels).argmax())
        keep = labels[edges[:, 0]] == main
        self._edges = edges[keep]
        self._lengths = lengths[keep]
        self.xy = xy
        self._matrix = sym
        self.node_count = int((labels == main).sum())
        self.edge_count = len(self._edges)
        segments = shapely.linestrings(np.stack([xy[self._edges[:, 0]], xy[self._edges[:, 1]]], axis=1))
        self._segments = segments
        self._tree = shapely.STRtree(segments)
        self._last_snap: tuple[tuple[bytes, bytes], SnapArrays] | None = None
        # Snaps by point: people are matched from a few hundred homes and a slowly changing set of live positions,
        # so after warm-up nearly every point is a dictionary hit instead of a tree search.
        self._snaps: dict[tuple[float, float], tuple[int, int, float, float, float]] = {}

    @classmethod
    def from_geojson(cls, path: Path, projector: MetricProjector) -> WalkingGraph:
        """Street LineStrings (WGS-84 lon/lat) from a GeoJSON file such as data/demo/streets.geojson."""
        data = json.loads(path.read_text(encoding="utf-8"))
        lines: list[Line] = []
        for feature in data["features"]:
            geom = feature["geometry"]
            parts = [geom["coordinates"]] if geom["type"] == "LineString" else geom["coordinates"]
            for part in parts:
                xs, ys = projector.to_metric_many([p[0] for p in part], [p[1] for p in part])
                lines.append(list(zip(xs, ys, strict=True)))
        return cls(lines)

    @classmethod
    def from_osm_pbf(cls, path: Path, projector: MetricProjector | None = None) -> tuple[WalkingGraph, MetricProjector]:
        """Walkable ways of an OpenStreetMap extract; projected to the local UTM zone unless told otherwise."""
        import osmium

        ways: list[list[tuple[float, float]]] = []
        processor = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way):
                continue
            tags = obj.tags
            if tags.get("highway") not in WALKABLE_HIGHWAYS or tags.get("foot") == "no" or tags.get("area") == "yes":
                continue
            if tags.get("access") in ("private", "no") and tags.get("foot") not in ("yes", "designated"):
                continue
            ways.append([(float(n.lon), float(n.lat)) for n in obj.nodes if n.location.valid()])
        if not ways:
            raise ValueError(f"{path} holds no walkable ways")
        if projector is None:
            lon0 = float(np.mean([p[0] for w in ways for p in w]))
            lat0 = float(np.mean([p[1] for w in ways for p in w]))
            projector = MetricProjector(utm_crs_for(lon0, lat0))
        lines: list[Line] = []
        for way in ways:
            xs, ys = projector.to_metric_many([p[0] for p in way], [p[1] for p in way])
            lines.append(list(zip(xs, ys, strict=True)))
        return cls(lines), projector

    def snap(self, x: float, y: float) -> Snap:
        u, v, along, length, gap = self.snap_many(np.array([x]), np.array([y]))
        return Snap(int(u[0]), int(v[0]), float(along[0]), float(length[0]), float(gap[0]))

    def snap_many(self, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> SnapArrays:
        """Arrays (u, v, along, length, gap), one entry per point, in the order given."""
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        key = (xs.tobytes(), ys.tobytes())
        last = self._last_snap  # one read: another thread may replace it meanwhile, never half-way
        if last is not None and last[0] == key:
            return last[1]  # the same people measured from several origins (the AEDs): snap them once
        cache = self._snaps
        keys = list(zip(xs.tolist(), ys.tolist(), strict=True))
        rows = [cache.get(k) for k in keys]
        missing = [i for i, row in enumerate(rows) if row is None]
        if missing:
            if len(cache) + len(missing) > SNAP_CACHE_MAX:
                cache.clear()  # live positions wander: start over rather than grow without bound
            mu, mv, malong, mlength, mgap = self._snap_uncached(xs[missing], ys[missing])
            for j, i in enumerate(missing):
                rows[i] = cache[keys[i]] = (int(mu[j]), int(mv[j]), float(malong[j]), float(mlength[j]), float(mgap[j]))
        table = np.asarray(rows, dtype=float).reshape(len(rows), 5)
        ints = table[:, :2].astype(np.int64)
        out = (ints[:, 0], ints[:, 1], table[:, 2], table[:, 3], table[:, 4])
        self._last_snap = (key, out)
        return out

    def _snap_uncached(self, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> SnapArrays:
        points = shapely.points(xs, ys)
        # Nearly every point is a building beside a street: search near first, then without a limit for the rest.
        # all_matches=False: one segment per point; on an exact tie the lower index wins, so snaps are stable.
        segs = np.full(len(xs), -1, dtype=np.int64)
        gaps = np.full(len(xs), np.inf)
        for limit in (SNAP_NEAR_M, None):
            todo = np.flatnonzero(segs < 0)
            if not len(todo):
                break
            pairs, dist = self._tree.query_nearest(
                points[todo], max_distance=limit, return_distance=True, all_matches=False
            )
            segs[todo[pairs[0]]] = pairs[1]
            gaps[todo[pairs[0]]] = dist
        along = shapely.line_locate_point(self._segments[segs], points)
        ends = self._edges[segs]
        return (ends[:, 0], ends[:, 1], np.asarray(along, dtype=float), self._lengths[segs], gaps)

    def field_from(self, x: float, y: float) -> WalkField:
        """Walking distances from one point to anywhere: one Dijkstra (both ends of the snapped segment)."""
        origin = self.snap(x, y)
        both = dijkstra(self._matrix, directed=False, indices=[origin.u, origin.v])
        from_origin = np.minimum(both[0] + origin.along, both[1] + (origin.length - origin.along))
        return WalkField(self, (x, y), origin, from_origin)


class WalkField:
    """Walking metres from a fixed origin; `to_many` answers hundreds of points in one vectorized call."""

    def __init__(
        self, graph: WalkingGraph, xy: tuple[float, float], origin: Snap, node_metres: NDArray[np.float64]
    ) -> None:
        self.graph = graph
        self.xy = xy
        self.origin = origin
        self._node = node_metres

    @property
    def node_metres(self) -> NDArray[np.float64]:
        return self._node

    def to(self, x: float, y: float) -> float:
        return float(self.to_many(np.array([x]), np.array([y]))[0])

    def to_many(self, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.float64]:
        o = self.origin
        u, v, along, length, gap = self.graph.snap_many(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
        walk = np.minimum(self._node[u] + along, self._node[v] + (length - along))
        # Both on the origin's segment: walk straight along it, no detour round the block.
        same = (u == o.u) & (v == o.v)
        walk = np.where(same, np.minimum(walk, np.abs(along - o.along)), walk)
        total = walk + gap + o.gap
        # Two points nearer each other than either is to a street (one compound, one courtyard): walk across.
        straight = np.hypot(np.asarray(xs) - self.xy[0], np.asarray(ys) - self.xy[1])
        return np.asarray(np.where(straight <= gap + o.gap, np.minimum(total, straight), total), dtype=float)


class WalkFieldStack:
    """Several fields of one graph (the AEDs) answered together: rows are origins, columns points."""

    def __init__(self, fields: Sequence[WalkField]) -> None:
        if not fields:
            raise ValueError("a stack needs at least one field")
        self.graph = fields[0].graph
        self._node = np.vstack([f.node_metres for f in fields])
        self._ou = np.array([f.origin.u for f in fields])[:, None]
        self._ov = np.array([f.origin.v for f in fields])[:, None]
        self._oalong = np.array([f.origin.along for f in fields])[:, None]
        self._ogap = np.array([f.origin.gap for f in fields])[:, None]
        self._ox = np.array([f.xy[0] for f in fields])[:, None]
        self._oy = np.array([f.xy[1] for f in fields])[:, None]

    def to_many(self, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.float64]:
        """The same rules as WalkField.to_many, broadcast over the origins."""
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        u, v, along, length, gap = self.graph.snap_many(xs, ys)
        walk = np.minimum(self._node[:, u] + along, self._node[:, v] + (length - along))
        same = (u == self._ou) & (v == self._ov)
        walk = np.where(same, np.minimum(walk, np.abs(along - self._oalong)), walk)
        total = walk + gap + self._ogap
        straight = np.hypot(xs - self._ox, ys - self._oy)
        return np.asarray(np.where(straight <= gap + self._ogap, np.minimum(total, straight), total), dtype=float)


def utm_crs_for(lon: float, lat: float) -> str:
    zone = min(60, math.floor((lon + 180) / 6) + 1)
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"

"""A walking route along the community's streets: the street lines noded at every crossing, then Dijkstra.

Pure: metres in, metres out (the metric CRS of geo/). Where the streets do not connect the two ends, the route
falls back to the straight line, and says so.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, MultiLineString

Point = tuple[float, float]


@dataclass(frozen=True)
class Route:
    points: tuple[Point, ...]
    length_m: float
    along_streets: bool


def _key(p: Sequence[float]) -> Point:
    # Vertices closer than a metre are one node: the generator's shared vertices differ only in rounding.
    return (round(float(p[0])), round(float(p[1])))


class StreetGraph:
    def __init__(self, lines: Sequence[Sequence[Point]]) -> None:
        self.edges: dict[Point, list[tuple[Point, float]]] = {}
        if not lines:
            return
        noded = shapely.union_all([LineString(line) for line in lines if len(line) >= 2])
        parts = noded.geoms if isinstance(noded, MultiLineString) else [noded]
        for part in parts:
            coords = [_key(c) for c in part.coords]
            for a, b in itertools.pairwise(coords):
                if a != b:
                    d = math.dist(a, b)
                    self.edges.setdefault(a, []).append((b, d))
                    self.edges.setdefault(b, []).append((a, d))
        self._nodes = list(self.edges)

    def nearest_node(self, p: Point) -> Point | None:
        if not self.edges:
            return None
        return min(self._nodes, key=lambda n: (n[0] - p[0]) ** 2 + (n[1] - p[1]) ** 2)

    def shortest(self, start: Point, goal: Point) -> list[Point] | None:
        best: dict[Point, float] = {start: 0.0}
        previous: dict[Point, Point] = {}
        queue: list[tuple[float, Point]] = [(0.0, start)]
        while queue:
            d, node = heapq.heappop(queue)
            if node == goal:
                path = [goal]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return path[::-1]
            if d > best.get(node, math.inf):
                continue
            for nxt, w in self.edges.get(node, []):
                nd = d + w
                if nd < best.get(nxt, math.inf):
                    best[nxt] = nd
                    previous[nxt] = node
                    heapq.heappush(queue, (nd, nxt))
        return None

    def route(self, start: Point, goal: Point) -> Route:
        a, b = self.nearest_node(start), self.nearest_node(goal)
        path = self.shortest(a, b) if a is not None and b is not None else None
        if path is None:
            return Route((start, goal), math.dist(start, goal), along_streets=False)
        points = (start, *path, goal)
        length = sum(math.dist(p, q) for p, q in itertools.pairwise(points))
        return Route(points, length, along_streets=True)

"""Street metres from an incident's door to the people who might walk there: production's own walking graph.

The directory builds `geo.walking.WalkingGraph` from the community's streets; matching ranks by it, and the
simulation walks it too (at each person's drawn speed), so a shortcut the graph does not have is never taken.
"""

from __future__ import annotations

import numpy as np

from geo.walking import WalkField, WalkingGraph


class Ways:
    """One Dijkstra per door, kept: a community has a few hundred buildings and every run revisits them."""

    def __init__(self, graph: WalkingGraph) -> None:
        self.graph = graph
        self._fields: dict[tuple[float, float], WalkField] = {}

    def field(self, x: float, y: float) -> WalkField:
        key = (x, y)
        found = self._fields.get(key)
        if found is None:
            found = self._fields[key] = self.graph.field_from(x, y)
        return found

    def metres(self, door_xy: tuple[float, float], xs: list[float], ys: list[float]) -> list[float]:
        if not xs:
            return []
        field = self.field(*door_xy)
        return [float(m) for m in field.to_many(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))]

    def one(self, door_xy: tuple[float, float], x: float, y: float) -> float:
        return self.metres(door_xy, [x], [y])[0]

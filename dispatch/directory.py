"""The in-memory directory each process keeps: the community map, building facts and the responder index.

Loaded from the database at start. Position and availability changes go through `upsert_vanguard`, which swaps
one entry in the index under its lock, so queries are never blocked for long.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.community.models import Building, Grid, Zone
from dispatch.matching import Candidate, Target
from dispatch.vanguards.models import Vanguard
from geo.areas import CommunityMap
from geo.crs import MetricProjector
from geo.index import IndexedPoint, SkillIndex


@dataclass(frozen=True)
class BuildingInfo:
    id: str
    address: str
    address_en: str
    zone_id: str | None
    zone_name: str | None
    grid_id: str | None
    floors: int
    has_lift: bool
    lon: float
    lat: float
    x: float
    y: float


def split_skills(text: str) -> frozenset[str]:
    return frozenset(s.strip() for s in text.split(";") if s.strip())


class Directory:
    def __init__(
        self,
        community: CommunityMap,
        buildings: dict[str, BuildingInfo],
        vanguards: dict[str, Candidate],
        zone_names: dict[str, str],
    ) -> None:
        self.community = community
        self.projector = community.projector
        self.buildings = buildings
        self.zone_names = zone_names
        self._vanguards = dict(vanguards)
        self.index = SkillIndex(IndexedPoint(c.vanguard_id, c.skills, c.x, c.y) for c in vanguards.values())

    @classmethod
    def load(cls, session: Session, projector: MetricProjector | None = None) -> Directory:
        projector = projector or MetricProjector()
        grids = {g.id: to_shape(g.geom) for g in session.scalars(select(Grid))}
        zones_rows = list(session.scalars(select(Zone)))
        zones = {z.id: to_shape(z.geom) for z in zones_rows}
        zone_names = {z.id: z.name for z in zones_rows}
        points: dict[str, tuple[float, float]] = {}
        rows = list(session.scalars(select(Building)))
        for b in rows:
            p = to_shape(b.geom)
            points[b.id] = (float(p.x), float(p.y))
        community = CommunityMap(grids, zones, points, projector)
        buildings: dict[str, BuildingInfo] = {}
        for b in rows:
            lon, lat = points[b.id]
            x, y = community.building_xy[b.id]
            buildings[b.id] = BuildingInfo(
                b.id,
                b.address,
                b.address_en,
                b.zone_id,
                zone_names.get(b.zone_id or ""),
                b.grid_id,
                b.floors,
                b.has_lift,
                lon,
                lat,
                x,
                y,
            )
        vanguards: dict[str, Candidate] = {}
        for v in session.scalars(select(Vanguard)):
            p = to_shape(v.geom)
            x, y = projector.to_metric(float(p.x), float(p.y))
            vanguards[v.id] = Candidate(
                v.id, v.name, v.phone, split_skills(v.skills), x, y, v.on_call, v.available, v.accept_rate
            )
        return cls(community, buildings, vanguards, zone_names)

    def vanguard(self, vanguard_id: str) -> Candidate | None:
        return self._vanguards.get(vanguard_id)

    def upsert_vanguard(self, candidate: Candidate) -> None:
        self._vanguards[candidate.vanguard_id] = candidate
        self.index.upsert(IndexedPoint(candidate.vanguard_id, candidate.skills, candidate.x, candidate.y))

    def set_available(self, vanguard_id: str, available: bool) -> None:
        current = self._vanguards.get(vanguard_id)
        if current is not None:
            self._vanguards[vanguard_id] = replace(current, available=available)

    def candidates_near(self, target: Target, skills: tuple[str, ...]) -> Iterator[Candidate]:
        for point in self.index.iter_nearest(target.x, target.y, skills):
            candidate = self._vanguards.get(point.key)
            if candidate is not None:
                yield candidate

"""Buildings of the demo community: where they stand along the streets, their size, occupancy and address; AEDs.

Old compounds are dense six-storey walk-ups (5-7 floors, no lift, 1-3 entrances, 2 flats per floor per entrance);
new compounds have towers (18-33 floors, lifts, 1-2 entrances, 2-4 flats per floor per entrance), spaced wider.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from dispatch.community.layout import XY, Area, Street

DENSITY = {"old": 1.35, "mixed": 1.0, "new": 0.5}  # buildings per unit area, relative
SPACING = {"old": 22.0, "mixed": 26.0, "new": 42.0}  # metres between building points, at least
TOWER_PREFERENCE = {"new": 2.0, "mixed": 1.0, "old": 0.0}


@dataclass(frozen=True)
class Site:
    """A place for a building: beside a street, in one zone and one grid."""

    x: float
    y: float
    street_id: str
    along: float  # metres from the start of the street
    side: int  # +1 left of the street's direction, -1 right
    zone_id: str
    grid_id: str


@dataclass
class Building:
    building_id: str
    site: Site
    kind: str  # "lowrise" | "tower"
    floors: int
    entrances: int
    flats_per_floor: int  # per entrance
    households: int = 0
    address: str = ""
    address_en: str = ""

    @property
    def capacity(self) -> int:
        return self.floors * self.entrances * self.flats_per_floor

    @property
    def has_lift(self) -> bool:
        return self.kind == "tower"


@dataclass(frozen=True)
class Aed:
    aed_id: str
    x: float
    y: float
    building_id: str  # "" when outdoors
    description: str


def candidate_sites(
    rng: random.Random, outline: Polygon, streets: Sequence[Street], grids: Sequence[Area], zones: Sequence[Area]
) -> list[Site]:
    """Points 16-23 m to either side of every main road and lane, every 24-32 m, clear of other streets,
    of grid and zone boundaries and of the outline."""
    keep_in = outline.buffer(-8.0)
    off_streets = unary_union([s.line for s in streets]).buffer(11.0)
    edges = unary_union([a.polygon.boundary for a in [*grids, *zones]]).buffer(3.0)
    for geom in (keep_in, off_streets, edges):
        shapely.prepare(geom)
    sites: list[Site] = []
    for street in streets:
        if street.kind == "path":
            continue
        line = street.line
        d = rng.uniform(12, 20)
        while d < line.length - 12:
            p1, p2 = line.interpolate(max(d - 1, 0.0)), line.interpolate(min(d + 1, line.length))
            p = line.interpolate(d)
            ux, uy = p2.x - p1.x, p2.y - p1.y
            norm = math.hypot(ux, uy)
            for side in (1, -1):
                off = rng.uniform(16, 23)
                x, y = p.x - uy / norm * off * side, p.y + ux / norm * off * side
                if (
                    shapely.contains_xy(keep_in, x, y)
                    and not shapely.contains_xy(off_streets, x, y)
                    and not shapely.contains_xy(edges, x, y)
                ):
                    zone = next(z for z in zones if shapely.contains_xy(z.polygon, x, y))
                    grid = next(g for g in grids if shapely.contains_xy(g.polygon, x, y))
                    sites.append(Site(float(x), float(y), street.street_id, float(d), side, zone.area_id, grid.area_id))
            d += rng.uniform(24, 32)
    return sites


def select_sites(rng: random.Random, sites: Sequence[Site], zones: Sequence[Area], count: int) -> list[Site]:
    """`count` sites spread over the zones by area and density, each zone's buildings at least SPACING apart."""
    weight = {z.area_id: z.polygon.area * DENSITY[z.era] for z in zones}
    total = sum(weight.values())
    quota = {k: math.floor(count * w / total) for k, w in weight.items()}
    by_remainder = sorted(weight, key=lambda k: -(count * weight[k] / total - quota[k]))
    for k in by_remainder[: count - sum(quota.values())]:
        quota[k] += 1
    pools = {z.area_id: [s for s in sites if s.zone_id == z.area_id] for z in zones}
    for pool in pools.values():
        rng.shuffle(pool)
    era = {z.area_id: z.era for z in zones}
    chosen: list[Site] = []
    cells: dict[tuple[int, int], list[Site]] = {}

    def fits(s: Site, gap: float) -> bool:
        cx, cy = int(s.x // 50), int(s.y // 50)
        near = (t for i in (-1, 0, 1) for j in (-1, 0, 1) for t in cells.get((cx + i, cy + j), []))
        return all(math.hypot(s.x - t.x, s.y - t.y) >= gap for t in near)

    def take(zone_id: str, k: int) -> int:
        added, pool = 0, pools[zone_id]
        while added < k and pool:
            s = pool.pop()
            if fits(s, SPACING[era[zone_id]]):
                chosen.append(s)
                cells.setdefault((int(s.x // 50), int(s.y // 50)), []).append(s)
                added += 1
        return added

    missing = sum(quota[z.area_id] - take(z.area_id, quota[z.area_id]) for z in zones)
    while missing > 0:  # zones without room hand their quota on to zones with room left
        progress = 0
        for z in sorted(zones, key=lambda z: -weight[z.area_id]):
            if missing > 0 and take(z.area_id, 1):
                missing -= 1
                progress += 1
        if not progress:
            raise ValueError(f"room for only {count - missing} buildings")
    return chosen


def shape_buildings(
    rng: random.Random, sites: Sequence[Site], zones: Sequence[Area], households: int
) -> list[Building]:
    """Give each site a kind, size and occupancy so that the households add up to exactly `households`.

    All sites start as walk-ups; the sites most suited to towers (new compounds first) become towers until the
    flats cover the households with a few per cent vacant; the last buildings' vacancies absorb the remainder.
    """
    era = {z.area_id: z.era for z in zones}
    order = sorted(sites, key=lambda s: (s.zone_id, s.street_id, s.along, s.side))
    blds = [
        Building(
            f"B{i:04d}", s, "lowrise", rng.choices((5, 6, 7), (3, 5, 2))[0], rng.choices((1, 2, 3), (5, 4, 1))[0], 2
        )
        for i, s in enumerate(order, start=1)
    ]
    target = round(households / rng.uniform(0.94, 0.96))
    rank = sorted(blds, key=lambda b: -(TOWER_PREFERENCE[era[b.site.zone_id]] + rng.random()))
    capacity = sum(b.capacity for b in blds)
    towers: list[Building] = []
    for b in rank:
        if capacity >= target:
            break
        capacity -= b.capacity
        b.kind, b.floors = "tower", rng.randint(18, 33)
        b.entrances, b.flats_per_floor = rng.choices((1, 2), (6, 4))[0], rng.choices((2, 3, 4), (3, 4, 3))[0]
        capacity += b.capacity
        towers.append(b)
    rng.shuffle(towers)
    while capacity > target + 20 and any(t.floors > 18 for t in towers):
        for t in towers:  # trim the overshoot a storey at a time
            if capacity > target + 20 and t.floors > 18:
                t.floors -= 1
                capacity -= t.entrances * t.flats_per_floor
    if capacity < households:
        raise ValueError("not enough flats for the households")
    vacant = [min(round(b.capacity * rng.uniform(0.0, 0.1)), b.capacity - 1) for b in blds]
    excess = sum(vacant) - (capacity - households)
    for i in reversed(range(len(blds))):  # the last buildings absorb the difference
        room = vacant[i] if excess > 0 else blds[i].capacity // 4 - vacant[i]
        step = min(abs(excess), max(room, 0))
        vacant[i] += -step if excess > 0 else step
        excess += -step if excess > 0 else step
        if excess == 0:
            break
    if excess:
        raise ValueError("could not match the household total")
    for b, v in zip(blds, vacant, strict=True):
        b.households = b.capacity - v
    return blds


def address_buildings(blds: Sequence[Building], streets: Sequence[Street], office: str, office_en: str) -> None:
    """Chinese doorplates: odd numbers on the left, even on the right, growing along the street. Neighbouring
    buildings of one compound (same side, same zone, under 80 m apart) share a number (号) and are told apart by
    a building number (栋)."""
    last: dict[tuple[str, int], int] = {}
    for street in streets:
        for side in (1, -1):
            row = sorted(
                (b for b in blds if b.site.street_id == street.street_id and b.site.side == side),
                key=lambda b: b.site.along,
            )
            number, nth, prev = 0, 0, None
            for b in row:
                s = b.site
                if prev is None or prev.zone_id != s.zone_id or s.along - prev.along > 80:
                    base = 2 * int(s.along // 20) + (1 if side > 0 else 2)
                    number = max(base, last.get((street.name, side), -1) + 2)
                    last[(street.name, side)] = number
                    nth = 0
                nth += 1
                prev = s
                b.address = f"江西省赣州市章贡区{office}{street.name}{number}号{nth}栋"
                b.address_en = (
                    f"Bldg {nth}, No. {number} {street.name_en}, {office_en}, Zhanggong District, Ganzhou, Jiangxi"
                )


def place_aeds(
    outline: Polygon, blds: Sequence[Building], grids: Sequence[Area], streets: Sequence[Street]
) -> list[Aed]:
    """AEDs at the community centre, a health station, one service point per grid, crossings and the riverside."""
    out: list[Aed] = []
    used: set[str] = set()

    def nearest(p: XY, pool: Sequence[Building]) -> Building:
        return min(
            (b for b in pool if b.building_id not in used),
            key=lambda b: (math.hypot(b.site.x - p[0], b.site.y - p[1]), b.building_id),
        )

    def indoor(b: Building, text: str) -> None:
        used.add(b.building_id)
        out.append(Aed("", b.site.x, b.site.y, b.building_id, text))

    c = outline.centroid
    indoor(nearest((c.x, c.y), blds), "社区党群服务中心一楼大厅 / Community Party and service centre, ground floor")
    mains = [s for s in streets if s.kind == "main"]
    cross = [mains[0].line.intersection(mains[2].line), mains[1].line.intersection(mains[3].line)]
    for p in cross[1:]:
        assert isinstance(p, Point)
        indoor(
            nearest((p.x, p.y), [b for b in blds if b.kind == "lowrise"]), "社区卫生服务站 / Community health station"
        )
    for g in grids:
        here = [b for b in blds if b.site.grid_id == g.area_id]
        towers = sorted(
            (b for b in here if b.kind == "tower" and b.building_id not in used),
            key=lambda b: (-b.households, b.building_id),
        )
        if towers:
            indoor(towers[0], f"{g.name}高层住宅一楼大堂物业前台 / {g.name_en}, tower lobby, property desk")
        else:
            gc = g.polygon.representative_point()
            indoor(nearest((gc.x, gc.y), here), f"{g.name}党群服务站 / {g.name_en} service point")
    for a in mains[:2]:
        for b in mains[2:4]:
            p = a.line.intersection(b.line)
            assert isinstance(p, Point)
            out.append(
                Aed(
                    "",
                    p.x + 9.0,
                    p.y + 9.0,
                    "",
                    f"{a.name}与{b.name}交叉口公交站 / Bus stop, {a.name_en} x {b.name_en}",
                )
            )
    river = next(s for s in mains if s.name == "章江路")
    mid = river.line.interpolate(0.5, normalized=True)
    shore = outline.exterior.interpolate(outline.exterior.project(mid))
    out.append(
        Aed(
            "",
            (mid.x + shore.x) / 2,
            (mid.y + shore.y) / 2,
            "",
            "章江路滨江公园入口 / Riverside park entrance, Zhangjiang Rd",
        )
    )
    south = next(s for s in mains if s.name == "东阳山路")
    at = LineString(south.coords).interpolate(0.5, normalized=True)
    out.append(
        Aed(
            "",
            at.x + (c.x - at.x) * 0.03,
            at.y + (c.y - at.y) * 0.03,
            "",
            "东阳山路农贸市场入口 / Farmers' market entrance, Dongyangshan Rd",
        )
    )
    return [Aed(f"AED{i:02d}", a.x, a.y, a.building_id, a.description) for i, a in enumerate(out, start=1)]

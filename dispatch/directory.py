"""The in-memory directory each process keeps: the community map, building facts, AEDs, the walking network,
the typed-address gazetteer and the responder index.

Loaded from the database (and the community's street file) at start. Position and availability changes go
through `set_position` / `set_available`, which swap one entry in the index under its lock, so queries are never
blocked for long. A live position is trusted only while fresh; `expire_positions` puts stale ones back home.

The index holds only the people who can be paged at the minute of the last search: available and on call. A
search at a later minute first catches up, looking only at those whose on-call window opened or closed in
between (`OnCallRoster`). Searches then never walk past the off-call majority.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from geoalchemy2.shape import to_shape
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import LOCAL_TZ
from dispatch.community.models import Aed as AedRow
from dispatch.community.models import Building, Grid, Zone
from dispatch.db.wakeups import DIRECTORY, notify_in
from dispatch.escalation.budget import SpentBudgets
from dispatch.matching import Aed, Candidate, Target
from dispatch.vanguards.acceptance import AnswerHistory, HistoryCache, acceptance_probability
from dispatch.vanguards.models import Vanguard
from dispatch.vanguards.roster import OnCallRoster
from dispatch.vanguards.schedule import minute_of_week, on_call_at
from geo.areas import CommunityMap
from geo.crs import MetricProjector
from geo.gazetteer import Gazetteer, GazetteerEntry
from geo.index import IndexedPoint, SkillIndex
from geo.walking import WalkField, WalkFieldStack, WalkingGraph


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
    entrances: int = 1


def split_skills(text: str) -> frozenset[str]:
    return frozenset(s.strip() for s in text.split(";") if s.strip())


def _from_row(v: Vanguard, projector: MetricProjector) -> tuple[Candidate, tuple[float, float], datetime | None]:
    """A vanguard's record for matching, their home (metres), and since when their live position is known."""
    p = to_shape(v.geom)
    home = projector.to_metric(float(p.x), float(p.y))
    (x, y), position, seen = home, "home", None
    if v.live_lon is not None and v.live_lat is not None and v.live_at is not None:
        (x, y), position, seen = projector.to_metric(v.live_lon, v.live_lat), "live", v.live_at
    skills = split_skills(v.skills)
    record = Candidate(v.id, v.name, v.phone, skills, x, y, v.on_call, v.available, v.accept_rate, position)
    return record, home, seen


class Directory:
    def __init__(
        self,
        community: CommunityMap,
        buildings: dict[str, BuildingInfo],
        vanguards: dict[str, Candidate],
        zone_names: dict[str, str],
        *,
        homes: dict[str, tuple[float, float]] | None = None,
        live_since: dict[str, datetime] | None = None,
        aeds: list[Aed] | None = None,
        walking: WalkingGraph | None = None,
    ) -> None:
        self.community = community
        self.projector = community.projector
        self.buildings = buildings
        self.zone_names = zone_names
        self.aeds = aeds or []
        self.walking = walking
        self.gazetteer = Gazetteer(
            GazetteerEntry(b.id, b.address, b.zone_name or "", b.entrances, b.floors) for b in buildings.values()
        )
        self._vanguards = dict(vanguards)
        self.origin = uuid.uuid4().hex[:12]  # names this directory in what it tells other processes
        self._homes = homes or {k: (c.x, c.y) for k, c in vanguards.items()}
        self._live_since = dict(live_since or {})
        self._lock = threading.Lock()
        self._aed_fields: dict[str, WalkField] = {}
        self._aed_stacks: dict[tuple[str, ...], WalkFieldStack] = {}
        self.answers = HistoryCache()
        # The highest roster acceptance: only raised (a lowered rate leaves it high, still a true bound).
        self._prior_max = max((c.accept_rate for c in vanguards.values()), default=0.0)
        self._ceiling: tuple[dict[str, AnswerHistory], int, float] | None = None
        self.spent_budgets = SpentBudgets()
        self._roster = OnCallRoster((k, c.on_call) for k, c in vanguards.items())
        # Everyone available until the first search says which minute it is; that search then drops the off-call.
        self.index = SkillIndex(
            IndexedPoint(c.vanguard_id, c.skills, c.x, c.y) for c in vanguards.values() if c.available
        )

    @classmethod
    def load(
        cls, session: Session, projector: MetricProjector | None = None, *, streets: Path | None = None
    ) -> Directory:
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
            zone_name = zone_names.get(b.zone_id or "")
            buildings[b.id] = BuildingInfo(
                b.id, b.address, b.address_en, b.zone_id, zone_name, b.grid_id, b.floors, b.has_lift, lon, lat, x, y,
                b.entrances,
            )  # fmt: skip
        vanguards: dict[str, Candidate] = {}
        homes: dict[str, tuple[float, float]] = {}
        live_since: dict[str, datetime] = {}
        for v in session.scalars(select(Vanguard)):
            vanguards[v.id], homes[v.id], seen = _from_row(v, projector)
            if seen is not None:
                live_since[v.id] = seen
        aeds = []
        for a in session.scalars(select(AedRow).order_by(AedRow.id)):
            p = to_shape(a.geom)
            ax, ay = projector.to_metric(float(p.x), float(p.y))
            aeds.append(Aed(a.id, a.description.split(" / ")[0], ax, ay))
        walking = WalkingGraph.from_geojson(streets, projector) if streets is not None and streets.exists() else None
        return cls(
            community, buildings, vanguards, zone_names, homes=homes, live_since=live_since, aeds=aeds, walking=walking
        )

    def vanguard(self, vanguard_id: str) -> Candidate | None:
        return self._vanguards.get(vanguard_id)

    def changed_in(self, session: Session, vanguard_id: str) -> None:
        """Tell the other app processes (PostgreSQL) that this vanguard changed, when `session` commits."""
        notify_in(session, DIRECTORY, f"{self.origin}:{vanguard_id}")

    def reload(self, session: Session, vanguard_ids: Collection[str] | None = None) -> int:
        """Re-read vanguards (these, or everyone) from the database, as another process changed them."""
        query = select(Vanguard)
        if vanguard_ids is not None:
            query = query.where(Vanguard.id.in_(sorted(vanguard_ids)))
        count = 0
        for v in session.scalars(query):
            record, home, seen = _from_row(v, self.projector)
            with self._lock:
                self._homes[v.id] = home
                if seen is None:
                    self._live_since.pop(v.id, None)
                else:
                    self._live_since[v.id] = seen
            self.upsert_vanguard(record)
            count += 1
        return count

    def upsert_vanguard(self, candidate: Candidate) -> None:
        with self._lock:
            self._vanguards[candidate.vanguard_id] = candidate
            self._prior_max = max(self._prior_max, candidate.accept_rate)
            self._ceiling = None
            self._homes.setdefault(candidate.vanguard_id, (candidate.x, candidate.y))
            self._roster.assign(candidate.vanguard_id, candidate.on_call)
            self._place(candidate)

    def _pageable(self, c: Candidate) -> bool:
        minute = self._roster.minute
        return c.available and (minute is None or on_call_at(c.on_call, minute))

    def _place(self, c: Candidate) -> None:
        """In the index if they can be paged now, out of it otherwise. Under the directory's lock."""
        if self._pageable(c):
            self.index.upsert(IndexedPoint(c.vanguard_id, c.skills, c.x, c.y))
        else:
            self.index.remove(c.vanguard_id)

    def _catch_up(self, minute: int) -> None:
        if self._roster.minute == minute:
            return
        with self._lock:
            changed = self._roster.move_to(minute)
            for vanguard_id in self._vanguards if changed is None else changed:
                current = self._vanguards.get(vanguard_id)
                if current is not None:
                    self._place(current)

    def acceptance_ceiling(self, history: dict[str, AnswerHistory], now: datetime) -> float:
        """No vanguard accepts an alert at `now` more likely than this, given `history` (the answers snapshot the
        search ranks by). Worked out once per snapshot and local hour: the search uses it to stop scanning early."""
        hour = now.astimezone(LOCAL_TZ).hour
        kept = self._ceiling
        if kept is not None and kept[0] is history and kept[1] == hour:
            return kept[2]
        ceiling = acceptance_probability(self._prior_max, None, now)
        for vanguard_id, answers in history.items():
            candidate = self._vanguards.get(vanguard_id)
            if candidate is not None:
                ceiling = max(ceiling, acceptance_probability(candidate.accept_rate, answers, now))
        self._ceiling = (history, hour, ceiling)
        return ceiling

    def set_available(self, vanguard_id: str, available: bool) -> None:
        with self._lock:
            current = self._vanguards.get(vanguard_id)
            if current is not None:
                self._vanguards[vanguard_id] = updated = replace(current, available=available)
                self._place(updated)

    def set_position(self, vanguard_id: str, x: float | None, y: float | None, at: datetime | None) -> None:
        """A live position (metres) seen at `at`; None puts the person back at their home building."""
        with self._lock:
            current = self._vanguards.get(vanguard_id)
            if current is None:
                return
            if x is None or y is None or at is None:
                self._live_since.pop(vanguard_id, None)
                x, y = self._homes[vanguard_id]
                moved = replace(current, x=x, y=y, position="home")
            else:
                self._live_since[vanguard_id] = at
                moved = replace(current, x=x, y=y, position="live")
            self._vanguards[vanguard_id] = moved
            self._place(moved)

    def expire_positions(self, now: datetime, max_age_s: float) -> list[str]:
        """Live positions older than `max_age_s` no longer say where someone is: back to the home building."""
        cutoff = now - timedelta(seconds=max_age_s)
        stale = [k for k, at in list(self._live_since.items()) if at < cutoff]
        for vanguard_id in stale:
            self.set_position(vanguard_id, None, None, None)
        return stale

    def candidates_near(self, target: Target, skills: tuple[str, ...], now: datetime) -> Iterator[Candidate]:
        """People holding any of `skills` who are available and on call at `now`, nearest first in a straight
        line. (The matching still checks everyone it is given: this only spares it the rest.)"""
        self._catch_up(minute_of_week(now))
        for point in self.index.iter_nearest(target.x, target.y, skills):
            candidate = self._vanguards.get(point.key)
            if candidate is not None:
                yield candidate

    def walk_field(self, target: Target) -> WalkField | None:
        return self.walking.field_from(target.x, target.y) if self.walking is not None else None

    def from_aeds(self, aeds: Sequence[Aed], xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.float64]:
        """Walking metres from each AED (rows) to each point (columns); each AED's field is computed once."""
        if self.walking is None:
            raise LookupError("no street network loaded")
        key = tuple(a.id for a in aeds)
        stack = self._aed_stacks.get(key)
        if stack is None:
            fields = []
            for aed in aeds:
                field = self._aed_fields.get(aed.id)
                if field is None:
                    field = self._aed_fields[aed.id] = self.walking.field_from(aed.x, aed.y)
                fields.append(field)
            stack = self._aed_stacks[key] = WalkFieldStack(fields)
        return stack.to_many(xs, ys)

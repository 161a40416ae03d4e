"""The calls a run replays: when each press comes, what kind it is, and from which household. Pure apart from files.

Two sources give the same `Call` list, fixed before any policy runs so that every policy sees the same presses from
the same doors: the committed San Francisco stream (its hour-of-week profile scaled to the community, each press
borrowing a real call; `arrivals.py`), or any CSV file replayed row by row (`--calls FILE`, columns below).

CSV columns (a header row; names are case-insensitive; extra columns are ignored):

- `received_at` (or SF's `Received DtTm`): ISO 8601 (`2026-01-05T08:30:00`, local time unless it carries an offset)
  or SF's `01/02/2017 10:00:00 AM`. Required. Rows need not be sorted.
- `kind` (or SF's `Call Type`): one of the policy's kinds (medical, fall, fire, utility, security, distress), or an SF
  call type (mapped as in `arrivals.KIND_OF_CALL_TYPE`). Anything else becomes `DEFAULT_KIND` (security).
- where: `household_id` (a demo household), else `building_id` (a household of that building, drawn by residents),
  else `lon` + `lat` (WGS-84; the nearest building), else nothing (a household drawn by residents, as the default
  stream does). `floor` overrides the household's floor.
- optional `first_unit_on_scene_s`, `ambulance_on_scene_s`: the real emergency service's times to compare with.
- optional `incident number` (SF's column): rows sharing one are one press (SF files hold a row per unit), the
  earliest.

Replayed times keep their hour of the week (vanguards' on-call windows follow it): the stream is shifted by whole
weeks so that its first call falls in the simulation's first week.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.sim.arrivals import DEFAULT_KIND, KIND_OF_CALL_TYPE, Arrival
from dispatch.clock import LOCAL_TZ

KNOWN_KINDS = frozenset({"medical", "fall", "fire", "utility", "security", "distress"})
_SF_TIME = "%m/%d/%Y %I:%M:%S %p"
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Household:
    id: str
    token: str
    residents: int
    building_id: str
    floor: int


@dataclass(frozen=True)
class Call:
    """One press: its position in the run (the common random numbers are keyed by it), time, kind and door."""

    index: int
    at: datetime  # timezone-aware, the community's local time
    kind: str
    household: Household
    floor: int
    ems_s: float | None = None  # the real emergency service's first unit on scene, when known
    ambulance_s: float | None = None


def kind_of(text: str) -> str:
    """Our kind for a CSV's kind column: a kind we know, an SF call type, or the documented default."""
    name = text.strip()
    if name.lower() in KNOWN_KINDS:
        return name.lower()
    return KIND_OF_CALL_TYPE.get(name, DEFAULT_KIND)


def parse_time(text: str) -> datetime:
    text = text.strip()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = datetime.strptime(text, _SF_TIME)
    return at if at.tzinfo is not None else at.replace(tzinfo=LOCAL_TZ)


def read_households(data_dir: Path) -> list[Household]:
    with (data_dir / "households.csv").open(newline="", encoding="utf-8") as f:
        return [
            Household(r["household_id"], r["device_token"], int(r["residents"]), r["building_id"], int(r["floor"]))
            for r in csv.DictReader(f)
        ]


def read_building_points(data_dir: Path) -> dict[str, tuple[float, float]]:
    data = json.loads((data_dir / "buildings.geojson").read_text(encoding="utf-8"))
    return {f["properties"]["building_id"]: tuple(f["geometry"]["coordinates"][:2]) for f in data["features"]}


class Doors:
    """Picks the household a press comes from: by residents (more people, more presses), within a building if asked."""

    def __init__(self, households: Sequence[Household], buildings: Mapping[str, tuple[float, float]]) -> None:
        self.households = list(households)
        self.by_id = {h.id: h for h in households}
        self.by_building: dict[str, list[Household]] = {}
        for h in households:
            self.by_building.setdefault(h.building_id, []).append(h)
        self.points = {b: p for b, p in buildings.items() if b in self.by_building}

    def draw(self, rng: random.Random, among: Sequence[Household] | None = None) -> Household:
        pool = among or self.households
        weights = list(itertools.accumulate(h.residents for h in pool))
        return rng.choices(pool, cum_weights=weights, k=1)[0]

    def nearest_building(self, lon: float, lat: float) -> str:
        # An equirectangular metric is exact enough inside one community (a few km).
        scale = math.cos(math.radians(lat))
        return min(self.points, key=lambda b: ((self.points[b][0] - lon) * scale) ** 2 + (self.points[b][1] - lat) ** 2)

    def for_row(self, row: Mapping[str, str], rng: random.Random) -> Household:
        household = self.by_id.get(row.get("household_id", "").strip())
        if household is not None:
            return household
        building = row.get("building_id", "").strip()
        if building not in self.by_building and row.get("lon", "").strip() and row.get("lat", "").strip():
            building = self.nearest_building(float(row["lon"]), float(row["lat"]))
        return self.draw(rng, self.by_building.get(building))


def calls_from_arrivals(arrivals: Iterable[Arrival], doors: Doors, rng: random.Random) -> list[Call]:
    """The default stream: each SF-profile arrival from a household drawn by residents."""
    out = []
    for i, a in enumerate(arrivals):
        household = doors.draw(rng)
        out.append(
            Call(
                i,
                a.at,
                a.source.kind,
                household,
                household.floor,
                a.source.first_on_scene_s,
                a.source.ambulance_on_scene_s,
            )
        )
    return out


def _lower(row: Mapping[str, str | None]) -> dict[str, str]:
    return {(k or "").strip().lower(): (v or "") for k, v in row.items()}


def _optional_float(text: str) -> float | None:
    return float(text) if text.strip() else None


def parse_calls(
    rows: Iterable[Mapping[str, str | None]], doors: Doors, rng: random.Random, start: datetime
) -> list[Call]:
    """A CSV call stream (columns in the module docstring), sorted by time and shifted by whole weeks to `start`."""
    parsed: list[tuple[datetime, dict[str, str]]] = []
    for raw in rows:
        row = _lower(raw)
        received = row.get("received_at") or row.get("received dttm") or ""
        if not received.strip():
            raise ValueError(f"a call without a received time: {dict(raw)}")
        parsed.append((parse_time(received), row))
    if not parsed:
        raise ValueError("the call stream is empty")
    parsed.sort(key=lambda p: p[0])
    parsed = _one_per_incident(parsed)
    weeks = math.ceil((start - parsed[0][0]) / WEEK)
    shift = weeks * WEEK
    out = []
    for i, (at, row) in enumerate(parsed):
        household = doors.for_row(row, rng)
        floor = int(row["floor"]) if row.get("floor", "").strip() else household.floor
        kind = kind_of(row.get("kind") or row.get("call type") or "")
        ems = _optional_float(row.get("first_unit_on_scene_s", ""))
        ambulance = _optional_float(row.get("ambulance_on_scene_s", ""))
        out.append(Call(i, (at + shift).astimezone(LOCAL_TZ), kind, household, floor, ems, ambulance))
    return out


def _one_per_incident(rows: list[tuple[datetime, dict[str, str]]]) -> list[tuple[datetime, dict[str, str]]]:
    """SF-style files hold one row per responding unit: with an `incident number` column, one press per incident."""
    seen: set[str] = set()
    out = []
    for at, row in rows:
        number = row.get("incident number", "").strip()
        if number and number in seen:
            continue
        if number:
            seen.add(number)
        out.append((at, row))
    return out


def load_calls(path: Path, doors: Doors, rng: random.Random, start: datetime) -> list[Call]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return parse_calls(csv.DictReader(f), doors, rng, start)

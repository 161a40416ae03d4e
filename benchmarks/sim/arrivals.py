"""Incident arrivals from a real call stream: San Francisco Fire Department calls, scaled to the community.

The SF file holds one row per responding unit; one incident is one `Incident Number`. Its timing gives the
hour-of-week profile of arrivals, its call type our incident kind, and its first unit on scene the real emergency
service's response time each simulated incident is compared with. Pure apart from reading the file.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from dispatch.settings import REPO_ROOT

SF_CALLS = REPO_ROOT.parent / "shared" / "data" / "incidents" / "sffd_calls_2016-12-31_2017-01-07.csv"
SF_POPULATION = 870_000  # San Francisco, 2016 (US Census estimate ~870k)
COMMUNITY_POPULATION = 60_000  # the community's own account (../shared/seed.txt)
HOURS_PER_WEEK = 7 * 24
_SF_TIME = "%m/%d/%Y %I:%M:%S %p"

# SF call type -> our incident kind. The SF stream has no mental-health calls, so "distress" never arrives;
# automatic "Alarms" are kept as fire: in a residential block a smoke alarm is what makes someone press.
KIND_OF_CALL_TYPE: Mapping[str, str] = {
    "Medical Incident": "medical",
    "Traffic Collision": "fall",
    "Structure Fire": "fire",
    "Outside Fire": "fire",
    "Vehicle Fire": "fire",
    "Alarms": "fire",
    "Smoke Investigation (Outside)": "fire",
    "Electrical Hazard": "utility",
    "Gas Leak (Natural and LP Gases)": "utility",
    "Odor (Strange / Unknown)": "utility",
    "Fuel Spill": "utility",
    "HazMat": "utility",
}
DEFAULT_KIND = "security"  # citizen assist, lift rescue, water rescue, collapse, other


@dataclass(frozen=True)
class SfIncident:
    """One real SF incident: when it was received, what it was, and when the first unit (and ambulance) arrived."""

    number: str
    received: datetime  # San Francisco local time, naive
    call_type: str
    first_on_scene_s: float | None
    ambulance_on_scene_s: float | None

    @property
    def kind(self) -> str:
        return KIND_OF_CALL_TYPE.get(self.call_type, DEFAULT_KIND)

    @property
    def hour_of_week(self) -> int:
        return self.received.weekday() * 24 + self.received.hour


def _parse(text: str) -> datetime | None:
    return datetime.strptime(text, _SF_TIME) if text else None


def parse_sf_rows(rows: Iterable[Mapping[str, str]]) -> list[SfIncident]:
    """Collapse unit rows into incidents (first unit on scene; first MEDIC/PRIVATE unit = the ambulance)."""
    received: dict[str, datetime] = {}
    call_type: dict[str, str] = {}
    first: dict[str, datetime] = {}
    ambulance: dict[str, datetime] = {}
    for row in rows:
        number = row["Incident Number"]
        at = _parse(row["Received DtTm"])
        if at is None:
            continue
        received[number] = min(at, received.get(number, at))
        call_type.setdefault(number, row["Call Type"])
        on_scene = _parse(row["On Scene DtTm"])
        if on_scene is None:
            continue
        first[number] = min(on_scene, first.get(number, on_scene))
        if row["Unit Type"] in ("MEDIC", "PRIVATE"):
            ambulance[number] = min(on_scene, ambulance.get(number, on_scene))

    def since(table: dict[str, datetime], number: str) -> float | None:
        at = table.get(number)
        return None if at is None else (at - received[number]).total_seconds()

    return sorted(
        (SfIncident(n, received[n], call_type[n], since(first, n), since(ambulance, n)) for n in received),
        key=lambda i: (i.received, i.number),
    )


def load_sf_incidents(path: Path = SF_CALLS) -> list[SfIncident]:
    with path.open(newline="", encoding="utf-8") as f:
        return parse_sf_rows(csv.DictReader(f))


def hourly_rates(incidents: list[SfIncident], scale: float) -> list[float]:
    """Expected incidents per hour for each hour of the week (Monday 00:00 = 0), scaled.

    Each hour of the week is divided by how many times it occurs in the data's window, so an 8-day file does not
    count one weekday twice.
    """
    if not incidents:
        raise ValueError("no incidents to build an arrival profile from")
    start = min(i.received for i in incidents).replace(minute=0, second=0, microsecond=0)
    end = max(i.received for i in incidents)
    seen = [0] * HOURS_PER_WEEK
    hour = start
    while hour <= end:
        seen[hour.weekday() * 24 + hour.hour] += 1
        hour += timedelta(hours=1)
    counts = [0] * HOURS_PER_WEEK
    for incident in incidents:
        counts[incident.hour_of_week] += 1
    return [scale * counts[h] / seen[h] if seen[h] else 0.0 for h in range(HOURS_PER_WEEK)]


def population_scale(community: int = COMMUNITY_POPULATION, source: int = SF_POPULATION) -> float:
    return community / source


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: exact, and fast for the small hourly means we draw (about 1-3)."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass(frozen=True)
class Arrival:
    at: datetime  # timezone-aware, the community's local time
    source: SfIncident  # the real call it borrows its kind and emergency-service times from


def arrivals(
    incidents: list[SfIncident], start: datetime, days: float, rng: random.Random, scale: float
) -> Iterator[Arrival]:
    """A non-homogeneous Poisson stream: each hour's count drawn from that hour of the week's scaled rate, each
    arrival a uniform instant in the hour borrowing a real call from the same hour of the week (any hour if none)."""
    rates = hourly_rates(incidents, scale)
    by_hour: dict[int, list[SfIncident]] = {}
    for incident in incidents:
        by_hour.setdefault(incident.hour_of_week, []).append(incident)
    hours = math.ceil(days * 24)
    for h in range(hours):
        hour_start = start + timedelta(hours=h)
        how = hour_start.weekday() * 24 + hour_start.hour
        n = poisson(rng, rates[how])
        offsets = sorted(rng.random() * 3600 for _ in range(n))
        donors = by_hour.get(how) or incidents
        for offset in offsets:
            at = hour_start + timedelta(seconds=offset)
            if (at - start).total_seconds() < days * 86400:
                yield Arrival(at, rng.choice(donors))

"""Intake: turn a button press into a durable, located incident whose first escalation step is already due."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from dbschema.base import SRID
from dispatch.community.models import Household
from dispatch.context import DispatchContext
from dispatch.escalation.models import EscalationTimer
from dispatch.escalation.policy import PolicyError
from dispatch.incidents.models import Incident
from dispatch.incidents.states import ACTIVE, Status
from dispatch.incidents.transitions import record
from geo.crs import CoordinateError, Crs, to_wgs84
from geo.gazetteer import AddressMatch

# Presses from the same household this close together are one emergency, never two searches.
MERGE_WINDOW = timedelta(minutes=5)
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B: read aloud and typed on a keypad


class IntakeError(ValueError):
    def __init__(self, status_code: int, reason: str | dict[str, Any]) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


class AddressNotResolved(IntakeError):
    """A typed address that matches no building, or several equally well: the candidates go back, never a guess."""

    def __init__(self, typed: str, match: AddressMatch) -> None:
        what = "matches several buildings" if match.candidates else "matches no building of the community"
        super().__init__(
            422,
            {
                "field": "address",
                "message": f"the address {typed!r} {what}; pick one of the candidates or send a location",
                "confidence": match.confidence,
                "candidates": [
                    {"building": c.building_id, "address": c.address, "score": c.score} for c in match.candidates
                ],
            },
        )
        self.match = match


@dataclass(frozen=True)
class GpsFix:
    lat: float
    lon: float
    crs: Crs


@dataclass(frozen=True)
class IntakeResult:
    incident: Incident
    created: bool
    # Why the location sent with the press could not be used (the incident is then placed at the registered home).
    location_problem: str | None = None


def _converted(gps: GpsFix | None, problem: str | None) -> tuple[tuple[float, float] | None, str | None]:
    """A fix as WGS-84 (lat, lon), or None and why it is unusable: a bad fix never loses the press."""
    if gps is None:
        return None, problem
    try:
        return to_wgs84(gps.lat, gps.lon, gps.crs), None
    except CoordinateError as exc:
        return None, str(exc)


def code_in_use(session: Session, code: str) -> bool:
    return (
        session.scalar(
            select(Incident.id).where(Incident.code == code, Incident.status.in_([s.value for s in ACTIVE])).limit(1)
        )
        is not None
    )


def new_code(session: Session) -> str:
    # One indexed lookup per try, never a scan of every open incident's code: a city-wide backlog stays cheap.
    for length in (3, 3, 3, 4, 4, 5, 5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
        # An all-digit code ("347") reads as a keypad answer in an SMS reply ("1 347"): never hand one out.
        if not code.isdigit() and not code_in_use(session, code):
            return code
    return uuid.uuid4().hex[:6].upper()


def report(
    session: Session,
    ctx: DispatchContext,
    *,
    household: Household,
    kind: str,
    gps: GpsFix | None,
    note: str | None,
    idempotency_key: str | None,
    address: str | None = None,
    unusable_location: str | None = None,
) -> IntakeResult:
    """`unusable_location`: a location came with the press but could not be read (the caller says why)."""
    now = ctx.clock.now()
    if idempotency_key:
        same = session.scalar(
            select(Incident).where(Incident.household_id == household.id, Incident.idempotency_key == idempotency_key)
        )
        if same is not None:
            return IntakeResult(same, False)
    recent = session.scalar(
        select(Incident)
        .where(
            Incident.household_id == household.id,
            Incident.status.in_([s.value for s in ACTIVE]),
            Incident.reported_at >= now - MERGE_WINDOW,
        )
        .order_by(Incident.reported_at.desc())
        .limit(1)
    )
    if recent is not None:
        record(session, recent.id, "pressed_again", now, f"household:{household.id}", kind=kind)
        return IntakeResult(recent, False)

    directory = ctx.directory
    home = directory.buildings.get(household.building_id)
    fix, problem = _converted(gps, unusable_location) if not address else (None, None)
    door: dict[str, Any] = {}
    source: str
    building_id: str | None
    if address:
        # A typed address names the door: it wins over a GPS fix (tens of metres) and over the home building.
        match = directory.gazetteer.match(address)
        typed = directory.buildings.get(match.building_id or "")
        if typed is None:
            raise AddressNotResolved(address, match)
        lat, lon = typed.lat, typed.lon
        building_id, grid_id, zone_id = typed.id, typed.grid_id, typed.zone_id
        source = "address"
        p = match.parsed
        door = {
            "address": address,
            "confidence": match.confidence,
            **{k: v for k, v in (("entrance", p.entrance), ("floor", p.floor), ("unit", p.room)) if v is not None},
        }
    elif fix is not None:
        lat, lon = fix
        where = directory.community.locate(lon, lat)
        building_id, grid_id, zone_id = where.building_id, where.grid_id, where.zone_id
        source = "gps"
    elif home is not None:
        lat, lon = home.lat, home.lon
        building_id, grid_id, zone_id = home.id, home.grid_id, home.zone_id
        source = "household"
    elif problem is not None:
        raise IntakeError(422, f"{problem}; household {household.id} has no registered building to fall back on")
    else:
        raise IntakeError(409, f"household {household.id} has no registered building; send a location instead")
    out_of_area = grid_id is None
    try:
        plan = ctx.policy.plan_for(
            kind, out_of_area=out_of_area, wait_s=ctx.wait_s, alert_budget=ctx.alert_budget_per_day
        )
    except PolicyError as exc:
        raise IntakeError(422, str(exc)) from exc

    incident = Incident(
        id=uuid.uuid4().hex,
        code=new_code(session),
        kind=kind,
        status=Status.REPORTED.value,
        household_id=household.id,
        idempotency_key=idempotency_key,
        location_source=source,
        building_id=building_id,
        zone_id=zone_id,
        grid_id=grid_id,
        out_of_area=out_of_area,
        geom=from_shape(Point(lon, lat), srid=SRID),
        note=note,
        reported_at=now,
        escalation_level=-1,
        plan=plan.to_json(),
    )
    session.add(incident)
    session.flush()
    record(
        session,
        incident.id,
        "pressed",
        now,
        f"household:{household.id}",
        kind=kind,
        source=source,
        **({"gps": {"lat": gps.lat, "lon": gps.lon, "crs": gps.crs.value}} if gps and fix else {}),
        **({"location_unusable": problem} if problem else {}),
    )
    record(
        session,
        incident.id,
        "located",
        now,
        None,
        lat=round(lat, 7),
        lon=round(lon, 7),
        building=building_id,
        zone=zone_id,
        grid=grid_id,
        out_of_area=out_of_area,
        **door,
    )
    # Step 0 (matching, the first wave) runs in the worker a few milliseconds after this commits: the press is
    # acknowledged as soon as it is durable, and the due timer committed with it survives any crash.
    session.add(EscalationTimer(incident_id=incident.id, step=0, due_at=now, status="pending", attempts=0))
    return IntakeResult(incident, True, problem)

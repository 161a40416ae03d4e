"""Shaping incidents for the API, with the privacy rules of who may see what."""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dispatch.context import DispatchContext
from dispatch.incidents.models import Incident, IncidentEvent, Page
from dispatch.web.deps import Principal
from dispatch.web.schemas import EventOut, IncidentOut


def check_can_see(principal: Principal, incident: Incident) -> None:
    if principal.kind == "household":
        allowed = incident.household_id == principal.id
    elif principal.sees_everything:
        allowed = True
    elif principal.role in ("grid_secretary", "grid_worker"):
        allowed = incident.grid_id is not None and incident.grid_id == principal.grid_id
    elif principal.role == "building_leader":
        allowed = incident.building_id is not None and incident.building_id == principal.building_id
    else:
        allowed = False
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this incident is outside what your token may see")


def visible_to(principal: Principal) -> list[ColumnElement[bool]]:
    """The WHERE clauses that keep a listing inside what `principal` may see (the same rules as check_can_see)."""
    if principal.kind == "household":
        return [Incident.household_id == principal.id]
    if principal.sees_everything:
        return []
    if principal.role in ("grid_secretary", "grid_worker") and principal.grid_id:
        return [Incident.grid_id == principal.grid_id]
    if principal.role == "building_leader" and principal.building_id:
        return [Incident.building_id == principal.building_id]
    raise HTTPException(status.HTTP_403_FORBIDDEN, "your role cannot list incidents")


def incident_out(session: Session, ctx: DispatchContext, incident: Incident, *, with_timeline: bool) -> IncidentOut:
    building = ctx.directory.buildings.get(incident.building_id or "")
    accepted_name = None
    if incident.accepted_by:
        accepted_name = session.scalar(
            select(Page.name).where(Page.incident_id == incident.id, Page.person_id == incident.accepted_by)
        )
    alerted = session.scalar(select(func.count()).select_from(Page).where(Page.incident_id == incident.id)) or 0
    timeline: list[EventOut] = []
    if with_timeline:
        events = session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
        timeline = [EventOut(at=e.at, type=e.type, actor=e.actor, detail=e.detail or {}) for e in events]
    return IncidentOut(
        id=incident.id,
        code=incident.code,
        kind=incident.kind,
        status=incident.status,
        reported_at=incident.reported_at,
        building=incident.building_id,
        address=building.address if building else None,
        zone=incident.zone_id,
        grid=incident.grid_id,
        out_of_area=incident.out_of_area,
        escalation_level=incident.escalation_level,
        accepted_by=incident.accepted_by,
        accepted_by_name=accepted_name,
        alerted=alerted,
        timeline=timeline,
    )

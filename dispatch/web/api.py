"""The JSON API: report an incident, follow it, confirm it. Thin: parse, call one service, map errors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch.community.models import Household
from dispatch.escalation import engine
from dispatch.incidents import service
from dispatch.incidents.models import Incident
from dispatch.incidents.states import Status, TransitionError
from dispatch.incidents.transitions import transition
from dispatch.web.deps import PrincipalDep, RuntimeDep, SessionDep
from dispatch.web.schemas import ConfirmIn, IncidentIn, IncidentOut
from dispatch.web.views import check_can_see, incident_out
from geo.crs import CoordinateError

router = APIRouter(prefix="/api/v1")


@router.post(
    "/incidents",
    status_code=status.HTTP_201_CREATED,
    response_model=IncidentOut,
    responses={200: {"description": "the same press again (idempotency key or within 5 minutes)"}},
)
def report_incident(
    body: IncidentIn,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> IncidentOut:
    if principal.kind != "household":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "incidents are reported with a household device token")
    if body.household is not None and body.household != principal.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this device token belongs to another household")
    gps = service.GpsFix(body.location.lat, body.location.lon, body.location.crs) if body.location else None
    for attempt in (1, 2):
        try:
            with runtime.sessions.begin() as session:
                household = session.get(Household, principal.id)
                if household is None:
                    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown household")
                result = service.report(
                    session,
                    runtime.ctx,
                    household=household,
                    kind=body.kind,
                    gps=gps,
                    note=body.note,
                    idempotency_key=idempotency_key,
                )
                out = incident_out(session, runtime.ctx, result.incident, with_timeline=True)
            break
        except IntegrityError:
            # Two presses with one idempotency key raced; the loser reads the winner's incident.
            if attempt == 2:
                raise
        except CoordinateError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc
        except service.IntakeError as exc:
            raise HTTPException(exc.status_code, exc.reason) from exc
    runtime.worker.wake_outbox()
    response.headers["Location"] = f"/api/v1/incidents/{out.id}"
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: str, principal: PrincipalDep, runtime: RuntimeDep, session: SessionDep) -> IncidentOut:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident")
    check_can_see(principal, incident)
    return incident_out(session, runtime.ctx, incident, with_timeline=True)


@router.get("/incidents", response_model=list[IncidentOut])
def list_incidents(
    principal: PrincipalDep, runtime: RuntimeDep, session: SessionDep, active_only: bool = True, limit: int = 100
) -> list[IncidentOut]:
    query = select(Incident).order_by(Incident.reported_at.desc()).limit(max(1, min(limit, 500)))
    if active_only:
        query = query.where(Incident.closed_at.is_(None))
    if principal.kind == "household":
        query = query.where(Incident.household_id == principal.id)
    elif not principal.sees_everything:
        if principal.role in ("grid_secretary", "grid_worker"):
            query = query.where(Incident.grid_id == principal.grid_id)
        elif principal.role == "building_leader":
            query = query.where(Incident.building_id == principal.building_id)
        else:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role cannot list incidents")
    return [incident_out(session, runtime.ctx, i, with_timeline=False) for i in session.scalars(query)]


def _change_status(
    runtime: RuntimeDep, principal: PrincipalDep, incident_id: str, target: Status, note: str | None
) -> IncidentOut:
    now = runtime.ctx.clock.now()
    with runtime.sessions.begin() as session:
        incident = session.get(Incident, incident_id, with_for_update=session.get_bind().dialect.name != "sqlite")
        if incident is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident")
        check_can_see(principal, incident)
        try:
            done = transition(session, incident, target, now, actor=f"{principal.kind}:{principal.id}", note=note)
        except TransitionError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        if not done:
            raise HTTPException(status.HTTP_409_CONFLICT, f"the incident changed meanwhile: now {incident.status}")
        if target is not Status.ON_SCENE:
            engine.stop_search(session, incident)
            engine.stand_down_all(session, runtime.ctx, incident)
        out = incident_out(session, runtime.ctx, incident, with_timeline=True)
    runtime.worker.wake_outbox()
    return out


@router.post("/incidents/{incident_id}/confirm", response_model=IncidentOut)
def confirm_incident(incident_id: str, body: ConfirmIn, principal: PrincipalDep, runtime: RuntimeDep) -> IncidentOut:
    """A grid worker (or the duty officer) confirms: on scene, resolved or false alarm."""
    if principal.kind != "staff":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only community staff confirm incidents")
    return _change_status(runtime, principal, incident_id, Status(body.status), body.note)


@router.post("/incidents/{incident_id}/cancel", response_model=IncidentOut)
def cancel_incident(incident_id: str, principal: PrincipalDep, runtime: RuntimeDep) -> IncidentOut:
    """The household that pressed the button calls it off (pressed by mistake, or help no longer needed)."""
    if principal.kind != "household":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the reporting household cancels; staff confirm")
    return _change_status(runtime, principal, incident_id, Status.CANCELLED, None)
